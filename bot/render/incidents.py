"""Turning incidents and troop figures into Telegram HTML.

Every stored or user-supplied string passes through `esc` before it is placed
in markup: a title containing "<" or "&" must not break the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from html import escape

from bot.models import (
    Count,
    Direction,
    Incident,
    IncidentContent,
    SearchResults,
    Source,
    TroopFigure,
    TroopSummary,
    Verification,
)

DIRECTION_LABELS = {
    Direction.ON_COALITION: "attack on US/coalition forces",
    Direction.BY_COALITION: "strike by US/coalition forces",
    Direction.OTHER: "other (not on or by US/coalition forces)",
}
DIRECTION_PLURALS = {
    Direction.ON_COALITION: "attacks on US/coalition forces",
    Direction.BY_COALITION: "strikes by US/coalition forces",
    Direction.OTHER: "other incidents",
}
_DIRECTION_SINGULARS = {
    Direction.ON_COALITION: "attack on US/coalition forces",
    Direction.BY_COALITION: "strike by US/coalition forces",
    Direction.OTHER: "other incident",
}


def counted_direction(count: int, direction: Direction) -> str:
    """ "1 attack on US/coalition forces", "2 strikes by US/coalition forces"."""
    words = _DIRECTION_SINGULARS if count == 1 else DIRECTION_PLURALS
    return f"{count:,} {words[direction]}"


_SEVERITY_WORDS = {1: "minor", 2: "low", 3: "moderate", 4: "high", 5: "severe"}


def esc(text: str) -> str:
    return escape(text, quote=True)


def format_time(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def format_date(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.day} {local:%b %Y}"


def place_of(incident: IncidentContent) -> str:
    parts = [incident.location]
    if incident.admin1 and incident.admin1 != incident.location:
        parts.append(incident.admin1)
    parts.append(incident.country)
    return ", ".join(parts)


def severity_badge(severity: int) -> str:
    return f"{'●' * severity}{'○' * (5 - severity)} {_SEVERITY_WORDS[severity]}"


def casualties(incident: IncidentContent, *, in_full: bool = False) -> str:
    """Three states for each count: not reported, reported as none, or a figure.

    A list line names what is known; `in_full` (the card) also names what is not.
    """
    counts = ((incident.killed, "killed"), (incident.injured, "injured"))
    if all(count is None for count, _ in counts):
        return "casualties not reported"
    if all(count is not None and count.is_none for count, _ in counts):
        return "no casualties"
    told = ", ".join(count_text(count, word) for count, word in counts if count is not None)
    unknown = [f"{word} not reported" for count, word in counts if count is None]
    return "; ".join([told, *unknown]) if in_full else told


def count_text(count: Count | None, word: str) -> str:
    """ "at least 5 injured", "no one killed"; "" when not reported."""
    if count is None:
        return ""
    return f"no one {word}" if count.is_none else f"{count} {word}"


def perpetrator_text(incident: IncidentContent) -> str:
    if incident.perpetrator:
        return incident.perpetrator
    return "none, as reported" if incident.no_perpetrator else "not reported"


def claim_text(incident: IncidentContent) -> str:
    if incident.claimed_by:
        return incident.claimed_by
    return "no group has claimed" if incident.no_claim else "no claim recorded"


_VERIFICATION_WORDS = {
    Verification.CONFIRMED: "confirmed",
    Verification.REPORTED: "reported, not confirmed",
    Verification.CLAIMED: "claimed by the perpetrator only, not confirmed",
    Verification.DISPUTED: "disputed: sources contradict each other",
}


def verification_text(incident: IncidentContent) -> str:
    words = _VERIFICATION_WORDS[incident.verification]
    if incident.verification is Verification.CONFIRMED and incident.confirmed_by:
        words += f" by {incident.confirmed_by}"
    return words


def source_link(source: Source) -> str:
    if source.url is None:
        return esc(source.name)
    return f'<a href="{esc(str(source.url))}">{esc(source.name)}</a>'


def incident_line(incident: Incident, zone: tzinfo) -> str:
    """Two lines for a list: id, date and place; then the title and casualties."""
    return (
        f"<b>#{incident.id}</b> · {format_date(incident.occurred_at, zone)} · "
        f"{esc(place_of(incident))}\n"
        f"{esc(incident.title)} — {esc(casualties(incident))}"
    )


def incident_list(heading: str, incidents: Sequence[Incident], zone: tzinfo) -> str:
    lines = [f"<b>{esc(heading)}</b>", ""]
    for incident in incidents:
        lines.append(incident_line(incident, zone))
        lines.append("")
    lines.append("Full card: /incident ID")
    return "\n".join(lines)


# Quotes a user put around the words, which the heading's own quotes replace.
_QUOTES = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb"  # straight, curly, guillemets


def search_results(text: str, results: SearchResults, zone: tzinfo, where: str = "") -> str:
    """The matches of /search (in `where`, " in Iraq"), newest first, saying how many
    there are beyond them."""
    heading = f"Incidents matching “{text.strip(_QUOTES)}”{where}"
    shown = len(results.incidents)
    if results.total <= shown:
        return incident_list(heading, results.incidents, zone)
    about = "" if results.exact else "about "
    return incident_list(
        f"{heading} — showing the {shown} newest of {about}{results.total:,}",
        results.incidents,
        zone,
    )


def incident_card(incident: Incident, zone: tzinfo, corrections: Sequence[str] = ()) -> str:
    """The full card; `corrections` are its "Corrected <date>: …" lines, oldest first."""
    title = f"<b>{esc(incident.title)}</b>"
    if incident.is_retracted:
        title = f"<s>{title}</s>"
    lines = [f"{title}  <i>#{incident.id}</i>"]
    if incident.is_retracted:
        reason = incident.retraction_reason or "no reason given"
        lines.append(f"<b>Retracted:</b> {esc(reason)}")
    lines.extend(f"<i>{esc(line)}</i>" for line in corrections)
    return "\n".join([*lines, "", incident_details(incident, zone)])


def incident_details(incident: IncidentContent, zone: tzinfo) -> str:
    """Everything about an incident below its title, for cards and draft previews."""
    lines = [f"<b>When:</b> {format_time(incident.occurred_at, zone)}"]
    where = esc(place_of(incident))
    if incident.latitude is not None and incident.longitude is not None:
        where += f" ({incident.latitude:.4f}, {incident.longitude:.4f})"
    lines.append(f"<b>Where:</b> {where}")
    what = incident.event_type
    if incident.sub_event_type:
        what += f" — {incident.sub_event_type}"
    lines.append(f"<b>What:</b> {esc(what)}")
    lines.append(f"<b>Casualties:</b> {esc(casualties(incident, in_full=True))}")
    lines.append(f"<b>Attributed to:</b> {esc(perpetrator_text(incident))}")
    if incident.target:
        lines.append(f"<b>Target:</b> {esc(incident.target)}")
    lines.append(f"<b>Direction:</b> {esc(DIRECTION_LABELS[incident.direction])}")
    lines.append(f"<b>Claimed by:</b> {esc(claim_text(incident))}")
    lines.append(f"<b>Status:</b> {esc(verification_text(incident))}")
    lines.append(f"<b>Severity:</b> {severity_badge(incident.severity)}")
    if incident.summary:
        lines.extend(["", esc(incident.summary)])
    lines.append("")
    links = ", ".join(source_link(source) for source in incident.sources)
    lines.append(f"<b>Sources:</b> {links}")
    if incident.tags:
        lines.append(" ".join(f"#{esc(tag.replace('-', '_'))}" for tag in incident.tags))
    return "\n".join(lines)


def troop_report(summaries: Sequence[TroopSummary]) -> str:
    lines = ["<b>Troop deployments</b>", ""]
    for summary in summaries:
        figure = summary.latest
        lines.append(
            f"<b>{esc(figure.force)} in {esc(figure.host_country)}:</b> "
            f"{esc(str(figure.count))} troops ({figure.kind.value})"
        )
        lines.append(
            f"as of {figure.as_of.day} {figure.as_of:%b %Y} · {source_link(figure.source)}"
        )
        if summary.previous is not None:
            lines.append(esc(troop_change(summary)))
        lines.append("")
    return "\n".join(lines).rstrip()


def troop_figure_text(figure: TroopFigure) -> str:
    """ "about 900 (estimate, Dec 2023)"."""
    return f"{figure.count} ({figure.kind.value}, {figure.as_of:%b %Y})"


def troop_change(summary: TroopSummary) -> str:
    """The change when it is known (both exact, one kind); otherwise both figures."""
    before = summary.previous
    assert before is not None
    change = summary.change
    if change is None:
        return f"{troop_figure_text(before)} → {troop_figure_text(summary.latest)}"
    movement = "unchanged" if change == 0 else f"{'up' if change > 0 else 'down'} {abs(change):,}"
    return f"{movement} from {before.count} as of {before.as_of.day} {before.as_of:%b %Y}"
