"""What admins see: draft previews, form problems, corrections and the audit log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo

from bot.models import AuditEntry, DraftPurpose, IncidentChange
from bot.newsroom.changes import AwaitingApproval, PendingChange, Preview
from bot.newsroom.forms import Fields, form_text
from bot.render.corrections import what_changed
from bot.render.incidents import esc, format_date, format_time, incident_details


def preview(shown: Preview, zone: tzinfo) -> str:
    lines = [
        f"<b>Draft {shown.draft_id} — not published yet</b>",
        "",
        f"<b>{esc(shown.incident.title)}</b>",
        "",
        incident_details(shown.incident, zone),
    ]
    for other in shown.possible_duplicates:
        lines.append(
            f"\n⚠️ <b>Possible duplicate</b> of #{other.id}: {esc(other.title)} "
            f"({format_date(other.occurred_at, zone)}, {esc(other.location)})"
        )
    return "\n".join(lines)


def pending_change(shown: PendingChange) -> str:
    """A correction or retraction waiting for a second approval."""
    incident = shown.incident
    if shown.purpose is DraftPurpose.RETRACT:
        return (
            f"<b>Retraction of #{incident.id} — not applied yet</b>\n\n"
            f"<b>{esc(incident.title)}</b>\nReason: {esc(shown.fields['reason'][0])}"
        )
    return (
        f"<b>Correction of #{incident.id} — not applied yet</b>\n\n"
        f"<b>{esc(incident.title)}</b>\n<pre>{esc(form_text(shown.fields))}</pre>"
    )


def collected_sources(sources: Sequence[str]) -> str:
    """What a guided /post has collected at its sources step so far."""
    lines = [f"<b>Sources so far ({len(sources)}):</b>"]
    lines.extend(f"{number}. {esc(source)}" for number, source in enumerate(sources, 1))
    lines.append("\nSend more, or “done” to go on.")
    return "\n".join(lines)


def approvals_line(waiting: AwaitingApproval) -> str:
    """ "Approved by Alice (1/2)": who has approved a draft under the two-person rule."""
    names = ", ".join(name for _, name in waiting.approvals)
    count = f"({len(waiting.approvals)}/{waiting.required})"
    if waiting.purpose is DraftPurpose.PUBLISH:
        return f"Approved by {names} {count}"
    what = "Correction" if waiting.purpose is DraftPurpose.EDIT else "Retraction"
    return f"{what} of #{waiting.incident_id} approved by {names} {count}"


def form_problems(problems: Sequence[str]) -> str:
    lines = ["<b>The form needs fixing:</b>"]
    lines.extend(f"• {esc(problem)}" for problem in problems)
    lines.append("\nNothing was saved. Send it again with these corrected.")
    return "\n".join(lines)


def editable_form(command: str, fields: Fields, note: str, *, blanks: bool = False) -> str:
    """A form the admin can copy, change and send back."""
    form = form_text(fields, blanks=blanks)
    return f"{esc(note)}\n\n<pre>{esc(command)}\n{esc(form)}</pre>"


def correction_done(change: IncidentChange, zone: tzinfo) -> str:
    incident = change.after
    if incident.is_retracted:
        return f"#{incident.id} is retracted: {esc(incident.retraction_reason or '')}"
    lines = [f"#{incident.id} updated:"]
    lines.extend(esc(line) for line in what_changed(change.before, incident, zone))
    return "\n".join(lines)


def audit_log(entries: Sequence[AuditEntry], zone: tzinfo) -> str:
    if not entries:
        return "The audit log is empty."
    lines = [f"<b>Last {len(entries)} admin actions</b>", ""]
    for entry in entries:
        detail = audit_detail(entry.detail)
        lines.append(
            f"{format_time(entry.at, zone)} · user <code>{entry.actor_id}</code> · "
            f"<b>{esc(entry.action)}</b> {esc(entry.subject)}"
            + (f" — {esc(detail)}" if detail else "")
        )
    return "\n".join(lines)


def audit_detail(detail: Mapping[str, object]) -> str:
    """An audit entry's details as words: "changed: injured, claim; 3 corrections sent"."""
    parts = []
    for name, value in detail.items():
        if isinstance(value, list):
            shown = "; ".join(str(item) for item in value) or "nothing"
        elif isinstance(value, dict):
            shown = audit_detail(value)
        else:
            shown = str(value)
        parts.append(f"{name.replace('_', ' ')}: {shown}")
    return ", ".join(parts)
