"""Recording what became of each send, a batch of rows per transaction.

A send's outcome is not written at once: it joins a batch that is committed when
it holds `batch_rows` outcomes or `batch_seconds` after its first, whichever
comes first, so a broadcast costs one transaction per batch rather than per
message. Until its batch commits, a message Telegram accepted is still recorded
as 'sending' and would go again after a kill.

So that the number of such messages stays bounded, a send may begin only while
fewer than `in_flight + batch_rows` sends are unrecorded (begun, and their
outcome not yet committed): after a kill at most that many subscribers can
receive a message twice.

One outcome that cannot be recorded (its change fails) must not hold up the rest:
the batch is then written again with each change undone on its own if it fails, and
that row recorded as failed, with the reason, instead. Only when even that cannot be
written (the database itself failing) is the whole batch tried again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import NamedTuple

import aiosqlite

from bot.clock import Clock
from bot.models import OutboxStatus
from storage import outbox
from storage.db import Database, savepoint

log = logging.getLogger(__name__)

# A change that records one outcome other than "sent", run in the batch's transaction.
Change = Callable[[aiosqlite.Connection, datetime], Awaitable[object]]

BATCH_ROWS = 100
BATCH_SECONDS = 0.005


class _Outcome(NamedTuple):
    """A change to write for outbox row `row_id`; `with_sent`: it comes with the row's
    "sent", which stands even if the change fails (the message did go)."""

    row_id: int
    change: Change
    with_sent: bool


class Settlements:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        in_flight: int,
        batch_rows: int = BATCH_ROWS,
        batch_seconds: float = BATCH_SECONDS,
    ) -> None:
        self._db = db
        self._clock = clock
        self._batch_rows = batch_rows
        self._batch_seconds = batch_seconds
        self._most_unrecorded = in_flight + batch_rows
        self._unrecorded = 0
        self._room_changed = asyncio.Event()
        self._sent: list[tuple[int, int | None]] = []
        self._changes: list[_Outcome] = []
        self._outcomes = 0  # in the batch: a send's outcome may take a change of its own
        self._waiting = asyncio.Event()  # something is in the batch
        self._full = asyncio.Event()
        self._stopping = False
        self._writer: asyncio.Task[None] | None = None

    @property
    def most_unrecorded(self) -> int:
        """The most messages that can reach Telegram without being recorded as sent."""
        return self._most_unrecorded

    def start(self) -> None:
        if self._writer is None:
            self._stopping = False
            self._writer = asyncio.create_task(self._write_batches(), name="settlements")

    async def stop(self) -> None:
        """Commit what is waiting, then stop."""
        writer, self._writer = self._writer, None
        if writer is None:
            return
        self._stopping = True
        self._waiting.set()
        self._full.set()
        await writer

    async def begin(self) -> None:
        """Wait until one more send may begin; its outcome must then be recorded."""
        while self._unrecorded >= self._most_unrecorded:
            self._room_changed.clear()
            await self._room_changed.wait()
        self._unrecorded += 1

    def abandon(self) -> None:
        """A send begun and then not made: nothing to record."""
        self._unrecorded -= 1
        self._notify_room()

    def sent(self, row_id: int, message_id: int | None, *, also: Change | None = None) -> None:
        """Record a send Telegram accepted, with `also` to be stored in the same batch."""
        self._sent.append((row_id, message_id))
        if also is not None:
            self._changes.append(_Outcome(row_id, also, with_sent=True))
        self._added()

    def change(self, row_id: int, change: Change) -> None:
        """Record an outcome of row `row_id` other than "sent": `change(conn, now)` runs in
        the batch."""
        self._changes.append(_Outcome(row_id, change, with_sent=False))
        self._added()

    def _added(self) -> None:
        self._outcomes += 1
        self._waiting.set()
        if self._outcomes >= self._batch_rows:
            self._full.set()

    async def _write_batches(self) -> None:
        while not (self._stopping and self._outcomes == 0):
            await self._waiting.wait()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._batch_seconds):
                    await self._full.wait()
            try:
                # Database.transaction() cancelled half-way could leave its connection in
                # BEGIN; a batch is committed to its end whatever happens to this task.
                await asyncio.shield(self._commit())
            except Exception:
                # The rows stay 'sending': a restart sends them again rather than lose them.
                log.exception("recording a batch of sends failed; trying again shortly")
                if self._stopping:
                    return
                await asyncio.sleep(1.0)

    async def _commit(self) -> None:
        sent, self._sent = self._sent, []
        changes, self._changes = self._changes, []
        outcomes, self._outcomes = self._outcomes, 0
        self._waiting.clear()
        self._full.clear()
        if outcomes == 0:
            return
        now = self._clock.now()
        try:
            try:
                async with self._db.transaction() as conn:
                    if sent:
                        await outbox.mark_sent(conn, sent, now)
                    for outcome in changes:
                        await outcome.change(conn, now)
            except Exception:
                log.exception("recording a batch of sends failed; recording them one by one")
                async with self._db.transaction() as conn:
                    await self._write_one_by_one(conn, sent, changes, now)
        except BaseException:
            # Put them back in front of what came since, for the next try.
            self._sent[:0] = sent
            self._changes[:0] = changes
            self._outcomes += outcomes
            self._waiting.set()
            raise
        self._unrecorded -= outcomes
        self._notify_room()

    async def _write_one_by_one(
        self,
        conn: aiosqlite.Connection,
        sent: list[tuple[int, int | None]],
        changes: list[_Outcome],
        now: datetime,
    ) -> None:
        """The batch, each change undone on its own if it fails and its row then recorded
        as failed (or, if the message went, as sent without the change)."""
        if sent:
            await outbox.mark_sent(conn, sent, now)
        for outcome in changes:
            try:
                async with savepoint(conn):
                    await outcome.change(conn, now)
            except Exception as error:
                reason = f"its outcome could not be recorded: {type(error).__name__}: {error}"
                log.error("outbox row %d: %s", outcome.row_id, reason)
                if not outcome.with_sent:
                    await outbox.settle(conn, outcome.row_id, OutboxStatus.FAILED, reason, now)

    def _notify_room(self) -> None:
        if self._unrecorded < self._most_unrecorded:
            self._room_changed.set()
