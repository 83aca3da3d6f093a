"""SQL for the tension index: the weighted incidents it is computed from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.models import Direction
from storage.codec import from_db_time, to_db_time


@dataclass(frozen=True, slots=True)
class WeighedIncident:
    id: int
    country: str
    occurred_at: datetime
    severity: int
    killed: int
    injured: int
    title: str
    event_type: str
    direction: Direction


async def incidents_revision(conn: aiosqlite.Connection) -> int:
    rows = await conn.execute_fetchall("SELECT revision FROM incidents_revision WHERE id = 1")
    return next((int(row[0]) for row in rows), 0)


# Rows are read this many at a time: at a million incidents on record the index's window
# holds tens of thousands, and their raw rows are not kept beside the incidents made of them.
_ROWS_AT_A_TIME = 2000


async def published_since(conn: aiosqlite.Connection, since: datetime) -> list[WeighedIncident]:
    """Published incidents that occurred at or after `since`, oldest first."""
    incidents: list[WeighedIncident] = []
    # One string object for each country and event type, however many incidents name it.
    names: dict[str, str] = {}
    async with conn.execute(
        "SELECT id, country, occurred_at, severity, coalesce(killed, 0), coalesce(injured, 0), "
        "title, event_type, direction FROM incidents "
        "WHERE status = 'published' AND occurred_at >= ? ORDER BY occurred_at",
        (to_db_time(since),),
    ) as cursor:
        while rows := await cursor.fetchmany(_ROWS_AT_A_TIME):
            incidents.extend(
                WeighedIncident(
                    id=row[0],
                    country=names.setdefault(row[1], row[1]),
                    occurred_at=from_db_time(row[2]),
                    severity=row[3],
                    killed=row[4],
                    injured=row[5],
                    title=row[6],
                    event_type=names.setdefault(row[7], row[7]),
                    direction=Direction(row[8]),
                )
                for row in rows
            )
    return incidents
