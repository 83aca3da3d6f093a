"""Every request the bot makes, paced to stay within Telegram's flood limits.

PTB's own AIORateLimiter is not enough for broadcasts: it has no limit per
private chat, and one 429 pauses every request of the bot. This limiter keeps
token buckets for the bot as a whole, for each private chat and for each group
or channel; a 429 pauses only the chat it names (everything only when the call
named no chat). Command replies and the delivery engine's sends go through the
same buckets, because both go through the application's one bot.

Bulk sends (the delivery engine's) wait for every bucket, and leave part of the
overall one to everything else. Replies to commands are paced by the person
typing: they are counted in their chat's bucket but never wait for it, so
someone tapping through a menu sees no delay. A reply to a chat Telegram has
paused fails at once with RetryAfter rather than waiting, because PTB handles
updates one at a time and a waiting reply would hold up everyone's.

Requests are not retried here (PTB's ``max_retries`` 0): a send refused with
429 is rescheduled by the delivery engine through the outbox, where it survives
a restart; a command reply is not worth repeating late.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.config import DeliverySettings
from bot.ptb_compat import retry_after_seconds

log = logging.getLogger(__name__)

ChatKey = int | str
ApiResult = bool | dict[str, Any] | list[dict[str, Any]]

# Telegram tolerates short bursts in a chat: a subscriber's alert, correction and
# digest falling due together go out at once.
CHAT_BURST = 3
# Bulk sends leave this share of the overall bucket untouched, so that a reply to a
# command finds a token at once even while a broadcast runs at the overall limit.
INTERACTIVE_SHARE = 0.25
# How long shutdown waits for requests already on the wire, before the HTTP client closes.
SHUTDOWN_GRACE_SECONDS = 5.0
# Buckets of idle chats are forgotten once there are more than this many (and twice as
# many as were kept the last time), so that a broadcast to many chats leaves no residue.
_PRUNE_FLOOR = 1024

_bulk: ContextVar[bool] = ContextVar("incident_bot_bulk_send", default=False)


def send_in_bulk() -> None:
    """Mark the requests of the current task, and of the tasks it starts, as bulk.

    Bulk requests yield to everything else for the overall budget.
    """
    _bulk.set(True)


class RateLimiterClosed(RuntimeError):
    """The bot is shutting down: the request was not sent."""


@dataclass
class TokenBucket:
    """`rate` tokens a second, at most `capacity` saved up; a request takes one."""

    rate: float
    capacity: float
    tokens: float
    stamp: float

    @classmethod
    def full(cls, rate: float, capacity: float, now: float) -> TokenBucket:
        return cls(rate=rate, capacity=capacity, tokens=capacity, stamp=now)

    def wait(self, now: float, keep: float = 0.0) -> float:
        """Seconds until a token can be taken with `keep` tokens still left."""
        self._refill(now)
        return max(0.0, (1.0 + keep - self.tokens) / self.rate)

    def take(self, now: float) -> None:
        """Use a token; a request let through without one (a reply) owes nothing."""
        self._refill(now)
        self.tokens = max(0.0, self.tokens - 1.0)

    def is_full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.capacity

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now


@dataclass
class _Chat:
    bucket: TokenBucket
    blocked_until: float = 0.0


class ChatRateLimiter(BaseRateLimiter[None]):
    def __init__(
        self,
        *,
        global_per_second: float,
        private_chat_per_second: float,
        group_per_minute: float,
        chat_burst: int = CHAT_BURST,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        capacity = max(1.0, global_per_second)
        self._overall = TokenBucket.full(global_per_second, capacity, monotonic())
        self._reserve = math.floor(capacity * INTERACTIVE_SHARE)
        self._private_rate = private_chat_per_second
        self._group_rate = group_per_minute / 60.0
        self._chat_burst = float(chat_burst)
        self._chats: dict[ChatKey, _Chat] = {}
        self._prune_above = _PRUNE_FLOOR
        self._all_blocked_until = 0.0
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
        chat = _chat_key(data.get("chat_id")) if counts_as_message(endpoint) else None
        bulk = _bulk.get()
        while True:
            if self._closing.is_set():
                raise RateLimiterClosed(f"{endpoint} not sent: the bot is shutting down")
            blocked = self.blocked_for(chat)
            if blocked > 0 and not bulk:
                raise RetryAfter(math.ceil(blocked))
            wait = self.wait_time(chat, bulk=bulk)
            if wait <= 0:
                break
            await self._pause(wait)
        self._admit(chat)
        self._on_the_wire += 1
        self._quiet.clear()
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as error:
            self._block(chat, error)
            raise
        finally:
            self._on_the_wire -= 1
            if self._on_the_wire == 0:
                self._quiet.set()

    def wait_time(self, chat: ChatKey | None, *, bulk: bool) -> float:
        """Seconds before a request for `chat` (None: a call naming no chat) may go."""
        now = self._monotonic()
        if chat is None:
            return max(0.0, self._all_blocked_until - now) if bulk else 0.0
        if not bulk:
            return self._overall.wait(now)
        return max(
            0.0,
            self._all_blocked_until - now,
            self._chat_wait(chat, now),
            self._overall.wait(now, keep=self._reserve),
        )

    def blocked_for(self, chat: ChatKey | None) -> float:
        """Seconds left of a 429 covering `chat` (or, for None, every request)."""
        now = self._monotonic()
        blocked = self._all_blocked_until - now
        if chat is not None:
            blocked = max(blocked, self._chat(chat, now).blocked_until - now)
        return max(0.0, blocked)

    def chat_delay(self, chat_id: int) -> float:
        """Seconds before a bulk message to this chat in particular could go.

        A 429 for the chat (or for the whole bot) and its own bucket count; the
        overall bucket does not, since waiting for it is everyone's lot.
        """
        now = self._monotonic()
        return max(0.0, self._all_blocked_until - now, self._chat_wait(chat_id, now))

    def _chat_wait(self, chat: ChatKey, now: float) -> float:
        state = self._chat(chat, now)
        return max(state.blocked_until - now, state.bucket.wait(now))

    def _admit(self, chat: ChatKey | None) -> None:
        if chat is None:
            return
        now = self._monotonic()
        self._overall.take(now)
        self._chat(chat, now).bucket.take(now)

    def _block(self, chat: ChatKey | None, error: RetryAfter) -> None:
        seconds = retry_after_seconds(error)
        now = self._monotonic()
        until = now + seconds
        if chat is None:
            self._all_blocked_until = max(self._all_blocked_until, until)
            log.warning("flood control: every request paused for %.0f s", seconds)
        else:
            state = self._chat(chat, now)
            state.blocked_until = max(state.blocked_until, until)
            log.warning("flood control: chat %s paused for %.0f s", chat, seconds)

    def _chat(self, chat: ChatKey, now: float) -> _Chat:
        state = self._chats.get(chat)
        if state is None:
            private = isinstance(chat, int) and chat > 0
            rate = self._private_rate if private else self._group_rate
            state = _Chat(TokenBucket.full(rate, self._chat_burst, now))
            self._chats[chat] = state
            if len(self._chats) > self._prune_above:
                self._prune(now)
        return state

    def _prune(self, now: float) -> None:
        # A full, unblocked bucket is exactly what a new one would be.
        self._chats = {
            key: state
            for key, state in self._chats.items()
            if state.blocked_until > now or not state.bucket.is_full(now)
        }
        self._prune_above = max(_PRUNE_FLOOR, 2 * len(self._chats))

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the bot starts shutting down."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._closing.wait()


def counts_as_message(endpoint: str) -> bool:
    """Whether Telegram counts the call against its message limits: sending or editing
    a message does; looking something up (getChatMember) or answering a button does not."""
    return endpoint.startswith(("send", "edit", "copyMessage", "forwardMessage"))


def _chat_key(chat_id: object) -> ChatKey | None:
    """The chat a request is for: an id, an @username (groups and channels), or None."""
    if isinstance(chat_id, int | str) and not isinstance(chat_id, bool):
        with contextlib.suppress(ValueError):
            return int(chat_id)
        return chat_id
    return None
