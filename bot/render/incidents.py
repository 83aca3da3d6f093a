"""Turning incidents and troop figures into Telegram HTML.

Every stored or user-supplied string passes through `esc` before it is placed
in markup: a title containing "<" or "&" must not break the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from html import escape

from bot.models import Direction, Incident, IncidentContent, Source, TroopSummary

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


def casualties(incident: IncidentContent) -> str:
    parts = []
    if incident.killed is not None:
        parts.append(f"{incident.killed} killed")
    if incident.injured is not None:
        parts.append(f"{incident.injured} injured")
    return ", ".join(parts) if parts else "no casualties reported"


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


def incident_card(incident: Incident, zone: tzinfo) -> str:
    title = f"<b>{esc(incident.title)}</b>"
    if incident.is_retracted:
        title = f"<s>{title}</s>"
    lines = [f"{title}  <i>#{incident.id}</i>"]
    if incident.is_retracted:
        reason = incident.retraction_reason or "no reason given"
        lines.append(f"<b>Retracted:</b> {esc(reason)}")
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
    lines.append(f"<b>Casualties:</b> {esc(casualties(incident))}")
    if incident.perpetrator:
        lines.append(f"<b>Attributed to:</b> {esc(incident.perpetrator)}")
    if incident.target:
        lines.append(f"<b>Target:</b> {esc(incident.target)}")
    lines.append(f"<b>Direction:</b> {esc(DIRECTION_LABELS[incident.direction])}")
    claim = incident.claimed_by or "no one has claimed responsibility"
    lines.append(f"<b>Claimed by:</b> {esc(claim)}")
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
            f"{esc(str(figure.count))} troops"
        )
        lines.append(
            f"as of {figure.as_of.day} {figure.as_of:%b %Y} · {source_link(figure.source)}"
        )
        if summary.previous is not None:
            lines.append(_troop_change(summary))
        lines.append("")
    return "\n".join(lines).rstrip()


def _troop_change(summary: TroopSummary) -> str:
    assert summary.previous is not None
    before = summary.previous
    change = summary.change or 0
    if change == 0:
        movement = "unchanged"
    else:
        movement = f"{'up' if change > 0 else 'down'} {abs(change):,}"
    return f"{movement} from {esc(str(before.count))} as of {before.as_of.day} {before.as_of:%b %Y}"
