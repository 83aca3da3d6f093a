"""What an operator's monitoring sees: Prometheus metrics and the health check.

Each application has its own registry (several run side by side in the tests), and
the numbers are counted where they happen:

- updates handled, by command, and how long each took to handle (its reply
  included): `MeasuredUpdateProcessor`, PTB's extension point for update handling;
- messages to subscribers by kind and result: the delivery engine;
- digests due, queued and skipped: the digest dispatcher;
- the outbox depth by kind and the age of the last update: read when scraped.

`GET /metrics` and `GET /healthz` are served by the webhook server in webhook mode,
and in polling mode by a small server of their own when `monitoring.port` is set.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from telegram import Update

from bot.clock import Clock
from bot.commands import ADMIN_COMMANDS, PUBLIC_COMMANDS, typed_command
from bot.config import MonitoringSettings
from bot.update_order import MAX_CONCURRENT_UPDATES, PerChatUpdateProcessor
from storage.db import Database
from storage.outbox import depth_by_kind

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
HEALTH_PATH = "/healthz"
_KNOWN_COMMANDS = frozenset(command.name for command in (*PUBLIC_COMMANDS, *ADMIN_COMMANDS))
_OUTBOX_KINDS = ("alert", "correction", "digest")

# How a send to a subscriber ended, as the metric's `result` label says it.
FeedReadResult = Literal["ok", "not_modified", "error"]
SendResult = Literal["ok", "429", "403", "400", "5xx", "timeout", "migrated", "error"]


class Metrics:
    """The bot's Prometheus metrics, on a registry of its own."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.registry = CollectorRegistry(auto_describe=True)
        self.started_at = clock.now()
        self.last_update_at: datetime | None = None
        self.updates = Counter(
            "incident_bot_updates",
            "Updates handled, by command ('text' for other messages, 'button' for presses).",
            ["command"],
            registry=self.registry,
        )
        self.handling_seconds = Histogram(
            "incident_bot_update_handling_seconds",
            "Time from taking an update to finishing with it, its reply included.",
            ["command"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.sends = Counter(
            "incident_bot_sends",
            "Messages to subscribers by kind (alert, correction, digest) and result "
            "(ok, 429, 403, 400, 5xx, timeout, migrated, error).",
            ["kind", "result"],
            registry=self.registry,
        )
        self.digests = Counter(
            "incident_bot_digests",
            "Digests that fell due, by what became of them (queued, skipped_empty, skipped_late).",
            ["outcome"],
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "incident_bot_outbox_depth",
            "Messages waiting in the outbox or being sent, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.last_update_age = Gauge(
            "incident_bot_last_update_age_seconds",
            "Seconds since the last update arrived (NaN before the first).",
            registry=self.registry,
        )
        self.feed_reads = Counter(
            "incident_bot_feed_reads",
            "Reads of the intake's feeds, by feed number and result (ok, not_modified, error).",
            ["feed", "result"],
            registry=self.registry,
        )
        self.feed_items = Counter(
            "incident_bot_feed_items",
            "New feed items, by what became of them (proposed, skipped).",
            ["outcome"],
            registry=self.registry,
        )

    def update_handled(self, update: object, seconds: float) -> None:
        command = command_label(update)
        self.updates.labels(command).inc()
        self.handling_seconds.labels(command).observe(seconds)

    def update_arrived(self) -> None:
        self.last_update_at = self._clock.now()

    def sent(self, kind: str, result: SendResult) -> None:
        self.sends.labels(kind, result).inc()

    def digests_dispatched(self, queued: int, skipped_empty: int, skipped_late: int) -> None:
        for outcome, count in (
            ("queued", queued),
            ("skipped_empty", skipped_empty),
            ("skipped_late", skipped_late),
        ):
            if count:
                self.digests.labels(outcome).inc(count)

    def feed_read(self, feed_id: int, result: FeedReadResult, proposed: int, skipped: int) -> None:
        self.feed_reads.labels(str(feed_id), result).inc()
        for outcome, count in (("proposed", proposed), ("skipped", skipped)):
            if count:
                self.feed_items.labels(outcome).inc(count)

    def silence(self) -> float:
        """Seconds since the last update, or since the start when none has come yet."""
        since = self.last_update_at or self.started_at
        return (self._clock.now() - since).total_seconds()

    async def exposition(self, db: Database) -> bytes:
        """The metrics in Prometheus' text format, with the gauges read now."""
        depths = await depth_by_kind(db.reader)
        for kind in sorted({*_OUTBOX_KINDS, *depths}):
            self.outbox_depth.labels(kind).set(depths.get(kind, 0))
        self.last_update_age.set(self.silence() if self.last_update_at else math.nan)
        return generate_latest(self.registry)


def command_label(update: object) -> str:
    """A bounded label: known commands by name, everything else in a few groups."""
    if not isinstance(update, Update):
        return "other"
    if update.callback_query is not None:
        return "button"
    message = update.effective_message
    if message is None or not message.text:
        return "other"
    if not message.text.startswith("/"):
        return "text"
    name = typed_command(message.text).removeprefix("/").lower()
    return name if name in _KNOWN_COMMANDS else "unknown_command"


class MeasuredUpdateProcessor(PerChatUpdateProcessor):
    """The bot's update processor (each chat's updates in order, chats concurrently),
    counting and timing each update for the metrics: from when its chat's turn comes."""

    def __init__(
        self, metrics: Metrics, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._metrics = metrics

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self._metrics.update_arrived()

        async def measured() -> None:
            started = time.perf_counter()
            try:
                await coroutine
            finally:
                self._metrics.update_handled(update, time.perf_counter() - started)

        await super().do_process_update(update, measured())


class HealthCheck:
    """`/healthz`: the database's reachability, the outbox depth and the last update."""

    def __init__(self, metrics: Metrics, db: Database, settings: MonitoringSettings) -> None:
        self._metrics = metrics
        self._db = db
        self._max_silence = settings.max_update_silence_minutes

    async def report(self) -> tuple[bool, dict[str, Any]]:
        try:
            depths: dict[str, int] | None = await depth_by_kind(self._db.reader)
        except Exception:
            log.exception("health check could not read the database")
            depths = None
        last = self._metrics.last_update_at
        body: dict[str, Any] = {
            "database": "reachable" if depths is not None else "unreachable",
            "outbox_depth": sum(depths.values()) if depths is not None else None,
            "last_update_at": last.isoformat() if last else None,
        }
        problems = [] if depths is not None else ["the database cannot be read"]
        silence = self._metrics.silence()
        if self._max_silence is not None and silence > self._max_silence * 60:
            problems.append(
                f"no update for {silence / 60:.0f} minutes "
                f"(monitoring.max_update_silence_minutes is {self._max_silence:g})"
            )
        healthy = not problems
        result = {"status": "ok" if healthy else "unhealthy", **body}
        if problems:
            result["problems"] = problems
        return healthy, result

    async def respond(self, request: web.Request) -> web.Response:
        healthy, body = await self.report()
        return web.json_response(body, status=200 if healthy else 503)


def add_monitoring_routes(
    server: web.Application, metrics: Metrics, db: Database, settings: MonitoringSettings
) -> None:
    """GET /metrics and GET /healthz on an aiohttp application."""
    health = HealthCheck(metrics, db, settings)

    async def scrape(request: web.Request) -> web.Response:
        body = await metrics.exposition(db)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    server.router.add_get(METRICS_PATH, scrape)
    server.router.add_get(HEALTH_PATH, health.respond)


class MonitoringServer:
    """/metrics and /healthz on a port of their own (`monitoring.port`), in either mode."""

    def __init__(self, metrics: Metrics, db: Database, settings: MonitoringSettings) -> None:
        self._metrics = metrics
        self._db = db
        self._settings = settings
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        if self._settings.port is None or self._runner is not None:
            return
        server = web.Application()
        add_monitoring_routes(server, self._metrics, self._db, self._settings)
        self._runner = web.AppRunner(server, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._settings.listen, self._settings.port).start()
        log.info("metrics and health at http://%s:%s%s", self._settings.listen,
                 self._settings.port, METRICS_PATH)  # fmt: skip

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
