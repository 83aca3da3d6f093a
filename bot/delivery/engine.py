"""The delivery engine: every outbox row to its chat, once, within Telegram's limits.

One background task claims due rows (pending → sending) a batch of `concurrency`
at a time; sends start from that batch as slots free up, at most `concurrency`
at once, and each is settled in its own short transaction before its slot is
free again. So at any moment at most `concurrency` rows can have reached
Telegram without being marked sent: those, and only those, may go out twice
after a kill, because start() puts every row still 'sending' back to pending.

What each answer from Telegram leads to is decided in one place, `_send_and_settle`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar, assert_never

import aiosqlite
from telegram import Bot, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ExtBot

from bot.clock import Clock
from bot.config import DeliverySettings
from bot.delivery.outcomes import Decide, Drop, Hold, Send
from bot.delivery.rate_limiter import ChatRateLimiter, RateLimiterClosed, send_in_bulk
from bot.models import Incident, IncidentChange, OutboxItem, OutboxStatus, OutgoingMessage
from bot.monitoring import Metrics
from bot.outgoing import send_html, send_photo_html
from bot.ptb_compat import retry_after_seconds
from bot.tension.chart_store import keep_upload
from storage import outbox
from storage.db import Database
from storage.subscribers import deactivate, move_chat

log = logging.getLogger(__name__)

T = TypeVar("T")

# Real seconds the loop sleeps at most: a row enqueued without wake(), or a moved
# ManualClock in tests, is noticed within this.
_LONGEST_NAP = 1.0
# A chat that cannot take a message for longer than this (flood control, its own
# pace) gets the row back in the outbox, rather than keeping a sending slot waiting.
# A private chat's own pace (one message in any 1.05 s) is waited out in the slot.
_LONGEST_WAIT_IN_A_SLOT = 1.5
_STOP_GRACE_SECONDS = 5.0


class DeliveryEngine:
    def __init__(
        self,
        bot: Bot,
        db: Database,
        clock: Clock,
        settings: DeliverySettings,
        decide: Decide,
        metrics: Metrics,
    ) -> None:
        self._bot = bot
        self._db = db
        self._clock = clock
        self._settings = settings
        self._decide = decide
        self._metrics = metrics
        self._limiter = _limiter_of(bot)
        self._wakeup = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._stopping = False
        self._claimed: deque[OutboxItem] = deque()  # claimed, not yet being sent
        self._sending: set[asyncio.Task[None]] = set()
        # Groups that became supergroups while this process ran: rows claimed before
        # the move still carry the old id in memory.
        self._moved: dict[int, int] = {}

    async def start(self) -> None:
        if self._loop is not None:
            return
        async with self._db.transaction() as conn:
            released = await outbox.release_in_flight(conn)
        if released:
            log.warning(
                "%d messages were being sent when the bot last stopped; sending them again",
                released,
            )
        self._stopping = False
        self._loop = asyncio.create_task(self._run(), name="delivery")

    async def stop(self) -> None:
        """Stop claiming, let the sends under way finish, and put back what was not sent."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        self._stopping = True
        self.wake()
        await loop
        self._claimed.clear()
        if self._sending:
            _, late = await asyncio.wait(self._sending, timeout=_STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        async with self._db.transaction() as conn:
            released = await outbox.release_in_flight(conn)
        if released:
            log.info("delivery stopped; %d claimed messages are back in the queue", released)

    def wake(self) -> None:
        """Look for due rows now rather than at the next periodic look."""
        self._wakeup.set()

    async def incident_published(self, incident: Incident) -> None:
        self.wake()

    async def incident_changed(self, change: IncidentChange) -> None:
        self.wake()

    # The loop

    async def _run(self) -> None:
        backlog = False
        while not self._stopping:
            self._wakeup.clear()
            nap = _LONGEST_NAP
            try:
                # While a batch is still being sent, the slot that empties it wakes us.
                if not self._claimed:
                    nap = 0.0 if backlog else await self._time_to_next_due()
                    if nap == 0:
                        backlog = await self._claim()
                        continue
            except Exception:
                log.exception("the delivery loop failed; trying again shortly")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(nap):
                    await self._wakeup.wait()

    async def _claim(self) -> bool:
        """Claim a batch and start sending it; True if it was full (more may be due)."""
        batch = self._settings.concurrency
        async with self._db.transaction() as conn:
            claimed = await outbox.claim_due(conn, self._clock.now(), batch)
        self._claimed.extend(claimed)
        self._start_what_fits()
        return len(claimed) == batch

    async def _time_to_next_due(self) -> float:
        due = await outbox.next_due_at(self._db.reader)
        if due is None:
            return _LONGEST_NAP
        return min(_LONGEST_NAP, max(0.0, (due - self._clock.now()).total_seconds()))

    def _start_what_fits(self) -> None:
        while (
            self._claimed and len(self._sending) < self._settings.concurrency and not self._stopping
        ):
            item = self._claimed.popleft()
            task = asyncio.create_task(self._deliver(item), name=f"outbox-{item.id}")
            self._sending.add(task)
            task.add_done_callback(self._slot_freed)

    def _slot_freed(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._start_what_fits()
        if not self._claimed:
            self.wake()

    # One row

    async def _deliver(self, item: OutboxItem) -> None:
        send_in_bulk()
        if item.chat_id in self._moved:
            item = item.model_copy(update={"chat_id": self._moved[item.chat_id]})
        try:
            await self._send_and_settle(item)
        except RateLimiterClosed:
            # The bot is shutting down: the row stays claimed, and stop() puts it back.
            self._stopping = True
        except Exception as error:
            log.exception("outbox row %d to chat %d failed unexpectedly", item.id, item.chat_id)
            try:
                await self._settle(item, OutboxStatus.FAILED, f"{type(error).__name__}: {error}")
            except Exception:
                log.exception("outbox row %d could not be settled; sent again on restart", item.id)

    async def _send_and_settle(self, item: OutboxItem) -> None:
        delay = self._limiter.chat_delay(item.chat_id) if self._limiter else 0.0
        if delay > _LONGEST_WAIT_IN_A_SLOT:
            await self._retry(item, self._after(delay), "waiting for flood control", attempt=False)
            return
        outcome = await self._decide(item)
        match outcome:
            case Drop(reason):
                await self._settle(item, OutboxStatus.DROPPED, reason)
                return
            case Hold(until):
                await self._retry(item, until, None, attempt=False)
                return
            case Send(message):
                pass
            case _:
                assert_never(outcome)
        try:
            sent = await self._send(item.chat_id, message)
        except RetryAfter as error:
            self._metrics.sent(item.kind, "429")
            # The limiter has paused the chat; its other rows wait in the outbox meanwhile.
            await self._retry(
                item, self._after(retry_after_seconds(error)), str(error), attempt=False
            )
        except ChatMigrated as error:
            self._metrics.sent(item.kind, "migrated")
            await self._follow_migration(item, error.new_chat_id)
        except Forbidden as error:
            self._metrics.sent(item.kind, "403")
            await self._give_up_on_chat(item, error.message)
        except BadRequest as error:
            self._metrics.sent(item.kind, "400")
            if "chat not found" in error.message.lower():
                await self._give_up_on_chat(item, error.message)
            else:
                await self._refused(item, error)
        except NetworkError as error:  # timeouts and 5xx; BadRequest is caught above
            self._metrics.sent(item.kind, "timeout" if isinstance(error, TimedOut) else "5xx")
            await self._retry_with_backoff(item, error.message)
        except TelegramError as error:
            self._metrics.sent(item.kind, "error")
            await self._refused(item, error)
        else:
            self._metrics.sent(item.kind, "ok")
            await self._write(lambda conn: self._record_sent(conn, item, message, sent))

    async def _record_sent(
        self, conn: aiosqlite.Connection, item: OutboxItem, message: OutgoingMessage, sent: Message
    ) -> None:
        await outbox.mark_sent(conn, item.id, sent.message_id, self._clock.now())
        if message.chart_key and message.photo_file_id is None:
            # Uploaded once; everyone after this gets the same picture by its file id.
            await keep_upload(conn, message.chart_key, sent)

    async def _send(self, chat_id: int, message: OutgoingMessage) -> Message:
        photo = message.photo_file_id or message.photo_png
        # Split at Telegram's limits; the first message (the photo, if any) stands for all.
        if photo is not None:
            sent = await send_photo_html(self._bot, chat_id, photo, message.html)
        else:
            sent = await send_html(self._bot, chat_id, message.html)
        return sent[0]

    # Settling

    async def _write(self, change: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        async def transaction() -> T:
            async with self._db.transaction() as conn:
                return await change(conn)

        # Database.transaction() cancelled half-way can leave its connection inside
        # BEGIN; so a settlement runs to its end even when stop() abandons the send.
        return await asyncio.shield(transaction())

    def _after(self, seconds: float) -> datetime:
        return self._clock.now() + timedelta(seconds=seconds)

    async def _settle(self, item: OutboxItem, status: OutboxStatus, reason: str) -> None:
        now = self._clock.now()
        await self._write(lambda conn: outbox.settle(conn, item.id, status, reason, now))

    async def _retry(
        self, item: OutboxItem, at: datetime, error: str | None, *, attempt: bool
    ) -> None:
        await self._write(
            lambda conn: outbox.retry_later(conn, item.id, at, error, counts_as_attempt=attempt)
        )

    async def _refused(self, item: OutboxItem, error: TelegramError) -> None:
        log.error(
            "Telegram refused outbox row %d to chat %d: %s", item.id, item.chat_id, error.message
        )
        await self._settle(item, OutboxStatus.FAILED, error.message)

    async def _retry_with_backoff(self, item: OutboxItem, reason: str) -> None:
        attempt = item.attempts + 1
        if attempt >= self._settings.max_attempts:
            log.error(
                "outbox row %d to chat %d failed after %d attempts: %s",
                item.id, item.chat_id, attempt, reason,
            )  # fmt: skip
            await self._settle(item, OutboxStatus.FAILED, reason)
            return
        backoff = self._settings.retry_backoff_seconds * 2 ** (attempt - 1)
        await self._retry(item, self._after(backoff), reason, attempt=True)

    async def _give_up_on_chat(self, item: OutboxItem, reason: str) -> None:
        """Telegram says the chat cannot be reached: stop everything for it."""
        now = self._clock.now()

        async def change(conn: aiosqlite.Connection) -> int:
            await deactivate(conn, item.chat_id, reason, now)
            await outbox.settle(conn, item.id, OutboxStatus.FAILED, reason, now)
            return await outbox.drop_pending_for_chat(conn, item.chat_id, reason, now)

        dropped = await self._write(change)
        log.warning(
            "chat %d deactivated (%s); %d queued messages dropped", item.chat_id, reason, dropped
        )

    async def _follow_migration(self, item: OutboxItem, new_chat_id: int) -> None:
        """The group became a supergroup: its subscription and queue move; the row goes again."""
        now = self._clock.now()

        async def change(conn: aiosqlite.Connection) -> None:
            await move_chat(conn, item.chat_id, new_chat_id)
            await outbox.move_chat_items(conn, item.chat_id, new_chat_id)
            await outbox.retry_later(conn, item.id, now, None, counts_as_attempt=False)

        await self._write(change)
        self._moved[item.chat_id] = new_chat_id
        log.info(
            "chat %d became supergroup %d; its subscription and queue moved",
            item.chat_id, new_chat_id,
        )  # fmt: skip
        self.wake()


def _limiter_of(bot: Bot) -> ChatRateLimiter | None:
    limiter = bot.rate_limiter if isinstance(bot, ExtBot) else None
    return limiter if isinstance(limiter, ChatRateLimiter) else None
