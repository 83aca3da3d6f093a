"""SQL for escalation notices: attacks on one site within a window, the notices already
given, and the followers of a site, its province or its country to tell."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.models import Direction, OutgoingMessage
from storage.codec import from_db_time, to_db_time
from storage.outbox import ALERT_PRIORITY
from storage.subscribers import DIRECTION_BIT, SiteArea, distance_km_sql

# The same great-circle distance as alert matching, from a site (:latitude, :longitude)
# to an incident's coordinates.
_DISTANCE_KM = distance_km_sql(":latitude", ":longitude", "latitude", "longitude")


@dataclass(frozen=True)
class SiteAttack:
    incident_id: int
    occurred_at: datetime


@dataclass(frozen=True)
class Notice:
    """An escalation notice as recorded: the `number`-th attack on `site` within
    `window_days` (None for a notice recorded before it was kept), after attacks at
    `previous`; `line` is how it was worded in the bot's time zone."""

    site: str
    number: int
    window_days: float | None
    previous: list[datetime]
    incident_id: int
    line: str


async def attacks_on_site(
    conn: aiosqlite.Connection,
    site: SiteArea,
    spellings: Sequence[str],
    since: datetime,
    until: datetime,
) -> list[SiteAttack]:
    """Published attacks on US/coalition forces that occurred in [since, until], at the
    site by name (any of its spellings) or with coordinates within its radius; oldest
    first. Retracted incidents and incidents edited away from the site are not among them."""
    south, north, west, east = site.box()
    params = {
        "since": to_db_time(since),
        "until": to_db_time(until),
        "latitude": site.latitude,
        "longitude": site.longitude,
        "south": south,
        "north": north,
        "west": west,
        "east": east,
        "radius": site.radius_km,
    }
    # Named and positional parameters cannot mix: the spellings go in as named ones too.
    names = {f"name{n}": spelling for n, spelling in enumerate(spellings)}
    named = ", ".join(f":{key}" for key in names)
    async with conn.execute(
        "SELECT id, occurred_at FROM incidents WHERE status = 'published' "
        "AND direction = 'on_coalition' AND occurred_at >= :since AND occurred_at <= :until "
        f"AND (location COLLATE NOCASE IN ({named}) OR (latitude BETWEEN :south AND :north "
        f"AND longitude BETWEEN :west AND :east AND {_DISTANCE_KM} <= :radius)) "
        "ORDER BY occurred_at, id",
        {**params, **names},
    ) as cursor:
        rows = await cursor.fetchall()
    return [SiteAttack(row[0], from_db_time(row[1])) for row in rows]


async def noticed_since(conn: aiosqlite.Connection, site: str, since: datetime) -> bool:
    """Whether a notice for `site` was given for an attack at or after `since`."""
    async with conn.execute(
        "SELECT 1 FROM escalation_notices WHERE site = ? AND occurred_at >= ? LIMIT 1",
        (site, to_db_time(since)),
    ) as cursor:
        return await cursor.fetchone() is not None


async def record_notice(
    conn: aiosqlite.Connection,
    *,
    site: SiteArea,
    country: str,
    admin1: str,
    incident_id: int,
    attacks: Sequence[SiteAttack],
    window_days: float,
    line: str,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO escalation_notices (site, country, admin1, incident_id, ordinal, "
        "occurred_at, previous, previous_at, window_days, line, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            site.site,
            country,
            admin1,
            incident_id,
            len(attacks),
            to_db_time(attacks[-1].occurred_at),
            json.dumps([attack.incident_id for attack in attacks[:-1]]),
            json.dumps(
                [to_db_time(a.occurred_at) for a in attacks if a.incident_id != incident_id]
            ),
            window_days,
            line,
            to_db_time(now),
        ),
    )


# The followers of a notice's site (by /subscribe or /watch), its province or its country,
# who want alerts about attacks on US/coalition forces.
_FOLLOWERS = (
    "SELECT chat_id FROM subscriber_sites WHERE site = :site AND {wants} "
    "UNION ALL SELECT chat_id FROM subscriber_provinces "
    "WHERE country = :country AND admin1 = :admin1 AND {wants} "
    "UNION ALL SELECT chat_id FROM subscriber_countries WHERE country = :country AND {wants}"
).format(
    # On the place tables' copies of the subscriber's choices (migration 0022).
    wants="active = 1 AND min_severity IS NOT NULL "
    f"AND alert_directions & {DIRECTION_BIT[Direction.ON_COALITION]}"
)


async def follower_zones(conn: aiosqlite.Connection, incident_id: int) -> list[str]:
    """The time zones of the followers of this attack's notice: one wording for each."""
    notice = await _notice_of(conn, incident_id)
    if notice is None:
        return []
    async with conn.execute(
        f"SELECT DISTINCT s.timezone FROM ({_FOLLOWERS}) JOIN subscribers s USING (chat_id)",
        notice,
    ) as cursor:
        return [str(row[0]) for row in await cursor.fetchall()]


async def enqueue_notices(
    conn: aiosqlite.Connection,
    incident_id: int,
    messages: Mapping[str, OutgoingMessage],
    now: datetime,
) -> int:
    """The notice of this attack as a message of its own to every follower who has no
    alert about it waiting (those who have get it as a line of the alert); in one
    statement, each follower getting the message for their time zone (`messages` by
    zone name). Returns how many were queued."""
    notice = await _notice_of(conn, incident_id)
    if notice is None:
        return 0
    payloads = {zone: message.model_dump_json() for zone, message in messages.items()}
    cursor = await conn.execute(
        "INSERT INTO outbox (chat_id, kind, dedupe_key, incident_id, payload, priority, "
        "not_before, created_at) "
        "SELECT f.chat_id, 'alert', 'escalation:' || :notice || ':' || f.chat_id, :incident, "
        "json_extract(:payloads, '$.\"' || s.timezone || '\"'), :priority, :now, :now "
        f"FROM ({_FOLLOWERS}) AS f JOIN subscribers s ON s.chat_id = f.chat_id "
        # f.chat_id: a bare chat_id here would be the outbox row's own.
        "WHERE NOT EXISTS (SELECT 1 FROM outbox o "
        "WHERE o.dedupe_key = 'alert:' || :incident || ':' || f.chat_id AND o.status = 'pending') "
        "ON CONFLICT (dedupe_key) DO NOTHING",
        {
            **notice,
            "incident": incident_id,
            "payloads": json.dumps(payloads),
            "priority": ALERT_PRIORITY,
            "now": to_db_time(now),
        },
    )
    return cursor.rowcount


async def has_notice(conn: aiosqlite.Connection, incident_id: int) -> bool:
    """Whether an escalation notice names this incident (its alerts may then carry a line)."""
    return await _notice_of(conn, incident_id) is not None


async def notice_for(conn: aiosqlite.Connection, incident_id: int, chat_id: int) -> Notice | None:
    """The escalation notice an alert about this incident carries for this chat, if any."""
    notice = await _notice_of(conn, incident_id)
    if notice is None:
        return None
    async with conn.execute(
        f"SELECT 1 FROM ({_FOLLOWERS}) WHERE chat_id = :chat LIMIT 1", {**notice, "chat": chat_id}
    ) as cursor:
        if await cursor.fetchone() is None:
            return None
    return Notice(
        site=str(notice["site"]),
        number=int(str(notice["ordinal"])),
        window_days=None if notice["window_days"] is None else float(str(notice["window_days"])),
        previous=[from_db_time(moment) for moment in json.loads(str(notice["previous_at"]))],
        incident_id=incident_id,
        line=str(notice["line"]),
    )


async def _notice_of(conn: aiosqlite.Connection, incident_id: int) -> dict[str, object] | None:
    async with conn.execute(
        "SELECT id, site, country, admin1, line, ordinal, previous_at, window_days "
        "FROM escalation_notices WHERE incident_id = ? ORDER BY id DESC LIMIT 1",
        (incident_id,),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    keys = ("notice", "site", "country", "admin1", "line", "ordinal", "previous_at", "window_days")
    return dict(zip(keys, row, strict=True))
