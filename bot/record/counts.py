"""/count: how many incidents, of which direction, and how many killed and injured.

Casualty totals say what they are made of. Figures are summed as given; a sum that
includes an "at least" figure is itself "at least", one that includes an "about" or
"nearly" figure is "about"; and incidents that gave no figure are counted apart
("unknown in 12 incidents"), never as zero.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.clock import Clock
from bot.errors import UserError
from bot.models import Direction, Qualifier
from bot.places import PlaceQuery
from bot.subscriptions.areas import place_filter
from storage.counts import CasualtySums, Period, count_by_period
from storage.db import Database
from storage.incidents import EVERYWHERE

# The day after the 7 October 2023 attack on Israel when attacks on US forces in Iraq
# and Syria began: where an analyst's "since the war began" count starts.
DEFAULT_SINCE = date(2023, 10, 17)
# Longer spans are charted per month, shorter ones per week.
_WEEKLY_UP_TO = timedelta(days=26 * 7)


@dataclass(frozen=True)
class CasualtyTotal:
    reported: int
    qualifier: Qualifier  # what the sum of the figures is: exact, a bound, or about
    unknown_in: int  # incidents that gave no figure


@dataclass(frozen=True)
class CountReport:
    place: str | None
    direction: Direction | None
    since: date
    until: date  # inclusive
    as_of: datetime
    period: Period
    by_period: list[tuple[date, dict[Direction, int]]]  # every period of the span, in order
    by_direction: dict[Direction, int]
    killed: CasualtyTotal
    injured: CasualtyTotal

    @property
    def incidents(self) -> int:
        return sum(self.by_direction.values())


class CountError(UserError, ValueError):
    """A span that cannot be counted, worded to say what would work."""


class CountService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def count(
        self,
        place: PlaceQuery | None = None,
        since: date | None = None,
        until: date | None = None,
        direction: Direction | None = None,
    ) -> CountReport:
        now = self._clock.now()
        today = now.astimezone(UTC).date()
        first = since or DEFAULT_SINCE
        # Nothing has occurred after today: a later end would only add empty periods to
        # count and draw (centuries of them, for a careless /count until 2999-12-31).
        last = min(until, today) if until else today
        if first > last:
            raise CountError(
                f"The span starts after it ends ({first:%Y-%m-%d} to {last:%Y-%m-%d}). "
                "e.g. /count Iraq since 2023-10-17 until 2024-02-01"
            )
        period: Period = "week" if last - first <= _WEEKLY_UP_TO else "month"
        rows = await count_by_period(
            self._db.reader,
            since=_midnight(first),
            until=_midnight(last + timedelta(days=1)),
            period=period,
            places=place_filter(place) if place else EVERYWHERE,
            direction=direction,
        )
        per_period: dict[date, dict[Direction, int]] = defaultdict(dict)
        by_direction = dict.fromkeys(Direction, 0)
        for row in rows:
            per_period[row.period_start][row.direction] = row.incidents
            by_direction[row.direction] += row.incidents
        total = sum(by_direction.values())
        return CountReport(
            place=place.label if place else None,
            direction=direction,
            since=first,
            until=last,
            as_of=now,
            period=period,
            by_period=[
                (start, per_period.get(start, {})) for start in _periods(first, last, period)
            ],
            by_direction=by_direction,
            killed=_total([row.killed for row in rows], total),
            injured=_total([row.injured for row in rows], total),
        )


def _total(sums: list[CasualtySums], incidents: int) -> CasualtyTotal:
    """The figures' sum and what it is: one "more than" figure makes the sum a strict lower
    bound, one "at least" a lower bound, "up to" an upper one; lower and upper bounds
    together, or one "about", bound it on neither side."""
    with_figure = sum(s.with_figure for s in sums)
    lower = any(s.at_least or s.more_than for s in sums)
    upper = any(s.up_to for s in sums)
    if any(s.approximate for s in sums) or (lower and upper):
        qualifier = Qualifier.ABOUT
    elif upper:
        qualifier = Qualifier.UP_TO
    elif any(s.more_than for s in sums):
        qualifier = Qualifier.MORE_THAN
    elif lower:
        qualifier = Qualifier.AT_LEAST
    else:
        qualifier = Qualifier.EXACT
    return CasualtyTotal(
        reported=sum(s.reported for s in sums),
        qualifier=qualifier,
        unknown_in=incidents - with_figure,
    )


def _periods(first: date, last: date, period: Period) -> list[date]:
    """The first day of every week (Monday) or month that the span touches."""
    if period == "week":
        start = first - timedelta(days=first.weekday())
        return [start + timedelta(weeks=n) for n in range((last - start).days // 7 + 1)]
    starts = []
    month = date(first.year, first.month, 1)
    while month <= last:
        starts.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return starts


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)
