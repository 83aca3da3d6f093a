"""The regional tension index: how tense a region is now, against its own normal.

An incident of a hostile event type weighs w = severity_weights[severity-1] +
min(cap, killed_weight x killed + injured_weight x injured), times strike_weight when it
is a strike by US/coalition forces (a response, not an attack); its weight halves every
`half_life_days`. A region's index at the end of a day is the sum of the decayed weights
of its incidents so far. Its level compares that index with the region's own baseline —
the mean daily index over the previous `baseline_days`, never below `baseline_floor` —
and needs evidence: above elevated only with `evidence_incidents` counted incidents (not
counting US/coalition strikes) in the last `evidence_days`, or one that killed someone.
Its trend compares the mean index of the last 7 days with that of the 7 before.

Results are cached per incidents revision and day: any new, edited or retracted
incident moves the revision, and so recomputes the index.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from bot.clock import Clock
from bot.config import TensionSettings
from bot.models import Direction
from bot.regions import REGIONS, region_named
from storage.db import Database
from storage.tension import WeighedIncident, incidents_revision, published_since

TREND_DAYS = 7
DRIVERS = 3
# An incident whose weight today is below this share of the index, or below a weight
# that no figure we print shows, is not driving it.
_DRIVER_SHARE = 0.05
_NEGLIGIBLE_WEIGHT = 0.01
# Weight that has halved this many times no longer shows in any figure we print.
_NEGLIGIBLE_HALF_LIVES = 12


class Level(StrEnum):
    LOW = "low"
    GUARDED = "guarded"
    ELEVATED = "elevated"
    HIGH = "high"
    SEVERE = "severe"


class Trend(StrEnum):
    RISING = "▲"
    STEADY = "▶"
    FALLING = "▼"


@dataclass(frozen=True)
class Driver:
    """An incident pushing a region's index up now: its decayed weight today."""

    incident_id: int
    title: str
    occurred_at: datetime
    severity: int
    direction: Direction
    weight_now: float


@dataclass(frozen=True)
class Marker:
    """An incident in the chart window, drawn on the line."""

    occurred_at: datetime
    severity: int
    direction: Direction


@dataclass(frozen=True)
class RegionTension:
    name: str
    today: date
    index: float
    baseline: float
    level: Level
    trend: Trend
    series: list[tuple[date, float]]  # the chart window, oldest first
    markers: list[Marker]
    drivers: list[Driver]
    evidence: int  # counted incidents in the evidence window
    evidence_days: int
    held_back: bool  # the ratio alone would give a level above elevated; evidence is lacking

    @property
    def ratio(self) -> float:
        return self.index / self.baseline


def incident_weight(incident: WeighedIncident, settings: TensionSettings) -> float:
    if incident.event_type not in settings.hostile_event_types:
        return 0.0
    casualties = (
        settings.killed_weight * incident.killed + settings.injured_weight * incident.injured
    )
    weight = settings.severity_weights[incident.severity - 1] + min(
        settings.casualty_weight_cap, casualties
    )
    if incident.direction is Direction.BY_COALITION:
        return weight * settings.strike_weight
    return weight


def decayed(weight: float, age: timedelta, half_life_days: float) -> float:
    return weight * math.pow(0.5, age.total_seconds() / 86400 / half_life_days)


def level_for(ratio: float, thresholds: Sequence[float]) -> Level:
    levels = list(Level)
    # Each threshold is where the next level begins.
    for level, threshold in zip(levels, thresholds, strict=False):
        if ratio < threshold:
            return level
    return levels[-1]


def with_evidence(level: Level, incidents: int, deaths: bool, needed: int) -> Level:
    """The level, held at elevated when fewer than `needed` incidents and no deaths
    stand behind it: one modest attack in a quiet region is news, not a crisis."""
    if incidents >= needed or deaths:
        return level
    levels = list(Level)
    return levels[min(levels.index(level), levels.index(Level.ELEVATED))]


# A change of the index smaller than this is no trend: it is below the one decimal the index
# is shown with, and an index that only fades (a region gone quiet) loses a share of its
# value every week forever, which would read as "falling" long after there was anything
# left to fall.
SMALLEST_TREND = 0.05


def trend_for(series: Sequence[float], threshold: float) -> Trend:
    recent = sum(series[-TREND_DAYS:]) / TREND_DAYS
    before = sum(series[-2 * TREND_DAYS : -TREND_DAYS]) / TREND_DAYS
    if abs(recent - before) < SMALLEST_TREND:
        return Trend.STEADY
    if recent > before * (1 + threshold):
        return Trend.RISING
    if recent < before * (1 - threshold):
        return Trend.FALLING
    return Trend.STEADY


class TensionIndex:
    def __init__(self, db: Database, clock: Clock, settings: TensionSettings) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._cache: dict[tuple[int, date, int], dict[str, RegionTension]] = {}

    @property
    def settings(self) -> TensionSettings:
        return self._settings

    async def revision(self) -> int:
        return await incidents_revision(self._db.reader)

    async def regions(self, names: Sequence[str] = (), chart_days: int = 30) -> list[RegionTension]:
        """The tension of the named regions or countries (every grouping when none)."""
        everything = await self._all(chart_days)
        wanted = [region_named(name) or name for name in names] or list(REGIONS)
        return [
            everything[name] if name in everything else self._quiet(name, everything)
            for name in wanted
        ]

    async def resolve(self, text: str) -> str | None:
        """The region or country a user means, or None if the bot knows no such place."""
        region = region_named(text)
        if region is not None:
            return region
        wanted = text.strip().casefold()
        known = {country for countries in REGIONS.values() for country in countries}
        known.update(await self._all(30))
        return next((name for name in sorted(known) if name.casefold() == wanted), None)

    async def _all(self, chart_days: int) -> dict[str, RegionTension]:
        today = self._clock.now().astimezone(UTC).date()
        key = (await self.revision(), today, chart_days)
        if key not in self._cache:
            self._cache = {key: await self._compute(today, chart_days)}
        return self._cache[key]

    async def _compute(self, today: date, chart_days: int) -> dict[str, RegionTension]:
        s = self._settings
        history_days = max(chart_days, 2 * TREND_DAYS) + s.baseline_days
        first_day = today - timedelta(days=history_days - 1)
        since = _day_end(first_day) - timedelta(days=s.half_life_days * _NEGLIGIBLE_HALF_LIVES + 1)
        incidents = await published_since(self._db.reader, since)
        # Some tens of thousands of incidents at a million on record: a fraction of a second
        # of arithmetic, kept off the event loop so commands are answered meanwhile.
        return await asyncio.to_thread(self._regions_from, incidents, today, chart_days)

    def _regions_from(
        self, incidents: list[WeighedIncident], today: date, chart_days: int
    ) -> dict[str, RegionTension]:
        s = self._settings
        history_days = max(chart_days, 2 * TREND_DAYS) + s.baseline_days
        first_day = today - timedelta(days=history_days - 1)
        by_country: dict[str, list[WeighedIncident]] = defaultdict(list)
        end_of_today = _day_end(today)
        for incident in incidents:
            if incident.occurred_at < end_of_today:  # a record dated ahead counts from then
                by_country[incident.country].append(incident)
        result: dict[str, RegionTension] = {}
        groups = {name: list(countries) for name, countries in REGIONS.items()}
        groups.update({country: [country] for country in by_country if country not in groups})
        days = [first_day + timedelta(days=n) for n in range(history_days)]
        for name, countries in groups.items():
            members = sorted(
                (i for c in countries for i in by_country.get(c, [])), key=lambda i: i.occurred_at
            )
            result[name] = self._region(name, members, days, today, chart_days)
        return result

    def _region(
        self,
        name: str,
        incidents: list[WeighedIncident],
        days: list[date],
        today: date,
        chart_days: int,
    ) -> RegionTension:
        s = self._settings
        weights = [incident_weight(incident, s) for incident in incidents]
        values = _daily_index(incidents, weights, days, s.half_life_days)
        index = values[-1]
        baseline_values = values[-1 - s.baseline_days : -1]
        baseline = max(s.baseline_floor, sum(baseline_values) / len(baseline_values))
        chart_start = today - timedelta(days=chart_days - 1)
        end_of_today = _day_end(today)
        weighed_now = [
            (incident, decayed(weight, end_of_today - incident.occurred_at, s.half_life_days))
            for incident, weight in zip(incidents, weights, strict=True)
            if weight > 0
        ]
        drivers = sorted(
            (
                Driver(
                    incident_id=incident.id,
                    title=incident.title,
                    occurred_at=incident.occurred_at,
                    severity=incident.severity,
                    direction=incident.direction,
                    weight_now=weight_now,
                )
                for incident, weight_now in weighed_now
                if weight_now >= max(_DRIVER_SHARE * index, _NEGLIGIBLE_WEIGHT)
            ),
            key=lambda driver: -driver.weight_now,
        )[:DRIVERS]
        evidence_start = end_of_today - timedelta(days=s.evidence_days)
        # Strikes by US/coalition forces answer attacks; they are not more evidence of them.
        evidence = [
            i
            for i, _ in weighed_now
            if i.occurred_at >= evidence_start and i.direction is not Direction.BY_COALITION
        ]
        by_ratio = level_for(index / baseline, s.level_ratios)
        level = with_evidence(
            by_ratio, len(evidence), any(i.killed > 0 for i in evidence), s.evidence_incidents
        )
        return RegionTension(
            name=name,
            today=today,
            index=index,
            baseline=baseline,
            level=level,
            trend=trend_for(values, s.trend_threshold),
            series=[
                (day, value) for day, value in zip(days, values, strict=True) if day >= chart_start
            ],
            markers=[
                Marker(i.occurred_at, i.severity, i.direction)
                for i in incidents
                if i.occurred_at.date() >= chart_start
            ],
            drivers=drivers,
            evidence=len(evidence),
            evidence_days=s.evidence_days,
            held_back=level is not by_ratio,
        )

    def _quiet(self, name: str, everything: dict[str, RegionTension]) -> RegionTension:
        """A country with no incidents on record: low and steady."""
        template = next(iter(everything.values()))
        return RegionTension(
            name=name,
            today=template.today,
            index=0.0,
            baseline=self._settings.baseline_floor,
            level=Level.LOW,
            trend=Trend.STEADY,
            series=[(day, 0.0) for day, _ in template.series],
            markers=[],
            drivers=[],
            evidence=0,
            evidence_days=self._settings.evidence_days,
            held_back=False,
        )


def _daily_index(
    incidents: list[WeighedIncident], weights: list[float], days: list[date], half_life: float
) -> list[float]:
    """The index at the end of each day, in one pass: yesterday's value decays by a
    day's factor and today's incidents are added, so a million incidents stay fast."""
    one_day = math.pow(0.5, 1 / half_life)
    values: list[float] = []
    running = 0.0
    position = 0
    previous_end = _day_end(days[0]) - timedelta(days=1)
    # What happened before the first day counts, decayed to the start of it.
    while position < len(incidents) and incidents[position].occurred_at <= previous_end:
        age = previous_end - incidents[position].occurred_at
        running += decayed(weights[position], age, half_life)
        position += 1
    for day in days:
        end = _day_end(day)
        running *= one_day
        while position < len(incidents) and incidents[position].occurred_at <= end:
            age = end - incidents[position].occurred_at
            running += decayed(weights[position], age, half_life)
            position += 1
        values.append(running)
    return values


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
