"""What subscribers receive: alerts, corrections and digests."""

from __future__ import annotations

from datetime import tzinfo

from bot.models import Incident, IncidentChange
from bot.render.incidents import esc, incident_card


def alert_text(incident: Incident, zone: tzinfo) -> str:
    return f"🚨 <b>New incident</b>\n\n{incident_card(incident, zone)}"


def correction_text(change: IncidentChange, zone: tzinfo) -> str:
    incident = change.after
    if incident.is_retracted:
        reason = incident.retraction_reason or "no reason given"
        return f"↩️ <b>Retracted:</b> #{incident.id} {esc(change.before.title)}\n{esc(reason)}"
    return (
        f"✏️ <b>Correction</b> to #{incident.id} ({esc(', '.join(change.fields))} changed)\n\n"
        f"{incident_card(incident, zone)}"
    )
