"""Deciding, when an outbox item's turn comes, what it says — or that it should wait."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.delivery.composition import Composition, Drop, Hold, Send
from bot.models import OutboxItem, OutboxKind, OutgoingMessage
from bot.render_delivery import alert_text
from bot.schedule import quiet_until
from storage.db import Database
from storage.incidents import get_incident
from storage.subscribers import get_subscription

QUIET_HOURS_EXEMPT_SEVERITY = 5


class OutboxComposer:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def __call__(self, item: OutboxItem) -> Composition:
        subscription = await get_subscription(self._db.reader, item.chat_id)
        if subscription is None or not subscription.active:
            return Drop("no longer subscribed")
        if item.kind is not OutboxKind.ALERT:
            assert item.payload is not None, f"{item.kind} items carry their message"
            return Send(item.payload)
        assert item.incident_id is not None
        incident = await get_incident(self._db.reader, item.incident_id)
        if incident is None or incident.is_retracted:
            return Drop("incident retracted before the alert went out")
        if incident.severity < QUIET_HOURS_EXEMPT_SEVERITY:
            until = quiet_until(subscription, self._clock.now())
            if until is not None:
                return Hold(until)
        zone = ZoneInfo(subscription.timezone)
        return Send(OutgoingMessage(html=alert_text(incident, zone)))
