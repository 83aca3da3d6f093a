"""SQL for subscribers and the countries their choices cover."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time

import aiosqlite

from bot.models import Direction, Subscription
from storage.codec import from_db_time_or_none, to_db_time

_COLUMNS = (
    "chat_id, chat_type, active, inactive_reason, everywhere, regions, watches, min_severity, "
    "alert_directions, digest, "
    "digest_weekday, digest_time, timezone, quiet_start, quiet_end, skip_empty_digest, "
    "digest_chart, last_digest_at, next_digest_at"
)


async def get_subscription(conn: aiosqlite.Connection, chat_id: int) -> Subscription | None:
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM subscribers WHERE chat_id = ?", (chat_id,)
    )
    return next((_subscription_from_row(row) for row in rows), None)


async def save_subscription(
    conn: aiosqlite.Connection,
    subscription: Subscription,
    countries: Iterable[str],
    now: datetime,
    *,
    provinces: Iterable[tuple[str, str]] = (),
    sites: Iterable[SiteArea] = (),
) -> None:
    """Insert or replace a subscription and the places it covers: countries, provinces
    (country, admin1) and sites with their radius. Everywhere is the subscription's own
    flag, not the absence of places."""
    s = subscription
    await conn.execute(
        f"INSERT INTO subscribers ({_COLUMNS}, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (chat_id) DO UPDATE SET chat_type = excluded.chat_type, "
        "active = excluded.active, inactive_reason = excluded.inactive_reason, "
        "everywhere = excluded.everywhere, regions = excluded.regions, "
        "watches = excluded.watches, "
        "min_severity = excluded.min_severity, "
        "alert_directions = excluded.alert_directions, "
        "digest = excluded.digest, digest_weekday = excluded.digest_weekday, "
        "digest_time = excluded.digest_time, timezone = excluded.timezone, "
        "quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, "
        "skip_empty_digest = excluded.skip_empty_digest, digest_chart = excluded.digest_chart, "
        "last_digest_at = excluded.last_digest_at, next_digest_at = excluded.next_digest_at, "
        "updated_at = excluded.updated_at",
        (
            s.chat_id,
            s.chat_type,
            int(s.active),
            s.inactive_reason,
            int(s.everywhere),
            json.dumps(s.regions),
            json.dumps([watch.model_dump() for watch in s.watches]),
            s.min_severity,
            direction_bits(s.directions),
            s.digest.value,
            s.digest_weekday,
            _time_text(s.digest_time),
            s.timezone,
            _time_text(s.quiet_start) if s.quiet_start else None,
            _time_text(s.quiet_end) if s.quiet_end else None,
            int(s.skip_empty_digest),
            int(s.digest_chart),
            to_db_time(s.last_digest_at) if s.last_digest_at else None,
            to_db_time(s.next_digest_at) if s.next_digest_at else None,
            to_db_time(now),
            to_db_time(now),
        ),
    )
    for table in ("subscriber_countries", "subscriber_provinces", "subscriber_sites"):
        await conn.execute(f"DELETE FROM {table} WHERE chat_id = ?", (s.chat_id,))
    await conn.executemany(
        "INSERT OR IGNORE INTO subscriber_countries (chat_id, country) VALUES (?, ?)",
        [(s.chat_id, country) for country in countries],
    )
    await conn.executemany(
        "INSERT OR IGNORE INTO subscriber_provinces (chat_id, country, admin1) VALUES (?, ?, ?)",
        [(s.chat_id, country, admin1) for country, admin1 in provinces],
    )
    await conn.executemany(SITE_INSERT, [site_row(s.chat_id, a) for a in sites])


# The place tables' copies of the subscriber's activity, minimum severity and directions
# are filled in by triggers (migration 0022).
SITE_INSERT = (
    "INSERT OR REPLACE INTO subscriber_sites (chat_id, site, latitude, longitude, radius_km, "
    "watched, whole_box, south, north, west, east) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def site_row(chat_id: int, area: SiteArea) -> tuple[object, ...]:
    """The values of SITE_INSERT for one site a chat follows."""
    return (
        chat_id,
        area.site,
        area.latitude,
        area.longitude,
        area.radius_km,
        int(area.watched),
        int(area.area is not None),
        *area.box(),
    )


async def delete_subscription(conn: aiosqlite.Connection, chat_id: int) -> bool:
    """Forget a chat's choices (its countries go with it); True if there were any."""
    cursor = await conn.execute("DELETE FROM subscribers WHERE chat_id = ?", (chat_id,))
    return cursor.rowcount == 1


async def deactivate(conn: aiosqlite.Connection, chat_id: int, reason: str, now: datetime) -> bool:
    """Stop everything for a chat that Telegram says cannot be reached; True if it was active."""
    cursor = await conn.execute(
        "UPDATE subscribers SET active = 0, inactive_reason = ?, next_digest_at = NULL, "
        "updated_at = ? WHERE chat_id = ? AND active = 1",
        (reason, to_db_time(now), chat_id),
    )
    return cursor.rowcount == 1


async def move_chat(conn: aiosqlite.Connection, old_chat_id: int, new_chat_id: int) -> bool:
    """A group became a supergroup with a new id: the subscription follows it (its places
    with it, by the place tables' ON UPDATE CASCADE). True if one moved.

    If the supergroup has a subscription of its own already (its administrators
    subscribed there before the bot heard of the move), that one was chosen later, by the
    same people, and stands: the group's is deleted.
    """
    await conn.execute(
        "DELETE FROM subscribers WHERE chat_id = ? "
        "AND EXISTS (SELECT 1 FROM subscribers WHERE chat_id = ?)",
        (old_chat_id, new_chat_id),
    )
    cursor = await conn.execute(
        "UPDATE subscribers SET chat_id = ?, chat_type = 'supergroup' WHERE chat_id = ?",
        (new_chat_id, old_chat_id),
    )
    return cursor.rowcount == 1


async def due_for_digest(
    conn: aiosqlite.Connection, now: datetime, limit: int
) -> list[Subscription]:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM subscribers WHERE active = 1 AND next_digest_at IS NOT NULL "
        "AND next_digest_at <= ? ORDER BY next_digest_at LIMIT ?",
        (to_db_time(now), limit),
    ) as cursor:
        rows = await cursor.fetchall()
    return [_subscription_from_row(row) for row in rows]


async def set_digest_times(
    conn: aiosqlite.Connection,
    chat_id: int,
    last_digest_at: datetime | None,
    next_digest_at: datetime | None,
) -> None:
    await set_many_digest_times(conn, [(chat_id, last_digest_at, next_digest_at)])


async def set_many_digest_times(
    conn: aiosqlite.Connection, times: Sequence[tuple[int, datetime | None, datetime | None]]
) -> None:
    """(chat id, last digest, next digest) for many chats, in one statement."""
    await conn.executemany(
        "UPDATE subscribers SET last_digest_at = ?, next_digest_at = ? WHERE chat_id = ?",
        [
            (
                to_db_time(last_digest_at) if last_digest_at else None,
                to_db_time(next_digest_at) if next_digest_at else None,
                chat_id,
            )
            for chat_id, last_digest_at, next_digest_at in times
        ],
    )


async def subscribers_by_region(conn: aiosqlite.Connection) -> dict[str, int]:
    """Active subscribers per chosen region: "everywhere" for those who chose it, "sites
    watched only" and "no place" for those who chose no region."""
    counts: dict[str, int] = {}
    async with conn.execute(
        "SELECT everywhere, regions, watches FROM subscribers WHERE active = 1"
    ) as cursor:
        async for row in cursor:
            if row["everywhere"]:
                chosen = ["everywhere"]
            else:
                watched = ["sites watched only"] if row["watches"] != "[]" else ["no place"]
                chosen = json.loads(row["regions"]) or watched
            for region in chosen:
                counts[region] = counts.get(region, 0) + 1
    return counts


_KM_PER_DEGREE = 111.2


def distance_km_sql(
    latitude: str, longitude: str, other_latitude: str, other_longitude: str
) -> str:
    """SQL for the great-circle (haversine, mean Earth radius) distance in km between two
    points given as SQL terms (columns or parameters); the same as
    bot.subscriptions.areas.distance_km."""
    return (
        "2 * 6371.0088 * asin(sqrt("
        f"pow(sin(radians({other_latitude} - {latitude}) / 2), 2) + "
        f"cos(radians({latitude})) * cos(radians({other_latitude})) * "
        f"pow(sin(radians({other_longitude} - {longitude}) / 2), 2)))"
    )


@dataclass(frozen=True)
class SiteArea:
    """A site a subscriber follows, and how far around it incidents count: within
    `radius_km`, or anywhere in `area` (south, north, west, east) for a sea area, whose
    bounding box is the area itself."""

    site: str
    latitude: float
    longitude: float
    radius_km: float
    watched: bool
    area: tuple[float, float, float, float] | None = None

    def box(self) -> tuple[float, float, float, float]:
        """South, north, west and east edges of a box holding the area: what the index
        narrows a match to before the exact distance is computed (for a circle)."""
        if self.area is not None:
            return self.area
        dlat = self.radius_km / _KM_PER_DEGREE
        dlon = self.radius_km / (_KM_PER_DEGREE * max(0.01, math.cos(math.radians(self.latitude))))
        return (
            self.latitude - dlat,
            self.latitude + dlat,
            self.longitude - dlon,
            self.longitude + dlon,
        )


# alert_directions holds the chosen directions as bits, so alerts match with one AND.
DIRECTION_BIT = {Direction.ON_COALITION: 1, Direction.BY_COALITION: 2, Direction.OTHER: 4}


def direction_bits(directions: Iterable[Direction]) -> int:
    return sum({DIRECTION_BIT[direction] for direction in directions})


def _time_text(value: time) -> str:
    return value.strftime("%H:%M")


def _subscription_from_row(row: aiosqlite.Row) -> Subscription:
    return Subscription(
        chat_id=row["chat_id"],
        chat_type=row["chat_type"],
        active=bool(row["active"]),
        inactive_reason=row["inactive_reason"],
        everywhere=bool(row["everywhere"]),
        regions=json.loads(row["regions"]),
        watches=json.loads(row["watches"]),
        min_severity=row["min_severity"],
        directions=[d for d, bit in DIRECTION_BIT.items() if row["alert_directions"] & bit],
        digest=row["digest"],
        digest_weekday=row["digest_weekday"],
        digest_time=time.fromisoformat(row["digest_time"]),
        timezone=row["timezone"],
        quiet_start=time.fromisoformat(row["quiet_start"]) if row["quiet_start"] else None,
        quiet_end=time.fromisoformat(row["quiet_end"]) if row["quiet_end"] else None,
        skip_empty_digest=bool(row["skip_empty_digest"]),
        digest_chart=bool(row["digest_chart"]),
        last_digest_at=from_db_time_or_none(row["last_digest_at"]),
        next_digest_at=from_db_time_or_none(row["next_digest_at"]),
    )
