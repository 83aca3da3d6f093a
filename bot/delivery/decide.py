"""Deciding, when an outbox item's turn comes, what it says — or that it should wait."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.delivery.outcomes import Drop, Hold, Outcome, Send
from bot.models import OutboxItem, OutboxKind, OutgoingMessage
from bot.render.delivery import alert_text
from bot.subscriptions.schedule import quiet_until
from storage.charts import get_chart
from storage.db import Database
from storage.escalations import notice_line
from storage.incidents import get_incident
from storage.subscribers import get_subscription

QUIET_HOURS_EXEMPT_SEVERITY = 5
# A chart goes up once; other copies wait for its file id, unless the upload seems lost.
UPLOAD_PATIENCE = timedelta(seconds=30)
UPLOAD_RECHECK = timedelta(seconds=2)


class OutboxDecider:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._uploads: dict[str, datetime] = {}

    async def __call__(self, item: OutboxItem) -> Outcome:
        subscription = await get_subscription(self._db.reader, item.chat_id)
        if subscription is None or not subscription.active:
            return Drop("no longer subscribed")
        if item.kind is not OutboxKind.ALERT:
            assert item.payload is not None, f"{item.kind} items carry their message"
            return await self._with_chart(item.payload)
        assert item.incident_id is not None
        incident = await get_incident(self._db.reader, item.incident_id)
        if incident is None or incident.is_retracted:
            return Drop("incident retracted before the alert went out")
        if incident.severity < QUIET_HOURS_EXEMPT_SEVERITY:
            until = quiet_until(subscription, self._clock.now())
            if until is not None:
                return Hold(until)
        if item.payload is not None:
            # An escalation notice for a follower without an alert waiting: it rides on its
            # attack (dropped if that is retracted, held through quiet hours like it).
            return Send(item.payload)
        zone = ZoneInfo(subscription.timezone)
        html = alert_text(incident, zone)
        line = await notice_line(self._db.reader, incident.id, item.chat_id)
        return Send(OutgoingMessage(html=f"{html}\n\n{line}" if line else html))

    async def _with_chart(self, message: OutgoingMessage) -> Outcome:
        """A message naming a stored chart gets its picture: by file id once uploaded."""
        if message.chart_key is None:
            return Send(message)
        chart = await get_chart(self._db.reader, message.chart_key)
        if chart is None:
            return Drop("the chart is no longer stored")
        if chart.file_id is not None:
            return Send(message.model_copy(update={"photo_file_id": chart.file_id}))
        now = self._clock.now()
        started = self._uploads.get(chart.key)
        if started is not None and now - started < UPLOAD_PATIENCE:
            # Someone's copy is being uploaded: wait for its file id instead of uploading again.
            return Hold(now + UPLOAD_RECHECK)
        self._uploads[chart.key] = now
        return Send(message.model_copy(update={"photo_png": chart.png}))
