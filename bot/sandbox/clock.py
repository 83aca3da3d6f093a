"""The sandbox's clock: real time, shifted as far as the person at the keyboard asks.

It keeps running between moves, unlike tests' ManualClock, because the bot's delivery
engine reschedules paced or retried messages a few seconds ahead on this clock and
expects those seconds to pass. A script's output stays reproducible all the same:
`/clock 2024-08-10 12:00` sets the clock to that exact minute, the bot shows times to
the minute, and a script finishes well within one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo

__all__ = ["ClockChange", "SandboxClock", "describe_shift", "parse_clock_change"]

_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1)}
_UNITS["m"] = timedelta(minutes=1)
_STEP = re.compile(r"(\d+)([wdhm])")
_RELATIVE = re.compile(r"([+-])((?:\d+[wdhm])+)")
_EXAMPLES = "e.g. /clock +1d, /clock +3h, /clock +30m or /clock 2024-08-10 12:00"


def _system_now() -> datetime:
    return datetime.now(UTC)


class SandboxClock:
    """A bot Clock that reads real time plus an offset the sandbox can change."""

    def __init__(self, real_now: Callable[[], datetime] = _system_now) -> None:
        self._real_now = real_now
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return self._real_now() + self._offset

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("SandboxClock.set needs a timezone-aware moment")
        self._offset = moment.astimezone(UTC) - self._real_now()

    def advance(self, delta: timedelta) -> None:
        self._offset += delta


ClockChange = datetime | timedelta
"""What a /clock line asks for: a moment to jump to, or a step to take."""


def parse_clock_change(text: str, zone: tzinfo) -> ClockChange:
    """Read `+1d`, `+3h`, `+30m`, `+1d12h`, `-2h`, or a date and time in `zone`.

    A date and time may carry its own UTC offset (`2024-08-10T12:00+03:00`); a date
    alone means midnight. Raise ValueError, worded for the person typing, otherwise.
    """
    cleaned = text.strip().replace(" ", "") if text.strip()[:1] in "+-" else text.strip()
    if not cleaned:
        raise ValueError(f"Say where to move the clock, {_EXAMPLES}")
    relative = _RELATIVE.fullmatch(cleaned.lower())
    if relative is not None:
        sign, steps = relative.groups()
        delta = sum(
            (int(count) * _UNITS[unit] for count, unit in _STEP.findall(steps)), timedelta(0)
        )
        if not delta:
            raise ValueError(f"That does not move the clock; {_EXAMPLES}")
        return -delta if sign == "-" else delta
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            f"I can't read {text.strip()!r} as a time or a step; {_EXAMPLES}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def describe_shift(delta: timedelta) -> str:
    """`+1 day 3 hours`, `-30 minutes`: how far a /clock line moved, for its echo."""
    sign = "-" if delta < timedelta(0) else "+"
    remaining = int(abs(delta).total_seconds()) // 60
    parts = []
    for size, name in ((24 * 60, "day"), (60, "hour"), (1, "minute")):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count} {name}{'' if count == 1 else 's'}")
    return sign + " ".join(parts) if parts else "+0 minutes"
