"""The bot under test: the real application, polling the fake, in this process."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bench.common import BenchClock, alert_incident
from bench.control import FakeServer
from bot.app import DIGEST_DISPATCHER, build_application
from bot.config import Settings
from bot.context import IncidentBotApp, delivery_of, services_of
from bot.lifecycle import polling
from bot.subscriptions.areas import alert_place
from storage.incidents import insert_incident
from storage.outbox import depth, enqueue_alerts


def bench_application(settings: Settings) -> IncidentBotApp:
    """The application as `incident-bot run` assembles it, on the bench clock.

    The periodic digest dispatcher is taken out: the benchmark that dispatches
    digests calls it itself, to time it. What is built is frozen for the garbage
    collector, as `incident-bot run` does.
    """
    app = build_application(settings, BenchClock())
    assert app.job_queue is not None
    for job in app.job_queue.get_jobs_by_name(DIGEST_DISPATCHER):
        job.schedule_removal()
    gc.freeze()
    return app


@asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[IncidentBotApp]:
    """The application long-polling the fake, as `incident-bot run` runs it."""
    async with polling(bench_application(settings), poll_timeout=10) as app:
        yield app


async def publish_alert(app: IncidentBotApp, n: int, severity: int = 4) -> tuple[int, float]:
    """Store an incident and queue its alerts in one transaction, as Newsroom.publish does.

    Returns how many alerts were queued and time.monotonic() just before the transaction.
    """
    services = services_of(app)
    draft = alert_incident(n, severity=severity)
    started = time.monotonic()
    now = services.clock.now()
    async with services.db.transaction() as conn:
        incident_id = await insert_incident(conn, draft, now)
        assert incident_id is not None
        queued = await enqueue_alerts(
            conn, incident_id, alert_place(draft), draft.severity, draft.direction, now
        )
    delivery_of(app).wake()
    return queued, started


async def alert_everyone_after_start_up(
    app: IncidentBotApp, fake: FakeServer, subscribers: int
) -> tuple[int, float]:
    """Publish one alert for all `subscribers` once the bot's start-up calls (getMe,
    setMyCommands) have left the fake's one-second windows; as publish_alert returns."""
    await asyncio.sleep(1.5)
    await fake.reset(keep_times=True)
    queued, started = await publish_alert(app, 0)
    if queued != subscribers:
        raise RuntimeError(f"{queued} alerts queued, expected {subscribers}")
    return queued, started


async def drained(app: IncidentBotApp, *, timeout: float = 120) -> None:
    """Wait until every outbox row is settled (sent, failed or dropped)."""
    reader = services_of(app).db.reader
    async with asyncio.timeout(timeout):
        while await depth(reader):
            await asyncio.sleep(0.02)
