"""What subscribers receive: alerts, corrections and digests."""

from __future__ import annotations

from datetime import tzinfo

from bot.models import Incident, IncidentChange
from bot.render.corrections import what_changed
from bot.render.incidents import esc, incident_card


def alert_text(incident: Incident, zone: tzinfo) -> str:
    return f"🚨 <b>New incident</b>\n\n{incident_card(incident, zone)}"


def correction_text(change: IncidentChange, zone: tzinfo) -> str:
    incident = change.after
    if incident.is_retracted:
        reason = incident.retraction_reason or "no reason given"
        return f"↩️ <b>Retracted:</b> #{incident.id} {esc(change.before.title)}\n{esc(reason)}"
    changes = "\n".join(esc(line) for line in what_changed(change.before, incident, zone))
    return f"✏️ <b>Correction</b> to #{incident.id}\n{changes}\n\n{incident_card(incident, zone)}"
