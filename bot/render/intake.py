"""What admins see of the intake: proposals, the review queue and the feeds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from bot.intake.records import Feed, Proposal, SkippedItem
from bot.intake.service import FeedRead
from bot.models import Draft, DraftPurpose
from bot.newsroom.forms import FormError, form_text, incident_from_fields
from bot.render.incidents import esc, format_time, incident_details


def proposal_text(
    proposal: Proposal,
    feed_name: str,
    differences: Sequence[tuple[str, str, str]] | None,
    zone: tzinfo,
    now: datetime,
) -> str:
    """A proposal as admins see it; `differences` None once it has been decided."""
    lines = [f"📥 <b>Proposed draft P{proposal.id}</b> from {esc(feed_name)} — not published"]
    if proposal.update_of is not None:
        lines.append(f"⚠️ <b>Possible update of #{proposal.update_of}</b>")
    elif proposal.update_of_proposal is not None:
        lines.append(f"⚠️ <b>Possibly the same attack as P{proposal.update_of_proposal}</b>")
    if differences is not None and (
        proposal.update_of is not None or proposal.update_of_proposal is not None
    ):
        if differences:
            lines.append("What this report tells otherwise:")
            lines.extend(
                f"• {esc(key)}: {esc(before)} → {esc(after)}" for key, before, after in differences
            )
        else:
            lines.append("It tells nothing new in casualties, claim, perpetrator or severity.")
    lines.extend(["", f"<b>{esc(proposal.title)}</b>", ""])
    try:
        lines.append(incident_details(incident_from_fields(proposal.fields, zone, now), zone))
    except FormError as error:
        lines.append(f"<pre>{esc(form_text(proposal.fields))}</pre>")
        lines.append("Needs fixing before it can be used: " + esc("; ".join(error.problems)))
    if proposal.notes:
        lines.append("")
        lines.append("<i>Check:</i>")
        lines.extend(f"• {esc(note)}" for note in proposal.notes)
    return "\n".join(lines)


def proposal_decided(text_html: str, status: str, actor: str) -> str:
    return f"{text_html}\n\n<b>{esc(status)} by {esc(actor)}.</b>"


def queue_list(
    proposals: Sequence[Proposal],
    awaiting_approval: Sequence[tuple[Draft, list[str]]],
    required: int,
    zone: tzinfo,
) -> str:
    """The proposals waiting, then the drafts waiting for a second approval; oldest first."""
    approvals = _approval_lines(awaiting_approval, required)
    if not proposals:
        return "\n\n".join(["The review queue is empty: no proposal is waiting.", *approvals])
    lines = [f"<b>Review queue</b> — {len(proposals)} waiting, oldest first", ""]
    for proposal in proposals:
        update = ""
        if proposal.update_of is not None:
            update = f" · possible update of #{proposal.update_of}"
        lines.append(
            f"<b>P{proposal.id}</b> · {format_time(proposal.created_at, zone)}{update}\n"
            f"{esc(proposal.title)} — {esc(proposal.location)}, {esc(proposal.country)}"
        )
    lines.append("\n/queue N shows one again with its buttons.")
    return "\n".join([*lines, *(f"\n{section}" for section in approvals)])


def _approval_lines(waiting: Sequence[tuple[Draft, list[str]]], required: int) -> list[str]:
    if not waiting:
        return []
    lines = ["<b>Waiting for a second approval</b>"]
    for draft, names in waiting:
        title = esc(draft.fields.get("title", [""])[0])
        if draft.purpose is not DraftPurpose.PUBLISH:
            what = "correction" if draft.purpose is DraftPurpose.EDIT else "retraction"
            title = f"{what} of #{draft.changes_incident}"
        lines.append(
            f"Draft {draft.id} · {title} — approved by {esc(', '.join(names))} "
            f"({len(names)}/{required})"
        )
    return ["\n".join(lines)]


def feed_list(feeds: Sequence[Feed], zone: tzinfo) -> str:
    if not feeds:
        return (
            "No feeds are read. /feeds add URL adds one (or /feeds add example, the bundled "
            "example feed)."
        )
    lines = ["<b>Feeds</b>", ""]
    for feed in feeds:
        lines.extend([_feed_summary(feed, zone), ""])
    lines.append("/feeds N: the items skipped and why · /feeds add URL · /feeds remove N")
    return "\n".join(lines)


def feed_detail(feed: Feed, skipped: Sequence[SkippedItem], zone: tzinfo) -> str:
    lines = [_feed_summary(feed, zone), ""]
    if not skipped:
        lines.append("No item of this feed has been skipped.")
    else:
        lines.append(f"<b>Last {len(skipped)} skipped items</b>")
        for item in skipped:
            lines.append(f"• {esc(item.title or '(untitled)')} — {esc(item.reason)}")
    return "\n".join(lines)


def feed_added(feed: Feed, read: FeedRead, zone: tzinfo) -> str:
    if read.error:
        outcome = f"Reading it failed: {esc(read.error)}. It will be tried again."
    else:
        outcome = (
            f"Read it: {len(read.proposals)} proposed, {read.skipped} skipped "
            f"(/feeds {feed.id} says why)."
        )
    return f"Added feed {feed.id}: {esc(feed.name)}\n{outcome}"


def _feed_summary(feed: Feed, zone: tzinfo) -> str:
    origin = " (config file)" if feed.from_config else ""
    lines = [
        f"<b>{feed.id}. {esc(feed.title or 'untitled')}</b>{origin}",
        esc(feed.url),
        f"Last read: {_when(feed.last_fetch_at, zone)} · last new item: "
        f"{_when(feed.last_new_item_at, zone)}",
        f"Proposed {feed.proposed} · skipped {feed.skipped}",
    ]
    if feed.last_error:
        lines.append(
            f"⚠️ Last error: {esc(feed.last_error)} (next try {_when(feed.next_fetch_at, zone)})"
        )
    return "\n".join(lines)


def _when(moment: datetime | None, zone: tzinfo) -> str:
    return format_time(moment, zone) if moment else "never"
