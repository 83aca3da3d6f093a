"""SQL for /count: published incidents tallied per period and direction, in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import aiosqlite

from bot.models import Direction
from storage.codec import to_db_time
from storage.incidents import EVERYWHERE, PlaceFilter, place_condition

Period = Literal["week", "month"]

# The first day of the period an incident's UTC date falls in: weeks start on Monday.
_PERIOD_START = {
    "week": "date(occurred_at, 'weekday 0', '-6 days')",
    "month": "strftime('%Y-%m-01', occurred_at)",
}


@dataclass(frozen=True)
class CasualtySums:
    """One casualty column summed over some incidents, with what the sum is made of."""

    reported: int  # sum of the figures given
    with_figure: int  # incidents that gave a figure (0 included)
    at_least: int  # of those, figures qualified "at least"
    more_than: int  # … "more than"
    up_to: int  # … "up to"
    approximate: int  # … "about" or "nearly"


@dataclass(frozen=True)
class PeriodCount:
    period_start: date
    direction: Direction
    incidents: int
    killed: CasualtySums
    injured: CasualtySums


async def count_by_period(
    conn: aiosqlite.Connection,
    *,
    since: datetime,
    until: datetime,
    period: Period,
    places: PlaceFilter = EVERYWHERE,
    direction: Direction | None = None,
) -> list[PeriodCount]:
    """Published incidents in `places` that occurred in [since, until), per period and
    direction."""
    where = ["status = 'published'", "occurred_at >= :since", "occurred_at < :until"]
    params: dict[str, object] = {"since": to_db_time(since), "until": to_db_time(until)}
    if condition := place_condition(places, params):
        where.append(condition)
    if direction is not None:
        where.append("direction = :direction")
        params["direction"] = direction.value
    sums = ", ".join(
        f"coalesce(sum({column}), 0), count({column}), "
        f"coalesce(sum({column}_qualifier = 'at least'), 0), "
        f"coalesce(sum({column}_qualifier = 'more than'), 0), "
        f"coalesce(sum({column}_qualifier = 'up to'), 0), "
        f"coalesce(sum({column}_qualifier IN ('about', 'nearly')), 0)"
        for column in ("killed", "injured")
    )
    sql = (
        f"SELECT {_PERIOD_START[period]} AS period_start, direction, count(*), {sums} "
        f"FROM incidents WHERE {' AND '.join(where)} "
        "GROUP BY period_start, direction ORDER BY period_start, direction"
    )
    return [
        PeriodCount(
            period_start=date.fromisoformat(row[0]),
            direction=Direction(row[1]),
            incidents=row[2],
            killed=CasualtySums(*row[3:9]),
            injured=CasualtySums(*row[9:15]),
        )
        for row in await conn.execute_fetchall(sql, params)
    ]
