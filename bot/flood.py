"""Per-user flood control: one person sending too much is slowed down, alone.

A user who sends more than `commands` messages or button presses within `per_seconds`
is told once to slow down and is then ignored for `cooldown_seconds`; the count starts
afresh after that. Messages are counted at the time Telegram stamped them, not when
the bot gets to them: one chat's updates are handled in order, at the pace its replies
may go, so a burst would otherwise look like a trickle. Kept in memory: a restart
forgives everyone, which is harmless.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from bot.config import FloodSettings

SLOW_DOWN = (
    "You are sending messages faster than I can answer. "
    "I will ignore you for {seconds} seconds; then try again, one at a time."
)


class Verdict(Enum):
    ANSWER = "answer"
    WARN = "warn"  # just went over: tell them once
    IGNORE = "ignore"


@dataclass
class _Sender:
    recent: deque[float] = field(default_factory=deque)
    ignored_until: float = 0.0


class FloodGuard:
    def __init__(self, settings: FloodSettings) -> None:
        self._settings = settings
        self._senders: dict[int, _Sender] = {}

    @property
    def cooldown_seconds(self) -> int:
        return round(self._settings.cooldown_seconds)

    def judge(self, user_id: int, sent_at: float) -> Verdict:
        """Count one message that `user_id` sent at `sent_at` (a Unix time) and say what
        to do with it."""
        now = sent_at
        sender = self._senders.setdefault(user_id, _Sender())
        if now < sender.ignored_until:
            return Verdict.IGNORE
        recent = sender.recent
        while recent and recent[0] <= now - self._settings.per_seconds:
            recent.popleft()
        recent.append(now)
        if len(recent) <= self._settings.commands:
            self._forget_idle(now)
            return Verdict.ANSWER
        recent.clear()
        sender.ignored_until = now + self._settings.cooldown_seconds
        return Verdict.WARN

    def _forget_idle(self, now: float) -> None:
        # Bounded memory: senders with nothing in their window are dropped now and then.
        if len(self._senders) > 4096:
            span = self._settings.per_seconds
            self._senders = {
                user: sender
                for user, sender in self._senders.items()
                if sender.ignored_until > now or (sender.recent and sender.recent[-1] > now - span)
            }


class OncePerWindow:
    """Lets one event per key through in each span of `seconds` (0: every event)."""

    def __init__(self, seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._monotonic = monotonic
        self._last: dict[int, float] = {}

    def first_in_window(self, key: int) -> bool:
        now = self._monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self._seconds:
            return False
        if len(self._last) > 4096:
            self._last = {k: t for k, t in self._last.items() if now - t < self._seconds}
        self._last[key] = now
        return True
