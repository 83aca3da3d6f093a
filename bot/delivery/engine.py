"""The delivery engine: every outbox row to its chat, once, within Telegram's limits.

One background task claims due rows (pending → sending) in batches; `concurrency`
workers take them one at a time and send them, each at most one at once. What a
send needs comes with the claimed row, and its message is prepared once per
rendering by the decider (bot.delivery.decide), so a broadcast costs little more per recipient than
the request itself.

Sends go out through the bot's rate limiter and its request backend, as every
other request does, but without PTB's per-call work: the prepared parameters are
posted as they are (bot.ptb_compat.post_parameters) and only the message id is
read from Telegram's answer. Telegram's refusals arrive as PTB's exceptions.

Outcomes are recorded in batches (bot.delivery.settlements). At any moment at
most `concurrency + settlements.BATCH_ROWS` rows can have reached Telegram
without being recorded as sent: those, and only those, may go out twice after a
kill, because start() puts every row still 'sending' back to pending.

What each answer from Telegram leads to is decided in one place, `_send_and_settle`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from datetime import datetime, timedelta
from typing import Any, assert_never

import aiosqlite
from telegram import Bot, InputFile
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
from bot.delivery.decide import OutboxDecider
from bot.delivery.outcomes import Drop, Hold, Prepared, Send
from bot.delivery.rate_limiter import ChatRateLimiter, RateLimiterClosed, send_in_bulk
from bot.delivery.settlements import Settlements
from bot.models import Incident, IncidentChange, OutboxStatus
from bot.monitoring import Metrics
from bot.outgoing import CAPTION_LIMIT, TEXT_LIMIT, send_html, send_photo_html
from bot.ptb_compat import post_parameters, retry_after_seconds
from bot.subscriptions.migration import follow_migration
from storage import outbox
from storage.charts import remember_file_id
from storage.db import Database
from storage.outbox import Claimed
from storage.subscribers import deactivate

log = logging.getLogger(__name__)

# Real seconds the loop sleeps at most: a row enqueued without wake(), or a moved
# ManualClock in tests, is noticed within this.
_LONGEST_NAP = 1.0
# A chat that cannot take a message for longer than this (flood control, its own
# pace) gets the row back in the outbox, rather than keeping a worker waiting.
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
        decide: OutboxDecider,
        metrics: Metrics,
    ) -> None:
        self._bot = bot
        self._db = db
        self._clock = clock
        self._settings = settings
        self._decide = decide
        self._metrics = metrics
        self._limiter = _limiter_of(bot)
        self._settlements = Settlements(db, clock, in_flight=settings.concurrency)
        self._wakeup = asyncio.Event()
        self._row_ready = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._stopping = False
        self._claimed: deque[Claimed] = deque()  # claimed, not yet being sent
        # Groups that became supergroups while this process ran: rows claimed before
        # the move still carry the old id.
        self._moved: dict[int, int] = {}
        # Chats deactivated while this process ran, whose claimed rows are moot; and those
        # of them whose deactivation is in the database, so that a row claimed later shows
        # whether the chat came back (pressed Restart, chose a setting).
        self._gone: set[int] = set()
        self._gone_recorded: set[int] = set()

    @property
    def most_unrecorded(self) -> int:
        """How many subscribers a kill could make receive a message twice, at most."""
        return self._settlements.most_unrecorded

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
        self._settlements.start()
        self._workers = [
            asyncio.create_task(self._work(), name=f"delivery-{n}")
            for n in range(self._settings.concurrency)
        ]
        self._loop = asyncio.create_task(self._run(), name="delivery")

    async def stop(self) -> None:
        """Stop claiming, let the sends under way finish, and put back what was not sent."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        self._stopping = True
        self._claimed.clear()
        self.wake()
        self._row_ready.set()
        await loop
        workers, self._workers = self._workers, []
        _, late = await asyncio.wait(workers, timeout=_STOP_GRACE_SECONDS)
        for task in late:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await self._settlements.stop()
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

    # Claiming

    async def _run(self) -> None:
        backlog = False
        while not self._stopping:
            self._wakeup.clear()
            nap = _LONGEST_NAP
            try:
                # A worker wakes us when fewer than `concurrency` claimed rows are left.
                if len(self._claimed) < self._settings.concurrency:
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
        """Claim a batch for the workers; True if it was full (more may be due)."""
        batch = self._settings.concurrency
        async with self._db.transaction() as conn:
            claimed = await outbox.claim_due(conn, self._clock.now(), batch)
        for row in claimed:
            # Claimed after the deactivation was recorded, yet active: the chat is back.
            if row.active == 1 and row.chat_id in self._gone_recorded:
                self._gone.discard(row.chat_id)
                self._gone_recorded.discard(row.chat_id)
        if not self._stopping:
            self._claimed.extend(claimed)
            self._row_ready.set()
        return len(claimed) == batch

    async def _time_to_next_due(self) -> float:
        due = await outbox.next_due_at(self._db.reader)
        if due is None:
            return _LONGEST_NAP
        return min(_LONGEST_NAP, max(0.0, (due - self._clock.now()).total_seconds()))

    # Sending

    async def _work(self) -> None:
        send_in_bulk()
        while True:
            while not self._claimed:
                if self._stopping:
                    return
                self._row_ready.clear()
                self.wake()
                await self._row_ready.wait()
            if self._stopping:
                return
            await self._settlements.begin()
            if not self._claimed or self._stopping:  # taken by another worker meanwhile
                self._settlements.abandon()
                continue
            row = self._claimed.popleft()
            if len(self._claimed) < self._settings.concurrency:
                self.wake()
            try:
                await self._send_and_settle(row)
            except RateLimiterClosed:
                # The bot is shutting down: the row stays claimed, and stop() puts it back.
                self._settlements.abandon()
                self._stopping = True
                return
            except Exception as error:
                log.exception("outbox row %d to chat %d failed unexpectedly", row.id, row.chat_id)
                self._settle(row, OutboxStatus.FAILED, f"{type(error).__name__}: {error}")

    async def _send_and_settle(self, row: Claimed) -> None:
        chat_id = self._moved.get(row.chat_id, row.chat_id)
        if chat_id in self._gone:
            self._settle(row, OutboxStatus.DROPPED, "no longer subscribed")
            return
        delay = self._limiter.chat_delay(chat_id) if self._limiter else 0.0
        if delay > _LONGEST_WAIT_IN_A_SLOT:
            self._retry(row, self._after(delay), "waiting for flood control", attempt=False)
            return
        outcome = await self._decide(row)
        match outcome:
            case Drop(reason):
                self._settle(row, OutboxStatus.DROPPED, reason)
                return
            case Hold(until, reason):
                self._retry(row, until, reason, attempt=False)
                return
            case Send(message):
                pass
            case _:
                assert_never(outcome)
        try:
            answer = await self._post(chat_id, message)
        except RetryAfter as error:
            self._metrics.sent(row.kind, "429")
            # The limiter has paused the chat; its other rows wait in the outbox meanwhile.
            seconds = retry_after_seconds(error)
            self._retry(row, self._after(seconds), str(error), attempt=False)
        except ChatMigrated as error:
            self._metrics.sent(row.kind, "migrated")
            self._follow_migration(row, chat_id, error.new_chat_id)
        except Forbidden as error:
            self._metrics.sent(row.kind, "403")
            self._give_up_on_chat(row, chat_id, error.message)
        except BadRequest as error:
            self._metrics.sent(row.kind, "400")
            if "chat not found" in error.message.lower():
                self._give_up_on_chat(row, chat_id, error.message)
            else:
                self._refused(row, chat_id, error)
        except NetworkError as error:  # timeouts and 5xx; BadRequest is caught above
            self._metrics.sent(row.kind, "timeout" if isinstance(error, TimedOut) else "5xx")
            self._retry_with_backoff(row, chat_id, error.message)
        except TelegramError as error:
            self._metrics.sent(row.kind, "error")
            self._refused(row, chat_id, error)
        else:
            self._metrics.sent(row.kind, "ok")
            self._record_sent(row, message, answer)

    async def _post(self, chat_id: int, message: Prepared) -> dict[str, Any]:
        text, caption = message.parameters.get("text"), message.parameters.get("caption")
        if (text and len(text) > TEXT_LIMIT) or (caption and len(caption) > CAPTION_LIMIT):
            # Too long for one message: bot.outgoing splits it; the first part stands for all.
            if caption is None:
                sent = await send_html(self._bot, chat_id, text or "")
            else:
                photo = message.upload or message.parameters["photo"]
                sent = await send_photo_html(self._bot, chat_id, photo, caption)
            return sent[0].to_dict()
        parameters: dict[str, Any] = {"chat_id": chat_id, **message.parameters}
        if message.upload is not None:
            parameters["photo"] = InputFile(message.upload)
        answer = await post_parameters(self._bot, message.endpoint, parameters)
        return answer if isinstance(answer, dict) else {}

    def _record_sent(self, row: Claimed, message: Prepared, answer: dict[str, Any]) -> None:
        message_id = answer.get("message_id")
        chart_key = message.chart_key
        photos = answer.get("photo")
        if message.upload is None or chart_key is None or not photos:
            self._settlements.sent(row.id, message_id)
            return
        # Uploaded once; everyone after this gets the same picture by its file id.
        file_id: str = photos[-1]["file_id"]
        self._decide.chart_uploaded(chart_key, file_id)

        async def remember(conn: aiosqlite.Connection, now: datetime) -> None:
            await remember_file_id(conn, chart_key, file_id)

        self._settlements.sent(row.id, message_id, also=remember)

    # Outcomes other than "sent"

    def _after(self, seconds: float) -> datetime:
        return self._clock.now() + timedelta(seconds=seconds)

    def _settle(self, row: Claimed, status: OutboxStatus, reason: str) -> None:
        async def change(conn: aiosqlite.Connection, now: datetime) -> None:
            await outbox.settle(conn, row.id, status, reason, now)

        self._settlements.change(row.id, change)

    def _retry(self, row: Claimed, at: datetime, error: str | None, *, attempt: bool) -> None:
        async def change(conn: aiosqlite.Connection, now: datetime) -> None:
            await outbox.retry_later(conn, row.id, at, error, counts_as_attempt=attempt)

        self._settlements.change(row.id, change)

    def _refused(self, row: Claimed, chat_id: int, error: TelegramError) -> None:
        log.error("Telegram refused outbox row %d to chat %d: %s", row.id, chat_id, error.message)
        self._settle(row, OutboxStatus.FAILED, error.message)

    def _retry_with_backoff(self, row: Claimed, chat_id: int, reason: str) -> None:
        attempt = row.attempts + 1
        if attempt >= self._settings.max_attempts:
            log.error(
                "outbox row %d to chat %d failed after %d attempts: %s",
                row.id, chat_id, attempt, reason,
            )  # fmt: skip
            self._settle(row, OutboxStatus.FAILED, reason)
            return
        backoff = self._settings.retry_backoff_seconds * 2 ** (attempt - 1)
        self._retry(row, self._after(backoff), reason, attempt=True)

    def _give_up_on_chat(self, row: Claimed, chat_id: int, reason: str) -> None:
        """Telegram says the chat cannot be reached: stop everything for it."""
        self._gone.add(chat_id)

        async def change(conn: aiosqlite.Connection, now: datetime) -> None:
            await deactivate(conn, chat_id, reason, now)
            await outbox.settle(conn, row.id, OutboxStatus.FAILED, reason, now)
            dropped = await outbox.drop_pending_for_chat(conn, chat_id, reason, now)
            self._gone_recorded.add(chat_id)
            log.warning(
                "chat %d deactivated (%s); %d queued messages dropped", chat_id, reason, dropped
            )

        self._settlements.change(row.id, change)

    def _follow_migration(self, row: Claimed, chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup, and the bot missed Telegram's notice of it: its
        subscription and messages move now; the row goes again."""
        self._moved[row.chat_id] = new_chat_id

        async def change(conn: aiosqlite.Connection, now: datetime) -> None:
            await follow_migration(conn, chat_id, new_chat_id, now)
            await outbox.retry_later(conn, row.id, now, None, counts_as_attempt=False)
            self.wake()

        self._settlements.change(row.id, change)


def _limiter_of(bot: Bot) -> ChatRateLimiter | None:
    limiter = bot.rate_limiter if isinstance(bot, ExtBot) else None
    return limiter if isinstance(limiter, ChatRateLimiter) else None
