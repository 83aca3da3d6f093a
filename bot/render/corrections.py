"""What a correction changed, in words: "injured: 2 → 4", "claim: no claim recorded → …"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo

from bot.models import Count, IncidentContent, IncidentVersion, Source
from bot.render.incidents import (
    DIRECTION_LABELS,
    claim_text,
    esc,
    format_date,
    format_time,
    perpetrator_text,
    place_of,
    verification_text,
)


def _count(count: Count | None) -> str:
    if count is None:
        return "not reported"
    return "none" if count.is_none else str(count)


def _coordinates(incident: IncidentContent) -> str:
    if incident.latitude is None or incident.longitude is None:
        return "none given"
    return f"{incident.latitude:.4f}, {incident.longitude:.4f}"


# Each fact as a reader names it, and how its value reads; in the card's order.
_FACTS: tuple[tuple[str, Callable[[IncidentContent, tzinfo], str]], ...] = (
    ("title", lambda i, zone: i.title),
    ("when", lambda i, zone: format_time(i.occurred_at, zone)),
    ("where", lambda i, zone: place_of(i)),
    ("coordinates", lambda i, zone: _coordinates(i)),
    ("type", lambda i, zone: i.event_type),
    ("subtype", lambda i, zone: i.sub_event_type or "none given"),
    ("direction", lambda i, zone: DIRECTION_LABELS[i.direction]),
    ("killed", lambda i, zone: _count(i.killed)),
    ("injured", lambda i, zone: _count(i.injured)),
    ("perpetrator", lambda i, zone: perpetrator_text(i)),
    ("target", lambda i, zone: i.target or "not reported"),
    ("claim", lambda i, zone: claim_text(i)),
    ("status", lambda i, zone: verification_text(i)),
    ("severity", lambda i, zone: str(i.severity)),
    ("tags", lambda i, zone: ", ".join(i.tags) or "none"),
)


def what_changed(before: IncidentContent, after: IncidentContent, zone: tzinfo) -> list[str]:
    """One plain-text line per fact that differs: "injured: 2 → 4"."""
    lines = []
    for name, value in _FACTS:
        old, new = value(before, zone), value(after, zone)
        if old != new:
            lines.append(f"{name}: {old} → {new}")
    old_sources, new_sources = (
        [_source_text(source) for source in incident.sources] for incident in (before, after)
    )
    added = [source for source in new_sources if source not in old_sources]
    removed = [source for source in old_sources if source not in new_sources]
    if added:
        lines.append(f"source added: {'; '.join(added)}")
    if removed:
        lines.append(f"source removed: {'; '.join(removed)}")
    if before.summary != after.summary:
        lines.append("summary rewritten")
    return lines


def _source_text(source: Source) -> str:
    return f"{source.name} ({source.url})" if source.url else source.name


def correction_lines(versions: Sequence[IncidentVersion], zone: tzinfo) -> list[str]:
    """ "Corrected 6 Aug 2024: injured: 2 → 4; claim: …" for each stored correction."""
    lines = []
    for version in versions:
        when = format_date(version.changed_at, zone)
        if version.change == "retract":
            lines.append(f"Retracted {when}")
        elif changes := what_changed(version.before, version.after, zone):
            lines.append(f"Corrected {when}: {'; '.join(changes)}")
    return lines


def history_text(incident_id: int, versions: Sequence[IncidentVersion], zone: tzinfo) -> str:
    """Every change to an incident, oldest first: who changed what, and when."""
    if not versions:
        return f"#{incident_id} has not been changed since it was published."
    lines = [f"<b>History of #{incident_id}</b>", ""]
    for version in versions:
        who = f"user <code>{version.changed_by}</code>"
        when = format_time(version.changed_at, zone)
        verb = "retracted it" if version.change == "retract" else "edited it"
        lines.append(f"<b>Change {version.version}</b> · {when} · {who} {verb}")
        lines.extend(f"  {esc(line)}" for line in what_changed(version.before, version.after, zone))
        if version.change == "retract":
            lines.append(f"  reason: {esc(version.after.retraction_reason or 'none given')}")
        lines.append("")
    lines.append(
        f"Before change 1 it was as first published; /incident {incident_id} shows it now."
    )
    return "\n".join(lines)
