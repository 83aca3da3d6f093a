"""What every benchmark shares: figures, a moving clock, settings, percentiles."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from bot.config import Settings
from bot.models import IncidentContent

Backend = Literal["aiohttp", "httpx"]
BACKENDS: tuple[Backend, ...] = ("aiohttp", "httpx")

TOKEN = "123456789:BENCH-token-not-real"
# The generated data ends here (bench.generate.END); the bench clock starts half a day later,
# so digests and "latest" see a record that is current.
ANCHOR = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
# Chat ids: bench.generate numbers subscribers from here; the probing user is apart from them.
FIRST_SUBSCRIBER = 1_000_000
PROBE_USER = 777_000_001


@dataclass
class Figure:
    """One number of the report, with its goal when it has one."""

    key: str
    label: str
    value: float
    unit: str
    goal: str = ""
    passed: bool | None = None  # None: informational, no goal
    ceiling: float | None = None  # the ceiling it is a ratio to, when it is a ratio
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Log:
    """Progress lines while the benchmarks run."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def __call__(self, line: str) -> None:
        if not self.quiet:
            print(line, flush=True)


def at_most(value: float, limit: float) -> bool:
    return value <= limit


def at_least(value: float, limit: float) -> bool:
    return value >= limit


class BenchClock:
    """The bot's clock: starts at ANCHOR and moves with real (monotonic) time."""

    def __init__(self, start: datetime = ANCHOR) -> None:
        self._start = start
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._origin)


def bot_settings(
    db_path: Path,
    api_root: str,
    *,
    backend: Backend = "aiohttp",
    concurrency: int = 64,
    global_per_second: float = 100_000,
    private_per_second: float = 1_000,
) -> Settings:
    """The bot's settings against the fake: its token and address, the database, the pace.

    Validated as a configuration file would be, without the environment's overrides.
    """
    return Settings.model_validate(
        {
            "telegram": {
                "token": TOKEN,
                "api_base_url": api_root,
                "http_backend": backend,
                # Every send of the engine in flight, plus room for command replies.
                "connection_pool_size": max(64, concurrency + 16),
            },
            "storage": {"path": db_path},
            "bot": {"timezone": "Asia/Baghdad"},
            "delivery": {
                "global_per_second": global_per_second,
                "private_chat_per_second": private_per_second,
                "concurrency": concurrency,
            },
        }
    )


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1): with 100 values, p99 is the second highest."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def alert_incident(n: int, country: str = "Iraq", severity: int = 4) -> IncidentContent:
    """A realistic incident to publish: the kind of card subscribers get most."""
    return IncidentContent.model_validate(
        {
            "external_id": f"bench-alert:{n}:{time.time_ns()}",
            "occurred_at": ANCHOR - timedelta(hours=1),
            "title": "Rockets strike Ain al-Asad Air Base",
            "summary": (
                "At least two rockets landed inside the base. Five or more US service members "
                "and contractors were hurt. Nobody claimed the attack."
            ),
            "event_type": "Explosions/Remote violence",
            "sub_event_type": "Shelling/artillery/missile attack",
            "country": country,
            "admin1": "Anbar",
            "location": "Ain al-Asad Air Base",
            "latitude": 33.8,
            "longitude": 42.44,
            "perpetrator": "Iran-backed militia (unidentified)",
            "target": "US and coalition forces",
            "claimed_by": None,
            "injured": {"value": 5, "qualifier": "at least"},
            "severity": severity,
            "sources": [{"name": "Reuters", "url": "https://www.reuters.com/world/middle-east/"}],
            "tags": ["rocket", "us-forces"],
        }
    )


def no_429_figure(key: str, label: str, rate_limited: int) -> Figure:
    """The goal every paced fan-out has: the fake never had to answer 429."""
    return Figure(
        key=key, label=label, value=rate_limited, unit="count", goal="0",
        passed=rate_limited == 0,
    )  # fmt: skip


def rate_ratio_figure(
    key: str,
    label: str,
    *,
    achieved: float,
    limit: float,
    goal: float,
    seconds: float,
    note: str = "",
) -> Figure:
    """A paced fan-out's achieved rate as a share of the limit it was held to."""
    return Figure(
        key=key, label=label, value=achieved / limit, unit="ratio", goal=f"≥ {goal:g}",
        passed=at_least(achieved / limit, goal), ceiling=limit,
        note=f"{achieved:,.1f} msg/s over {seconds:.1f} s{note}",
        extra={"achieved": achieved, "seconds": seconds},
    )  # fmt: skip
