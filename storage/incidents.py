"""SQL for incidents, their sources and the full-text index."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import aiosqlite

from bot.models import (
    Count,
    Direction,
    Incident,
    IncidentContent,
    IncidentPage,
    IncidentVersion,
    SearchResults,
    Source,
)
from storage.codec import from_db_time, from_db_time_or_none, to_db_time
from storage.subscribers import SiteArea, distance_km_sql

_COLUMNS = (
    "id, external_id, occurred_at, reported_at, title, summary, event_type, sub_event_type, "
    "country, admin1, location, latitude, longitude, perpetrator, target, claimed_by, "
    "direction, killed, killed_qualifier, injured, injured_qualifier, severity, tags, status, "
    "retraction_reason, created_at, updated_at, no_claim, no_perpetrator, verification, "
    "confirmed_by"
)
_WORD = re.compile(r"\w+", re.UNICODE)
# "Houthi's": the tokenizer splits it into "houthi" and "s", which no one means to search.
_POSSESSIVE = re.compile(r"(?<=\w)['’][sS]\b")


async def insert_incident(
    conn: aiosqlite.Connection, draft: IncidentContent, now: datetime
) -> int | None:
    """Store a new incident and return its id; None if its external_id is already stored.

    An incident without an external_id gets a fresh one, so that an export of
    the database can be imported back without creating duplicates.
    """
    stamp = to_db_time(now)
    cursor = await conn.execute(
        f"INSERT INTO incidents (external_id, {', '.join(_REPORTED_COLUMNS)}, "
        "created_at, updated_at) "
        f"VALUES (?, {', '.join('?' * len(_REPORTED_COLUMNS))}, ?, ?) "
        "ON CONFLICT (external_id) DO NOTHING",
        (
            draft.external_id or f"incident-bot:{uuid4().hex}",
            *_reported_values(draft),
            stamp,
            stamp,
        ),
    )
    if cursor.rowcount == 0:
        return None
    incident_id = cursor.lastrowid
    assert incident_id is not None
    await _insert_sources(conn, incident_id, draft)
    return incident_id


async def _insert_sources(
    conn: aiosqlite.Connection, incident_id: int, draft: IncidentContent
) -> None:
    await conn.executemany(
        "INSERT INTO incident_sources (incident_id, position, name, url) VALUES (?, ?, ?, ?)",
        [
            (incident_id, position, s.name, str(s.url) if s.url else None)
            for position, s in enumerate(draft.sources)
        ],
    )


async def update_incident(
    conn: aiosqlite.Connection, incident_id: int, draft: IncidentContent, now: datetime
) -> None:
    """Replace an incident's reported fields and sources; its id and status stay."""
    assignments = ", ".join(f"{column} = ?" for column in _REPORTED_COLUMNS)
    await conn.execute(
        f"UPDATE incidents SET {assignments}, updated_at = ? WHERE id = ?",
        (*_reported_values(draft), to_db_time(now), incident_id),
    )
    await conn.execute("DELETE FROM incident_sources WHERE incident_id = ?", (incident_id,))
    await _insert_sources(conn, incident_id, draft)


async def mark_retracted(
    conn: aiosqlite.Connection, incident_id: int, reason: str, now: datetime
) -> None:
    await conn.execute(
        "UPDATE incidents SET status = 'retracted', retraction_reason = ?, updated_at = ? "
        "WHERE id = ?",
        (reason, to_db_time(now), incident_id),
    )


async def save_version(
    conn: aiosqlite.Connection,
    before: Incident,
    *,
    change: str,
    fields: list[str],
    changed_by: int,
    now: datetime,
) -> int:
    """Keep the incident as it was before a change; return the version number."""
    (row,) = await conn.execute_fetchall(
        "SELECT coalesce(max(version), 0) + 1 FROM incident_versions WHERE incident_id = ?",
        (before.id,),
    )
    version = int(row[0])
    await conn.execute(
        "INSERT INTO incident_versions (incident_id, version, change, fields, snapshot, "
        "changed_by, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            before.id,
            version,
            change,
            json.dumps(fields),
            before.model_dump_json(),
            changed_by,
            to_db_time(now),
        ),
    )
    return version


async def versions_of(conn: aiosqlite.Connection, incident_id: int) -> list[IncidentVersion]:
    """Every change to an incident, oldest first, each with the incident before and after."""
    current = await get_incident(conn, incident_id)
    if current is None:
        return []
    rows = await conn.execute_fetchall(
        "SELECT version, change, snapshot, changed_by, changed_at FROM incident_versions "
        "WHERE incident_id = ? ORDER BY version",
        (incident_id,),
    )
    befores = [Incident.model_validate_json(row["snapshot"]) for row in rows]
    afters = [*befores[1:], current] if befores else []
    return [
        IncidentVersion(
            incident_id=incident_id,
            version=row["version"],
            change=row["change"],
            changed_by=row["changed_by"],
            changed_at=from_db_time(row["changed_at"]),
            before=before,
            after=after,
        )
        for row, before, after in zip(rows, befores, afters, strict=True)
    ]


async def published_near(
    conn: aiosqlite.Connection, location: str, around: datetime, window: timedelta
) -> list[Incident]:
    """Published incidents at the same location within `window` either side of `around`."""
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM incidents WHERE location = ? COLLATE NOCASE "
        "AND occurred_at BETWEEN ? AND ? AND status = 'published' ORDER BY occurred_at",
        (location, to_db_time(around - window), to_db_time(around + window)),
    )
    return await _with_sources(conn, rows)


async def get_incident(conn: aiosqlite.Connection, incident_id: int) -> Incident | None:
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM incidents WHERE id = ?", (incident_id,)
    )
    found = await _with_sources(conn, rows)
    return found[0] if found else None


async def recently_changed(conn: aiosqlite.Connection, *, limit: int) -> list[Incident]:
    """The incidents published, corrected or retracted most recently, newest change first."""
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM incidents ORDER BY updated_at DESC, id DESC LIMIT ?", (limit,)
    )
    return await _with_sources(conn, rows)


@dataclass(frozen=True)
class PlaceFilter:
    """The incidents some places cover, as alerts match them: those in any of the
    `countries`, of the `provinces` (country, admin1), at one of the `sites` by name or
    within its area, at a location spelled as one of `spellings`, or (for a partial name
    such as "Asad") whose country, admin1 or location holds `text`. Empty: everywhere."""

    countries: Sequence[str] = ()
    provinces: Sequence[tuple[str, str]] = ()
    sites: Sequence[SiteArea] = ()
    spellings: Sequence[str] = ()
    text: str | None = None
    # The gazetteer's sites inside those areas: an incident at one with no coordinates of
    # its own is in the area, as alerts place it at the site's.
    sites_within: Sequence[str] = ()


EVERYWHERE = PlaceFilter()


def place_condition(places: PlaceFilter, params: dict[str, Any]) -> str:
    """The WHERE condition for incidents in any of `places` ("" for everywhere); its
    parameters are added to `params`. The matching is case-blind."""
    alternatives: list[str] = []
    if places.countries:
        names = _named(params, "country", places.countries)
        alternatives.append(f"country COLLATE NOCASE IN ({names})")
    for n, (country, admin1) in enumerate(places.provinces):
        params.update({f"pcountry{n}": country, f"padmin1{n}": admin1})
        alternatives.append(
            f"(country = :pcountry{n} COLLATE NOCASE AND admin1 = :padmin1{n} COLLATE NOCASE)"
        )
    for n, area in enumerate(places.sites):
        south, north, west, east = area.box()
        params.update(
            {
                f"site{n}": area.site,
                f"lat{n}": area.latitude,
                f"lon{n}": area.longitude,
                f"radius{n}": area.radius_km,
                f"south{n}": south,
                f"north{n}": north,
                f"west{n}": west,
                f"east{n}": east,
            }
        )
        within = (
            "1"
            if area.area is not None
            else (
                f"{distance_km_sql(f':lat{n}', f':lon{n}', 'latitude', 'longitude')} <= :radius{n}"
            )
        )
        alternatives.append(
            f"(location = :site{n} COLLATE NOCASE OR (latitude BETWEEN :south{n} AND :north{n} "
            f"AND longitude BETWEEN :west{n} AND :east{n} AND {within}))"
        )
    if places.sites_within:
        names = _named(params, "within", places.sites_within)
        alternatives.append(f"(latitude IS NULL AND location COLLATE NOCASE IN ({names}))")
    if places.spellings:
        names = _named(params, "spelling", places.spellings)
        alternatives.append(f"location COLLATE NOCASE IN ({names})")
    if places.text:
        params.update({"text": places.text, "text_like": like_literal(places.text)})
        alternatives.append(
            "(country = :text COLLATE NOCASE OR admin1 = :text COLLATE NOCASE "
            "OR location LIKE '%' || :text_like || '%' ESCAPE '\\')"
        )
    return f"({' OR '.join(alternatives)})" if alternatives else ""


async def latest_published(
    conn: aiosqlite.Connection,
    *,
    limit: int,
    places: PlaceFilter = EVERYWHERE,
    direction: Direction | None = None,
    older_than: int | None = None,
) -> IncidentPage:
    """Newest published incidents in `places`, of `direction`; `older_than` is the id of
    the last incident of the previous page."""
    where = ["status = 'published'"]
    # One row more than asked tells whether an older page exists.
    params: dict[str, Any] = {"limit": limit + 1}
    if direction is not None:
        where.append("direction = :direction")
        params["direction"] = direction.value
    if condition := place_condition(places, params):
        where.append(condition)
    if older_than is not None:
        where.append(
            "(occurred_at, id) < (SELECT occurred_at, id FROM incidents WHERE id = :older_than)"
        )
        params["older_than"] = older_than
    sql = (
        f"SELECT {_COLUMNS} FROM incidents WHERE {' AND '.join(where)} "
        "ORDER BY occurred_at DESC, id DESC LIMIT :limit"
    )
    rows = list(await conn.execute_fetchall(sql, params))
    incidents = await _with_sources(conn, rows[:limit])
    has_more = len(rows) > limit
    return IncidentPage(
        incidents=incidents, older_cursor=incidents[-1].id if has_more and incidents else None
    )


# The full-text index's key: (occurred_at in Unix seconds) << 24 | id (migration 0019).
_SEARCH_ID_BITS = 24
_SEARCH_ID_MASK = (1 << _SEARCH_ID_BITS) - 1
# Matches counted one by one before the total is estimated instead.
SEARCH_COUNT_CAP = 200


async def search_published(
    conn: aiosqlite.Connection,
    text: str,
    *,
    limit: int,
    places: PlaceFilter = EVERYWHERE,
) -> SearchResults:
    """The `limit` newest published incidents whose title, summary or location match every
    word of `text`, optionally only those in `places`, newest first, and how many match in
    all.

    The index is keyed by time, so this reads matches newest first and stops at
    SEARCH_COUNT_CAP: up to there the total is exact. Beyond, it is estimated from how
    much of the record's time span the first SEARCH_COUNT_CAP matches cover. With a place,
    every match is checked against it first, and counted and estimated the same way.
    """
    query = await match_expression(conn, text)
    if not query:
        return SearchResults(incidents=[], total=0, exact=True)
    params: dict[str, Any] = {"query": query, "limit": SEARCH_COUNT_CAP}
    if condition := place_condition(places, params):
        sql = (
            f"SELECT CAST(strftime('%s', occurred_at) AS INTEGER) * {_SEARCH_ID_MASK + 1} + id "
            f"FROM incidents WHERE id IN (SELECT rowid & {_SEARCH_ID_MASK} FROM incidents_search "
            f"WHERE incidents_search MATCH :query) AND status = 'published' AND {condition} "
            "ORDER BY occurred_at DESC, id DESC LIMIT :limit"
        )
    else:
        sql = (
            "SELECT rowid FROM incidents_search WHERE incidents_search MATCH :query "
            "ORDER BY rowid DESC LIMIT :limit"
        )
    keys = [row[0] for row in await conn.execute_fetchall(sql, params)]
    ids = [key & _SEARCH_ID_MASK for key in keys[:limit]]
    rows = sorted(
        await conn.execute_fetchall(
            f"SELECT {_COLUMNS} FROM incidents WHERE id IN ({', '.join('?' * len(ids))})", ids
        ),
        key=lambda row: ids.index(row["id"]),
    )
    incidents = await _with_sources(conn, rows)
    if len(keys) < SEARCH_COUNT_CAP:
        return SearchResults(incidents=incidents, total=len(keys), exact=True)
    return SearchResults(
        incidents=incidents, total=await _estimated_matches(conn, keys), exact=False
    )


async def _estimated_matches(conn: aiosqlite.Connection, newest_keys: Sequence[int]) -> int:
    """All matches, if they are spread over the record as the newest ones are."""
    (row,) = await conn.execute_fetchall(
        "SELECT CAST(strftime('%s', min(occurred_at)) AS INTEGER) FROM incidents "
        "WHERE status = 'published'"
    )
    newest, oldest_counted = (key >> _SEARCH_ID_BITS for key in (newest_keys[0], newest_keys[-1]))
    counted_span = newest - oldest_counted
    if row[0] is None or counted_span <= 0:
        return len(newest_keys)
    estimate = len(newest_keys) * (newest - row[0]) / counted_span
    return max(len(newest_keys), _two_significant_digits(estimate))


def _two_significant_digits(value: float) -> int:
    magnitude = 10 ** max(0, len(str(int(value))) - 2)
    return int(round(value / magnitude) * magnitude)


async def published_between(
    conn: aiosqlite.Connection,
    since: datetime,
    until: datetime,
    limit: int,
    *,
    places: PlaceFilter = EVERYWHERE,
) -> tuple[list[Incident], int]:
    """Incidents published in (since, until] in `places`, newest first: at most `limit`
    of them, and how many there are in all."""
    where = "status = 'published' AND created_at > :since AND created_at <= :until"
    params: dict[str, object] = {"since": to_db_time(since), "until": to_db_time(until)}
    if condition := place_condition(places, params):
        where += f" AND {condition}"
    ((total,),) = await conn.execute_fetchall(
        f"SELECT count(*) FROM incidents WHERE {where}", params
    )
    if total == 0:
        return [], 0
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM incidents WHERE {where} "
        "ORDER BY occurred_at DESC, id DESC LIMIT :limit",
        {**params, "limit": limit},
    )
    return await _with_sources(conn, rows), total


def _named(params: dict[str, object], prefix: str, values: Sequence[str]) -> str:
    """Add `values` to `params` as :prefix0, :prefix1, …; the list of their names."""
    names = {f"{prefix}{n}": value for n, value in enumerate(values)}
    params.update(names)
    return ", ".join(f":{name}" for name in names)


# The prefix lengths the search index keeps (migration 0019): a word of such a length is read
# as a prefix from a doclist of its own, in key order.
_INDEXED_PREFIX_LENGTHS = range(3, 7)
# A longer word is searched as the terms it is a prefix of, when there are at most this many
# of them (each is one more doclist read side by side); beyond, as FTS5's prefix query.
MOST_EXPANDED_TERMS = 32
# Up to so many terms of the search index (migration 0024) from one up to before another.
_TERMS_BETWEEN = (
    "SELECT term FROM search_vocabulary WHERE term >= ? AND term < ? ORDER BY term LIMIT ?"
)


async def match_expression(conn: aiosqlite.Connection, text: str) -> str | None:
    """An FTS5 query matching every word of free text as a prefix; "" when `text` has no
    word, None when some word is the prefix of no term in the index (nothing matches).

    Each word is quoted, so FTS5 operators typed by a user (AND, NEAR, quotes, column
    filters) are taken as plain words instead of failing as syntax. A word of one or two
    letters matches only itself: "al" is the "al" of al-Asad, "US" the United States,
    not every word that they begin. A longer word of plain letters and digits that no
    prefix index covers is replaced by the index's terms that start with it ("perimeter"
    by "perimeter" OR "perimeters"): the same matches, read newest first without merging
    every doclist beforehand.
    """
    words = _WORD.findall(_POSSESSIVE.sub("", text))
    # For ASCII letters and digits, lower case is what the tokenizer indexes, and the
    # terms that begin with a word sort from it up to before the word with its last
    # character's successor.
    expanded = {
        word.lower()
        for word in words
        if word.isascii() and word.isalnum() and len(word) > _INDEXED_PREFIX_LENGTHS[-1]
    }
    terms: dict[str, list[str]] = {word: [] for word in expanded}
    if expanded:
        # One query for all words: each word is one seek in the vocabulary's B-tree.
        listed = sorted(expanded)
        rows = await conn.execute_fetchall(
            " UNION ALL ".join(
                f"SELECT {n}, term FROM ({_TERMS_BETWEEN})" for n in range(len(listed))
            ),
            [
                value
                for word in listed
                for value in (word, word[:-1] + chr(ord(word[-1]) + 1), MOST_EXPANDED_TERMS + 1)
            ],
        )
        for n, term in rows:
            terms[listed[n]].append(term)
    parts = []
    for word in words:
        if len(word) < _INDEXED_PREFIX_LENGTHS[0]:
            parts.append(_quoted(word))
            continue
        beginning = terms.get(word.lower())
        if beginning is not None:
            if not beginning:
                return None
            if len(beginning) <= MOST_EXPANDED_TERMS:
                parts.append(f"({' OR '.join(_quoted(term) for term in beginning)})")
                continue
        parts.append(f"{_quoted(word)}*")
    return " AND ".join(parts)


def _quoted(word: str) -> str:
    """An FTS5 string: within double quotes, a double quote is doubled."""
    return '"' + word.replace('"', '""') + '"'


# The columns that hold what was reported, as opposed to bookkeeping (ids, status, times).
_REPORTED_COLUMNS = (
    "occurred_at", "reported_at", "title", "summary", "event_type", "sub_event_type",
    "country", "admin1", "location", "latitude", "longitude", "perpetrator", "target",
    "claimed_by", "direction", "killed", "killed_qualifier", "injured", "injured_qualifier",
    "severity", "tags", "no_claim", "no_perpetrator", "verification", "confirmed_by",
)  # fmt: skip


def _reported_values(draft: IncidentContent) -> tuple[object, ...]:
    return (
        to_db_time(draft.occurred_at),
        to_db_time(draft.reported_at) if draft.reported_at else None,
        draft.title,
        draft.summary,
        draft.event_type,
        draft.sub_event_type,
        draft.country,
        draft.admin1,
        draft.location,
        draft.latitude,
        draft.longitude,
        draft.perpetrator,
        draft.target,
        draft.claimed_by,
        draft.direction.value,
        *_count_columns(draft.killed),
        *_count_columns(draft.injured),
        draft.severity,
        json.dumps(draft.tags),
        int(draft.no_claim),
        int(draft.no_perpetrator),
        draft.verification.value,
        draft.confirmed_by,
    )


def _count_columns(count: Count | None) -> tuple[int | None, str | None]:
    if count is None:
        return None, None
    return count.value, count.qualifier.value


def _count_from(value: int | None, qualifier: str | None) -> Count | None:
    if value is None:
        return None
    return Count.model_validate({"value": value, "qualifier": qualifier or "exact"})


def like_literal(text: str) -> str:
    """`text` with LIKE's wildcards escaped, so that it matches only itself."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def _with_sources(
    conn: aiosqlite.Connection, rows: Iterable[aiosqlite.Row]
) -> list[Incident]:
    rows = list(rows)
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    sources: dict[int, list[Source]] = {incident_id: [] for incident_id in ids}
    for source in await conn.execute_fetchall(
        "SELECT incident_id, name, url FROM incident_sources "
        f"WHERE incident_id IN ({', '.join('?' * len(ids))}) ORDER BY incident_id, position",
        ids,
    ):
        sources[source["incident_id"]].append(Source(name=source["name"], url=source["url"]))
    return [_incident_from_row(row, sources[row["id"]]) for row in rows]


def _incident_from_row(row: aiosqlite.Row, sources: list[Source]) -> Incident:
    return Incident(
        id=row["id"],
        external_id=row["external_id"],
        occurred_at=from_db_time(row["occurred_at"]),
        reported_at=from_db_time_or_none(row["reported_at"]),
        title=row["title"],
        summary=row["summary"],
        event_type=row["event_type"],
        sub_event_type=row["sub_event_type"],
        country=row["country"],
        admin1=row["admin1"],
        location=row["location"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        perpetrator=row["perpetrator"],
        target=row["target"],
        claimed_by=row["claimed_by"],
        direction=row["direction"],
        no_claim=bool(row["no_claim"]),
        no_perpetrator=bool(row["no_perpetrator"]),
        verification=row["verification"],
        confirmed_by=row["confirmed_by"],
        killed=_count_from(row["killed"], row["killed_qualifier"]),
        injured=_count_from(row["injured"], row["injured_qualifier"]),
        severity=row["severity"],
        sources=sources,
        tags=json.loads(row["tags"]),
        status=row["status"],
        retraction_reason=row["retraction_reason"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
    )
