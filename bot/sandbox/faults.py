"""Error answers in Telegram's exact shape, injectable faults, and flood control.

Everything here produces the JSON body the real Bot API would send, because
PTB decides which exception to raise from the HTTP status *and* from
``parameters`` (``retry_after``, ``migrate_to_chat_id``); a fake that got the
shape slightly wrong would exercise a different code path in the bot.
"""

from __future__ import annotations

import math
from collections import deque
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
    private chat and 20 a minute per group, and is reported to count them in
    sliding windows: 30 in any one-second span, not 30 per clock second.
    """

    global_per_second: float | None = None
    per_private_chat_per_second: float | None = None
    per_group_per_minute: float | None = None


@dataclass(frozen=True)
class _Window:
    """At most `count` messages in any span of `seconds`."""

    count: int
    seconds: float

    @classmethod
    def per_second(cls, rate: float) -> _Window:
        if rate <= 0:
            raise ValueError("rate limits must be positive")
        # 1 a second is one message in any one-second span; 0.5 a second, one in two.
        return cls(math.floor(rate), 1.0) if rate >= 1 else cls(1, 1.0 / rate)


class FloodControl:
    """Sliding windows on the fake's clock, as strict as Telegram is reported to be.

    Over the overall limit, Telegram answers 429 to every send of the bot, to any
    chat, until retry_after has passed: the bot as a whole is paused. Over a chat's
    own limit only that chat's sends are refused. Either answer reads the same
    ("Too Many Requests: retry after N"), as Telegram's does. A refused send does
    not count against any window. Tests drive the clock instead of sleeping.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._sent: dict[tuple[str, int], deque[float]] = {}
        self._windows: dict[tuple[str, int], _Window] = {}
        self._bot_paused_until = 0.0

    def reset(self) -> None:
        self._sent.clear()
        self._windows.clear()
        self._bot_paused_until = 0.0

    def pause_bot(self, seconds: float) -> None:
        """Answer every send 429 for `seconds`, as Telegram does over its overall limit."""
        self._bot_paused_until = max(self._bot_paused_until, self._clock() + seconds)

    def admit(self, limits: RateLimits, chat_id: int, *, private: bool) -> int | None:
        """Count one send, or return the retry_after to answer instead."""
        now = self._clock()
        if now < self._bot_paused_until:
            return max(1, math.ceil(self._bot_paused_until - now))
        wanted: list[tuple[tuple[str, int], _Window]] = []
        if limits.global_per_second is not None:
            wanted.append((("global", 0), _Window.per_second(limits.global_per_second)))
        if private and limits.per_private_chat_per_second is not None:
            window = _Window.per_second(limits.per_private_chat_per_second)
            wanted.append((("chat", chat_id), window))
        if not private and limits.per_group_per_minute is not None:
            if limits.per_group_per_minute <= 0:
                raise ValueError("rate limits must be positive")
            window = _Window(max(1, math.floor(limits.per_group_per_minute)), 60.0)
            wanted.append((("chat", chat_id), window))
        for key, window in wanted:
            wait = self._wait(key, window, now)
            if wait > 0:
                retry_after = max(1, math.ceil(wait))
                if key[0] == "global":
                    self._bot_paused_until = now + retry_after
                return retry_after
        for key, _ in wanted:
            self._sent[key].append(now)
        return None

    def _wait(self, key: tuple[str, int], window: _Window, now: float) -> float:
        """Seconds until one more send fits in `key`'s window."""
        if self._windows.get(key) != window:
            # A changed limit starts afresh rather than from stale counts.
            self._windows[key] = window
            self._sent[key] = deque()
        sent = self._sent[key]
        while sent and sent[0] <= now - window.seconds:
            sent.popleft()
        if len(sent) < window.count:
            return 0.0
        return sent[len(sent) - window.count] + window.seconds - now
