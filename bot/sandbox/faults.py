"""Error answers in Telegram's exact shape, injectable faults, and flood control.

Everything here produces the JSON body the real Bot API would send, because
PTB decides which exception to raise from the HTTP status *and* from
``parameters`` (``retry_after``, ``migrate_to_chat_id``); a fake that got the
shape slightly wrong would exercise a different code path in the bot.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "ApiError",
    "Fault",
    "FloodControl",
    "RateLimits",
    "bad_request",
    "forbidden",
    "migrated",
    "too_many_requests",
]


class ApiError(Exception):
    """An unsuccessful Bot API answer; raised inside method handlers, rendered by the server."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, int] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


def _prefixed(prefix: str, description: str) -> str:
    # Callers may pass either "chat not found" or the full "Bad Request: chat not found";
    # doubling the prefix would change the message PTB shows.
    return description if description.startswith(prefix) else f"{prefix}{description}"


def bad_request(description: str) -> ApiError:
    return ApiError(400, _prefixed("Bad Request: ", description))


def forbidden(description: str) -> ApiError:
    return ApiError(403, _prefixed("Forbidden: ", description))


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def migrated(new_chat_id: int) -> ApiError:
    return ApiError(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )


@dataclass(frozen=True)
class Fault:
    """One failure to inject with ``FakeBotApi.inject``; build it with the classmethods."""

    kind: Literal["error", "delay"]
    status: int = 0
    description: str = ""
    parameters: tuple[tuple[str, int], ...] = ()
    seconds: float = 0.0
    process_first: bool = True

    def to_error(self) -> ApiError:
        return ApiError(self.status, self.description, dict(self.parameters) or None)

    @classmethod
    def retry_after(cls, seconds: int) -> Fault:
        if seconds < 1:
            raise ValueError("Telegram never answers retry_after below 1 second")
        error = too_many_requests(seconds)
        return cls._from_error(error)

    @classmethod
    def forbidden(cls, description: str = "bot was blocked by the user") -> Fault:
        return cls._from_error(forbidden(description))

    @classmethod
    def chat_not_found(cls) -> Fault:
        return cls._from_error(bad_request("chat not found"))

    @classmethod
    def migrated(cls, new_chat_id: int) -> Fault:
        return cls._from_error(migrated(new_chat_id))

    @classmethod
    def server_error(cls, status: int = 502, description: str = "Bad Gateway") -> Fault:
        if not 500 <= status <= 599:
            raise ValueError("server_error needs a 5xx status")
        return cls(kind="error", status=status, description=description)

    @classmethod
    def bad_request(cls, description: str) -> Fault:
        return cls._from_error(bad_request(description))

    @classmethod
    def delay(cls, seconds: float, *, process_first: bool = True) -> Fault:
        """Answer only after ``seconds``.

        By default the request takes effect first and only the answer is late,
        which is what a slow Telegram does: a client that times out and retries
        a send then duplicates the message. ``process_first=False`` delays the
        processing too.
        """
        if seconds < 0:
            raise ValueError("delay must not be negative")
        return cls(kind="delay", seconds=seconds, process_first=process_first)

    @classmethod
    def _from_error(cls, error: ApiError) -> Fault:
        return cls(
            kind="error",
            status=error.status,
            description=error.description,
            parameters=tuple(sorted((error.parameters or {}).items())),
        )


@dataclass
class RateLimits:
    """Flood limits the fake enforces when set; None switches a limit off.

    Telegram documents roughly 30 messages a second overall, 1 a second per
    private chat (short bursts tolerated) and 20 a minute per group.
    """

    global_per_second: float | None = None
    per_private_chat_per_second: float | None = None
    per_group_per_minute: float | None = None


@dataclass
class _Bucket:
    rate: float  # tokens added per second
    capacity: float
    tokens: float
    stamp: float


class FloodControl:
    """Token buckets on the fake's clock, so tests can drive time instead of sleeping."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, int], _Bucket] = {}

    def reset(self) -> None:
        self._buckets.clear()

    def admit(self, limits: RateLimits, chat_id: int, *, private: bool) -> int | None:
        """Take one token from every applicable bucket, or return the retry_after to answer.

        Nothing is taken when any bucket is empty: a refused request must not
        eat into the budget of the next one.
        """
        wanted: list[tuple[tuple[str, int], float, float]] = []
        if limits.global_per_second is not None:
            rate = limits.global_per_second
            wanted.append((("global", 0), rate, max(1.0, rate)))
        if private and limits.per_private_chat_per_second is not None:
            rate = limits.per_private_chat_per_second
            wanted.append((("chat", chat_id), rate, max(1.0, rate)))
        if not private and limits.per_group_per_minute is not None:
            per_minute = limits.per_group_per_minute
            wanted.append((("chat", chat_id), per_minute / 60.0, max(1.0, per_minute)))

        now = self._clock()
        buckets: list[_Bucket] = []
        wait = 0.0
        for key, rate, capacity in wanted:
            if rate <= 0:
                raise ValueError("rate limits must be positive")
            bucket = self._buckets.get(key)
            if bucket is None or bucket.rate != rate or bucket.capacity != capacity:
                # A changed limit starts from a full bucket rather than from stale state.
                bucket = _Bucket(rate=rate, capacity=capacity, tokens=capacity, stamp=now)
                self._buckets[key] = bucket
            elapsed = max(0.0, now - bucket.stamp)
            bucket.tokens = min(bucket.capacity, bucket.tokens + elapsed * bucket.rate)
            bucket.stamp = now
            if bucket.tokens < 1.0:
                wait = max(wait, (1.0 - bucket.tokens) / bucket.rate)
            buckets.append(bucket)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1.0
        return None
