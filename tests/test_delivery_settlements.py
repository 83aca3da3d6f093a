"""Recording outcomes in batches: one that cannot be recorded holds up no other."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import aiosqlite
import pytest

from bot.clock import ManualClock
from bot.delivery.settlements import Settlements
from bot.models import OutboxKind, OutboxStatus, OutgoingMessage
from storage.db import Database
from storage.outbox import claim_due, enqueue_message, items_for, retry_later


async def half_then_fail(conn: aiosqlite.Connection, now: datetime) -> None:
    """A change that writes something, then breaks a constraint (as moving a chat onto an
    id that had a subscription of its own did)."""
    await conn.execute("UPDATE outbox SET last_error = 'half-written'")
    await conn.execute(
        "INSERT INTO outbox (id, chat_id, kind, dedupe_key, not_before, created_at) "
        "SELECT id, chat_id, kind, 'copy', not_before, created_at FROM outbox LIMIT 1"
    )


async def test_an_outcome_that_cannot_be_recorded_is_failed_alone(
    db: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    now = clock.now()
    async with db.transaction() as conn:
        for chat_id in range(1, 5):
            await enqueue_message(conn, chat_id=chat_id, kind=OutboxKind.DIGEST,
                                  dedupe_key=f"digest:{chat_id}", now=now,
                                  message=OutgoingMessage(html="Your digest"))  # fmt: skip
        sent, sent_with_failing_extra, failing, retried = [
            row.id for row in await claim_due(conn, now, 4)
        ]
    later = now.replace(hour=13)

    async def retry(conn: aiosqlite.Connection, now: datetime) -> None:
        await retry_later(conn, retried, later, "flood control", counts_as_attempt=False)

    settlements = Settlements(db, clock, in_flight=1, batch_rows=4, batch_seconds=60)
    settlements.start()
    for _ in range(4):
        await settlements.begin()
    settlements.sent(sent, 11)
    settlements.sent(sent_with_failing_extra, 12, also=half_then_fail)
    settlements.change(failing, half_then_fail)
    settlements.change(retried, retry)  # the fourth outcome fills the batch: it is written
    # Written at once, not tried again and again: there is room for the next sends.
    async with asyncio.timeout(2):
        for _ in range(settlements.most_unrecorded):
            await settlements.begin()
    await settlements.stop()

    rows = {row.id: row for row in await items_for(db.reader, [1, 2, 3, 4])}
    assert len(rows) == 4  # the failing change's half is undone: no copy, no half-written
    assert [(rows[i].status, rows[i].last_error) for i in (sent, sent_with_failing_extra)] == [
        (OutboxStatus.SENT, None), (OutboxStatus.SENT, None),
    ]  # fmt: skip
    assert rows[failing].status is OutboxStatus.FAILED
    reason = "its outcome could not be recorded: IntegrityError: UNIQUE constraint failed"
    assert (rows[failing].last_error or "").startswith(reason)
    assert (rows[retried].status, rows[retried].not_before) == (OutboxStatus.PENDING, later)
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert f"outbox row {failing}: {reason}" in "\n".join(logged)
