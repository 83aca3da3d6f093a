"""Deciding, when an outbox row's turn comes, what it says — or that it should wait.

Work is done per rendering, not per recipient: an alert is rendered once for each
(incident version, time zone) and a digest or correction parsed once for each
distinct text; every recipient of the same rendering gets the same prepared
parameters. What differs per recipient (still subscribed, quiet hours) comes with
the claimed row itself, so a row whose rendering is known costs no database read.

An alert held through quiet hours is decided again when it is released (at their end, or
earlier when the chat's choices or the incident change): it is dropped if the incident no
longer matches the chat's choices, held on if the quiet hours still last and the incident
is not severity 5, and sent otherwise.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import TypeVar
from zoneinfo import ZoneInfo

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode

from bot.clock import Clock
from bot.delivery.outcomes import Drop, Hold, Outcome, Prepared, Send
from bot.models import Incident, OutboxKind, OutgoingMessage
from bot.render.delivery import alert_text
from bot.subscriptions.areas import alert_place
from bot.subscriptions.escalation import notice_text
from bot.subscriptions.schedule import quiet_hours_end
from storage.charts import get_chart
from storage.db import Database
from storage.escalations import has_notice, notice_for
from storage.incidents import get_incident
from storage.outbox import HELD_FOR_QUIET_HOURS, Claimed, chat_matches

QUIET_HOURS_EXEMPT_SEVERITY = 5
# A chart goes up once; other copies wait for its file id, unless the upload seems lost.
UPLOAD_PATIENCE = timedelta(seconds=30)
UPLOAD_RECHECK = timedelta(seconds=2)
# How long "this incident has no escalation notice" is trusted before it is looked up again.
NOTICE_RECHECK_SECONDS = 1.0
# Renderings kept at most per cache; a full cache starts afresh (they are cheap to redo).
CACHE_SIZE = 4096

# As the application's Defaults have PTB send them.
_NO_LINK_PREVIEW = LinkPreviewOptions(is_disabled=True).to_json()
_NOT_SUBSCRIBED = Drop("no longer subscribed")
_RETRACTED = Drop("incident retracted before the alert went out")
_NO_LONGER_MATCHES = Drop("incident no longer matches the subscription")

K = TypeVar("K")
V = TypeVar("V")


def prepare(message: OutgoingMessage) -> Prepared:
    """The parameters PTB's send_message or send_photo would post for `message`."""
    parameters = {"parse_mode": ParseMode.HTML.value}
    if message.photo_file_id is None and message.photo_png is None and message.chart_key is None:
        return Prepared(
            "sendMessage",
            {"text": message.html, "link_preview_options": _NO_LINK_PREVIEW, **parameters},
        )
    parameters["caption"] = message.html
    if message.photo_file_id is not None:
        return Prepared("sendPhoto", {"photo": message.photo_file_id, **parameters})
    return Prepared("sendPhoto", parameters, message.photo_png, message.chart_key)


class OutboxDecider:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._alerts: dict[tuple[int, str, str], tuple[str, Prepared]] = {}
        self._notices: dict[int, tuple[float, bool]] = {}  # real time, not the bot's clock
        self._incidents: dict[int, tuple[str, Incident]] = {}
        self._messages: dict[str, Prepared] = {}  # by the payload's JSON text
        self._uploads: dict[str, datetime] = {}

    async def __call__(self, row: Claimed) -> Outcome:
        if row.active != 1:
            return _NOT_SUBSCRIBED
        if row.kind == OutboxKind.ALERT:
            return await self._alert(row)
        assert row.payload is not None, f"{row.kind} rows carry their message"
        if row.kind == OutboxKind.CORRECTION:
            # A correction waits through quiet hours as its alert did (a severity-5
            # incident's alert did not wait, nor do its corrections).
            until = self._quiet_until(row)
            if until is not None:
                return Hold(until, HELD_FOR_QUIET_HOURS)
        prepared = self._message(row.payload)
        if prepared.chart_key is None:
            return Send(prepared)
        return await self._with_chart(row.payload, prepared)

    def _message(self, payload: str) -> Prepared:
        """A stored message, parsed once for every row that carries the same text."""
        prepared = self._messages.get(payload)
        if prepared is None:
            prepared = prepare(OutgoingMessage.model_validate_json(payload))
            _remember(self._messages, payload, prepared)
        return prepared

    def chart_uploaded(self, chart_key: str, file_id: str) -> None:
        """Telegram has the chart now: the copies still to go name it by `file_id`."""
        for payload, prepared in list(self._messages.items()):
            if prepared.chart_key == chart_key:
                parameters = {**prepared.parameters, "photo": file_id}
                self._messages[payload] = Prepared(prepared.endpoint, parameters)

    async def _alert(self, row: Claimed) -> Outcome:
        if row.incident_status != "published" or row.incident_version is None:
            return _RETRACTED
        assert row.incident_id is not None and row.timezone
        zone = ZoneInfo(row.timezone)
        # Released early (the chat's choices or the incident changed) or at the end of the
        # quiet hours, an alert is decided again; an escalation notice (with a payload) goes
        # to followers whose choices leave the alert out, so it is not matched again.
        if row.held and row.payload is None and not await self._still_matches(row):
            return _NO_LONGER_MATCHES
        until = self._quiet_until(row)
        if until is not None:
            return Hold(until, HELD_FOR_QUIET_HOURS)
        if row.payload is not None:
            # An escalation notice for a follower without an alert waiting: it rides on its
            # attack (dropped if that is retracted, held through quiet hours like it).
            return Send(self._message(row.payload))
        key = (row.incident_id, row.incident_version, row.timezone)
        rendered = self._alerts.get(key)
        if rendered is None:
            incident = await self._incident(row.incident_id, row.incident_version)
            if incident is None or incident.is_retracted:
                return _RETRACTED
            html = alert_text(incident, zone)
            rendered = (html, prepare(OutgoingMessage(html=html)))
            _remember(self._alerts, key, rendered)
        if not await self._has_notice(row.incident_id):
            return Send(rendered[1])
        notice = await notice_for(self._db.reader, row.incident_id, row.chat_id)
        if notice is None:
            return Send(rendered[1])
        line = notice_text(notice, zone)
        return Send(prepare(OutgoingMessage(html=f"{rendered[0]}\n\n{line}")))

    async def _still_matches(self, row: Claimed) -> bool:
        """Whether the alert's incident, as it is now, matches the chat's choices as they
        are now: the rules it was queued by (storage.outbox), applied to one chat."""
        assert row.incident_id is not None and row.incident_version is not None
        incident = await self._incident(row.incident_id, row.incident_version)
        if incident is None:
            return False
        place = alert_place(incident)
        return await chat_matches(
            self._db.reader, row.chat_id, place, incident.severity, incident.direction
        )

    def _quiet_until(self, row: Claimed) -> datetime | None:
        """When the chat's quiet hours end, if a message about the row's incident is to
        wait for that: None if they are not on now or the incident has severity 5."""
        if row.severity is None or row.severity >= QUIET_HOURS_EXEMPT_SEVERITY:
            return None
        if not (row.quiet_start and row.quiet_end and row.timezone):
            return None
        return quiet_hours_end(
            clock_time.fromisoformat(row.quiet_start),
            clock_time.fromisoformat(row.quiet_end),
            ZoneInfo(row.timezone),
            self._clock.now(),
        )

    async def _has_notice(self, incident_id: int) -> bool:
        """Whether alerts about the incident may carry an escalation line, looked up at
        most once a second per incident rather than once per recipient."""
        now = time.monotonic()
        known = self._notices.get(incident_id)
        if known is not None and now - known[0] < NOTICE_RECHECK_SECONDS:
            return known[1]
        found = await has_notice(self._db.reader, incident_id)
        _remember(self._notices, incident_id, (now, found))
        return found

    async def _incident(self, incident_id: int, version: str) -> Incident | None:
        """The incident as of `version` (or newer), read once for all its renderings."""
        known = self._incidents.get(incident_id)
        if known is not None and known[0] == version:
            return known[1]
        incident = await get_incident(self._db.reader, incident_id)
        if incident is not None:
            _remember(self._incidents, incident_id, (version, incident))
        return incident

    async def _with_chart(self, payload: str, prepared: Prepared) -> Outcome:
        """A message naming a stored chart gets its picture: by file id once uploaded."""
        assert prepared.chart_key is not None
        chart = await get_chart(self._db.reader, prepared.chart_key)
        if chart is None:
            return Drop("the chart is no longer stored")
        if chart.file_id is not None:
            self.chart_uploaded(chart.key, chart.file_id)
            return Send(self._messages[payload])
        now = self._clock.now()
        started = self._uploads.get(chart.key)
        if started is not None and now - started < UPLOAD_PATIENCE:
            # Someone's copy is being uploaded: wait for its file id instead of uploading again.
            return Hold(now + UPLOAD_RECHECK)
        self._uploads[chart.key] = now
        return Send(Prepared(prepared.endpoint, prepared.parameters, chart.png, chart.key))


def _remember(cache: dict[K, V], key: K, value: V) -> None:
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[key] = value
