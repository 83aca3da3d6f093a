"""A broadcast interrupted by a stop, or by a kill, is finished after a restart.

The kill test runs the real `python -m bot run` in a subprocess against the fake
Bot API in this process, and kills it with SIGKILL halfway through.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import Settings
from bot.context import services_of
from bot.delivery.settlements import BATCH_ROWS
from bot.lifecycle import polling
from bot.models import DigestFrequency, Direction, Subscription
from bot.sandbox.fake_api import FakeBotApi
from storage.db import Database
from storage.incidents import insert_incident
from storage.outbox import AlertPlace, enqueue_alerts
from storage.subscribers import save_subscription
from tests.conftest import NOW
from tests.delivery_helpers import eventually, publish, subscribe
from tests.factories import incident_content

CONCURRENCY = 16


def alerts_sent(telegram: FakeBotApi) -> int:
    return sum(1 for method, _ in telegram.requests if method == "sendMessage")


async def outbox_statuses(path: Path) -> Counter[str]:
    async with (
        Database(path) as db,
        db.reader.execute("SELECT status, count(*) FROM outbox GROUP BY status") as cursor,
    ):
        return Counter({status: count for status, count in await cursor.fetchall()})


async def test_a_broadcast_stopped_halfway_is_finished_after_a_restart_without_repeats(
    settings: Settings, clock: ManualClock, telegram: FakeBotApi
) -> None:
    settings.delivery.global_per_second = 20
    readers = [telegram.add_user(f"Reader {n}").id for n in range(60)]

    async with polling(build_application(settings, clock), poll_timeout=1) as app:
        await subscribe(services_of(app).db, readers, NOW)
        await publish(app)

        async def under_way() -> bool:
            return alerts_sent(telegram) >= 20

        await eventually(under_way)

    statuses = await outbox_statuses(settings.storage.path)
    assert set(statuses) == {"sent", "pending"} and statuses["pending"] > 0
    assert statuses["sent"] == alerts_sent(telegram)

    settings.delivery.global_per_second = 1000
    async with polling(build_application(settings, clock), poll_timeout=1):

        async def everyone_has_it() -> bool:
            return all(telegram.pending_replies(reader) for reader in readers)

        await eventually(everyone_has_it)

    assert [len(telegram.pending_replies(reader)) for reader in readers] == [1] * len(readers)
    assert await outbox_statuses(settings.storage.path) == Counter(sent=len(readers))


async def prepare_broadcast(path: Path, readers: list[int]) -> None:
    """What the database holds once an incident has been published to these readers."""
    now = datetime.now(UTC)
    async with Database(path) as db, db.transaction() as conn:
        for reader in readers:
            subscription = Subscription(
                chat_id=reader, chat_type="private", digest=DigestFrequency.OFF
            )
            await save_subscription(conn, subscription, [], now)
        incident_id = await insert_incident(conn, incident_content(severity=4), now)
        assert incident_id is not None
        assert await enqueue_alerts(
            conn, incident_id, AlertPlace("Iraq"), 4, Direction.ON_COALITION, now
        ) == len(readers)


async def start_bot(
    telegram: FakeBotApi, database: Path, log: Path, backend: str
) -> asyncio.subprocess.Process:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("INCIDENT_BOT_") and key != "TELEGRAM_BOT_TOKEN"
    }
    environment.update(
        INCIDENT_BOT_TELEGRAM__TOKEN=telegram.token,
        INCIDENT_BOT_TELEGRAM__API_BASE_URL=telegram.api_root,
        INCIDENT_BOT_STORAGE__PATH=str(database),
        INCIDENT_BOT_DELIVERY__GLOBAL_PER_SECOND="2000",
        INCIDENT_BOT_DELIVERY__PRIVATE_CHAT_PER_SECOND="100",
        INCIDENT_BOT_DELIVERY__GROUP_PER_MINUTE="6000",
        INCIDENT_BOT_DELIVERY__CONCURRENCY=str(CONCURRENCY),
        INCIDENT_BOT_TELEGRAM__HTTP_BACKEND=backend,
    )
    with log.open("wb") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            env=environment, cwd=database.parent, stdout=output, stderr=output,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("stop_signal", "repeats_allowed"),
    [
        # A kill can catch the sends in flight and one batch of outcomes not yet recorded.
        (signal.SIGKILL, CONCURRENCY + BATCH_ROWS),
        # SIGTERM is a graceful stop: in-flight sends settle, the rest go back; no repeat.
        (signal.SIGTERM, 0),
    ],
    ids=["SIGKILL", "SIGTERM"],
)
@pytest.mark.parametrize("backend", ["aiohttp", "httpx"])
async def test_a_broadcast_interrupted_halfway_reaches_everyone_after_a_restart(
    telegram: FakeBotApi,
    tmp_path: Path,
    stop_signal: signal.Signals,
    repeats_allowed: int,
    backend: str,
) -> None:
    readers = [telegram.add_user(f"Reader {n}").id for n in range(3000)]
    database = tmp_path / "bot.sqlite3"
    await prepare_broadcast(database, readers)

    first = await start_bot(telegram, database, tmp_path / "first.log", backend)
    try:

        async def some_hundreds_sent() -> bool:
            return alerts_sent(telegram) >= 500

        await eventually(some_hundreds_sent, timeout=60, interval=0.05)
    finally:
        first.send_signal(stop_signal)
        exit_status = await first.wait()
    assert alerts_sent(telegram) < len(readers), "the stop came too late to prove anything"
    if stop_signal is signal.SIGTERM:
        assert exit_status == 0, (tmp_path / "first.log").read_text()

    second = await start_bot(telegram, database, tmp_path / "second.log", backend)
    try:

        async def everyone_has_it() -> bool:
            return all(telegram.pending_replies(reader) for reader in readers)

        await eventually(everyone_has_it, timeout=120, interval=0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        await second.wait()

    received = [len(telegram.pending_replies(reader)) for reader in readers]
    assert min(received) == 1
    assert sum(received) - len(readers) <= repeats_allowed
    assert await outbox_statuses(database) == Counter(sent=len(readers))
