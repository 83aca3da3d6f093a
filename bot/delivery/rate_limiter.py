"""Every message the bot sends, paced so that Telegram never has to say 429.

Telegram counts messages in sliding windows — about 30 in any one second for the
whole bot, 1 in any second per private chat, 20 in any minute per group or channel —
and, over the overall limit, answers 429 to *every* send of the bot until its
retry_after has passed. So this limiter (PTB's BaseRateLimiter extension point):

- keeps a sliding window per limit, `SAFETY_MARGIN` below the configured rate, so
  that no span of the window ever holds more than Telegram allows — unlike a token
  bucket, which lets a burst through at the edge of each window;
- counts only calls that send or edit a message (`counts_as_message`): looking a
  chat member up or answering a button press is not a message;
- on a 429 pauses every message of the bot for retry_after, whichever chat it named:
  Telegram does not say which limit was hit, and PTB's RetryAfter keeps only the
  number, not the server's text, so there is no sign that only one chat is meant;
- gives replies to people priority: a broadcast send (one marked with
  `send_in_bulk`) waits while any reply waits, so a reply takes the next free place
  in the window, however large the broadcast;
- retries a reply that met a 429 after the pause (up to `REPLY_ATTEMPTS` times),
  rather than losing it. A reply waits for its chat's pace and for pauses; the
  application handles each chat's updates in order but different chats
  concurrently (`bot/update_order.py`), so that wait holds up no one else.

Broadcast sends are not retried here: a 429 reaches the delivery engine, which puts
the row back in the outbox (it survives a restart there).

For the delivery engine (and any lean send path that does not go through PTB's Bot):
call `send_in_bulk()` in the sending task; `chat_delay(chat_id)` says how long a
broadcast message to that chat would wait (so a row can go back to the outbox rather
than hold a sending slot); `async with slot(chat_id, bulk=True): <send>` waits for a
place in every window and holds it while the message is sent; `report_retry_after(
seconds)` pauses every message after a 429 that did not come through `process_request`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.config import DeliverySettings
from bot.ptb_compat import retry_after_seconds

log = logging.getLogger(__name__)

ChatKey = int | str
ApiResult = bool | dict[str, Any] | list[dict[str, Any]]

# The share of each configured limit actually used, on top of counting each message
# from the moment it leaves until a window after its answer (see SlidingWindow).
SAFETY_MARGIN = 0.97
# A reply that meets a 429 is sent again after the pause, this many tries in all.
REPLY_ATTEMPTS = 3
# How long shutdown waits for requests already on the wire, before the HTTP client closes.
SHUTDOWN_GRACE_SECONDS = 5.0
# Windows of idle chats are forgotten once there are more than this many (and twice as
# many as were kept the last time), so that a broadcast to many chats leaves no residue.
_PRUNE_FLOOR = 1024

_bulk: ContextVar[bool] = ContextVar("incident_bot_bulk_send", default=False)


def send_in_bulk() -> None:
    """Mark the requests of the current task, and of the tasks it starts, as broadcast.

    Broadcast requests yield to every waiting reply.
    """
    _bulk.set(True)


def counts_as_message(endpoint: str) -> bool:
    """Whether Telegram counts the call against its message limits: sending or editing
    a message does; looking something up (getChatMember) or answering a button does not."""
    return endpoint.startswith(("send", "edit", "copyMessage", "forwardMessage"))


class RateLimiterClosed(RuntimeError):
    """The bot is shutting down: the request was not sent."""


@dataclass
class SlidingWindow:
    """At most `count` messages in any span of `seconds`, counted conservatively.

    Telegram counts a message when it arrives, somewhere between the moment it was let
    through here and the moment its answer came back. So a message takes its place in
    the window when it is let through and keeps it until `seconds` after its answer:
    however the network delays one message and hurries the next, no span of the
    window, as Telegram sees it, holds more than `count`.
    """

    count: int
    seconds: float
    _answered: deque[float] = field(default_factory=deque)
    _in_flight: int = 0

    @classmethod
    def per_second(cls, rate: float) -> SlidingWindow:
        """`rate` a second with the safety margin: 30 → 29 in any second, 1 → one in
        any 1.03 s."""
        paced = rate * SAFETY_MARGIN
        return cls(math.floor(paced), 1.0) if paced >= 2 else cls(1, 1.0 / paced)

    @classmethod
    def per_minute(cls, rate: float) -> SlidingWindow:
        paced = rate * SAFETY_MARGIN
        return cls(math.floor(paced), 60.0) if paced >= 2 else cls(1, 60.0 / paced)

    def wait(self, now: float) -> float:
        """Seconds until one more message fits (a guess while answers are awaited)."""
        answered = self._answered
        while answered and answered[0] <= now - self.seconds:
            answered.popleft()
        excess = self._in_flight + len(answered) - self.count + 1
        if excess <= 0:
            return 0.0
        if excess <= len(answered):
            return answered[excess - 1] + self.seconds - now
        # Every place is held by a message still on its way: look again shortly.
        return self.seconds / self.count

    def let_through(self) -> None:
        self._in_flight += 1

    def answered(self, now: float) -> None:
        self._in_flight -= 1
        self._answered.append(now)

    def is_idle(self, now: float) -> bool:
        return self.wait(now) == 0.0 and not self._answered and not self._in_flight


class ChatRateLimiter(BaseRateLimiter[None]):
    def __init__(
        self,
        *,
        global_per_second: float,
        private_chat_per_second: float,
        group_per_minute: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        self._overall = SlidingWindow.per_second(global_per_second)
        self._private_rate = private_chat_per_second
        self._group_rate = group_per_minute
        self._chats: dict[ChatKey, SlidingWindow] = {}
        self._prune_above = _PRUNE_FLOOR
        self._paused_until = 0.0
        self._replies_waiting = 0
        self._replies_first_in_line = 0
        self._turns: dict[ChatKey, asyncio.Lock] = {}
        self._queued: dict[ChatKey, int] = {}
        self._closing = asyncio.Event()
        self._on_the_wire = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    @classmethod
    def from_settings(cls, settings: DeliverySettings) -> ChatRateLimiter:
        return cls(
            global_per_second=settings.global_per_second,
            private_chat_per_second=settings.private_chat_per_second,
            group_per_minute=settings.group_per_minute,
        )

    async def initialize(self) -> None:
        self._closing.clear()

    async def shutdown(self) -> None:
        """Refuse new requests; let those on the wire finish before PTB closes the client."""
        self._closing.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SHUTDOWN_GRACE_SECONDS):
                await self._quiet.wait()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, ApiResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> ApiResult:
        if not counts_as_message(endpoint):
            return await self._on_wire(callback, args, kwargs)
        chat = _chat_key(data.get("chat_id"))
        bulk = _bulk.get()
        attempt = 1
        while True:
            try:
                async with self.slot(chat, bulk=bulk):
                    return await self._on_wire(callback, args, kwargs)
            except RetryAfter as error:
                self.report_retry_after(retry_after_seconds(error))
                if bulk or attempt >= REPLY_ATTEMPTS:
                    raise
                attempt += 1
                log.warning("%s to chat %s met flood control; sent again after it", endpoint, chat)

    @contextlib.asynccontextmanager
    async def slot(self, chat: ChatKey | None, *, bulk: bool) -> AsyncIterator[None]:
        """Wait until a message to `chat` may go without exceeding any limit, and hold
        its place in the windows while it is sent (the body of the `async with`).

        Raises RateLimiterClosed once the bot is shutting down.
        """
        async with self._turn_in(chat):
            await self._wait_for_place(chat, bulk=bulk)
        windows = [self._overall] if chat is None else [self._overall, self._chat(chat)]
        for window in windows:
            window.let_through()
        try:
            yield
        finally:
            now = self._monotonic()
            for window in windows:
                window.answered(now)

    @contextlib.asynccontextmanager
    async def _turn_in(self, chat: ChatKey | None) -> AsyncIterator[None]:
        """Messages to one chat take their places in the order they asked for them, so that
        a chat gets its alert before the correction, yesterday's digest before today's."""
        if chat is None:
            yield
            return
        lock = self._turns.setdefault(chat, asyncio.Lock())
        self._queued[chat] = self._queued.get(chat, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._queued[chat] -= 1
            if not self._queued[chat]:
                del self._queued[chat], self._turns[chat]

    async def _wait_for_place(self, chat: ChatKey | None, *, bulk: bool) -> None:
        if not bulk:
            self._replies_waiting += 1
        # A reply that waits only for the overall window (not for its own chat's pace)
        # is first in line: broadcast sends let it have the next place.
        first_in_line = False
        try:
            while True:
                if self._closing.is_set():
                    raise RateLimiterClosed("message not sent: the bot is shutting down")
                chat_wait, _ = self._waits(chat)
                if not bulk and first_in_line != (chat_wait <= 0):
                    first_in_line = not first_in_line
                    self._replies_first_in_line += 1 if first_in_line else -1
                wait = self.wait_time(chat, bulk=bulk)
                if wait <= 0:
                    return
                await self._pause(wait)
        finally:
            if not bulk:
                self._replies_waiting -= 1
            if first_in_line:
                self._replies_first_in_line -= 1

    def report_retry_after(self, seconds: float) -> None:
        """Telegram answered 429: pause every message of the bot for `seconds`."""
        until = self._monotonic() + seconds
        if until > self._paused_until:
            self._paused_until = until
            log.warning("flood control: every message paused for %.0f s", seconds)

    def chat_delay(self, chat_id: int) -> float:
        """Seconds before a broadcast message to this chat in particular could go: a
        pause and the chat's own pace count; the overall window, everyone's lot, not."""
        now = self._monotonic()
        return max(0.0, self._paused_until - now, self._chat(chat_id).wait(now))

    @property
    def replies_waiting(self) -> int:
        """Replies waiting for a place in the windows (or for a pause to end)."""
        return self._replies_waiting

    def paused_for(self) -> float:
        """Seconds left of the pause after a 429 (0 when none)."""
        return max(0.0, self._paused_until - self._monotonic())

    def wait_time(self, chat: ChatKey | None, *, bulk: bool) -> float:
        """Seconds before a message to `chat` (None: naming no chat) could go."""
        chat_wait, overall_wait = self._waits(chat)
        wait = max(chat_wait, overall_wait)
        if bulk and wait <= 0 and self._replies_first_in_line:
            # A reply is waiting for the overall window: let it have the place.
            return 1.0 / self._overall.count
        return wait

    def _waits(self, chat: ChatKey | None) -> tuple[float, float]:
        """Seconds to wait for the chat's own pace, and for the bot's (pause included)."""
        now = self._monotonic()
        overall = max(self._paused_until - now, self._overall.wait(now))
        return (0.0 if chat is None else self._chat(chat).wait(now)), overall

    async def _on_wire(
        self, callback: Callable[..., Coroutine[Any, Any, ApiResult]], args: Any, kwargs: Any
    ) -> ApiResult:
        self._on_the_wire += 1
        self._quiet.clear()
        try:
            return await callback(*args, **kwargs)
        finally:
            self._on_the_wire -= 1
            if self._on_the_wire == 0:
                self._quiet.set()

    def _chat(self, chat: ChatKey) -> SlidingWindow:
        window = self._chats.get(chat)
        if window is None:
            private = isinstance(chat, int) and chat > 0
            window = (
                SlidingWindow.per_second(self._private_rate)
                if private
                else SlidingWindow.per_minute(self._group_rate)
            )
            self._chats[chat] = window
            if len(self._chats) > self._prune_above:
                self._prune()
        return window

    def _prune(self) -> None:
        # An empty window is exactly what a new one would be.
        now = self._monotonic()
        self._chats = {key: w for key, w in self._chats.items() if not w.is_idle(now)}
        self._prune_above = max(_PRUNE_FLOOR, 2 * len(self._chats))

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the bot starts shutting down."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._closing.wait()


def _chat_key(chat_id: object) -> ChatKey | None:
    """The chat a request is for: an id, an @username (groups and channels), or None."""
    if isinstance(chat_id, int | str) and not isinstance(chat_id, bool):
        with contextlib.suppress(ValueError):
            return int(chat_id)
        return chat_id
    return None
