"""Seeded generators of benchmark-sized databases: incidents and subscribers.

The database is created by the application's own migrations, then filled in
bulk. Per-row triggers (the full-text index, the revision counter, the place tables'
copies of each subscriber's choices) and the indexes are set aside during the load; the
triggers' effect is applied once — the FTS5 index filled, the revision bumped, the copies
made — and the indexes are made again at the end, so the result is the database the bot
would have built row by row, in a fraction of the time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.models import Watch
from bot.subscriptions.areas import Coverage, coverage
from storage.db import Database
from storage.subscribers import SITE_INSERT, site_row

SEED = 20241125
END = datetime(2025, 1, 15, tzinfo=UTC)
YEARS = 8

# (country, admin1, place, latitude, longitude, share of incidents)
PLACES = (
    ("Iraq", "Anbar", "Ain al-Asad Air Base", 33.80, 42.44, 14),
    ("Iraq", "Erbil", "Erbil Air Base", 36.24, 43.96, 8),
    ("Iraq", "Baghdad", "Baghdad International Airport", 33.26, 44.23, 8),
    ("Iraq", "Nineveh", "Mosul", 36.34, 43.13, 6),
    ("Syria", "Deir ez-Zor", "Mission Support Site Conoco", 35.32, 40.29, 9),
    ("Syria", "Hasakah", "Rumalyn Landing Zone", 36.85, 41.95, 7),
    ("Syria", "Homs", "Al-Tanf Garrison", 33.50, 38.66, 6),
    ("Syria", "Aleppo", "Aleppo", 36.20, 37.16, 5),
    ("Jordan", "Zarqa", "Tower 22", 33.32, 38.69, 2),
    ("Lebanon", "South Lebanon", "Tyre", 33.27, 35.20, 8),
    ("Israel", "Northern District", "Kiryat Shmona", 33.21, 35.57, 6),
    ("Palestine", "Gaza", "Khan Younis", 31.34, 34.30, 9),
    ("Yemen", "Al Hudaydah", "Hodeidah", 14.80, 42.95, 7),
    ("Iran", "Tehran", "Tehran", 35.69, 51.39, 2),
    ("Saudi Arabia", "Riyadh", "Prince Sultan Air Base", 24.06, 47.58, 1),
)
EVENTS = (
    ("Explosions/Remote violence", "Shelling/artillery/missile attack", "rocket", 40),
    ("Explosions/Remote violence", "Air/drone strike", "drone", 35),
    ("Explosions/Remote violence", "Remote explosive/landmine/IED", "ied", 10),
    ("Battles", "Armed clash", "clash", 15),
)
SEVERITY_SHARES = (30, 30, 22, 13, 5)
# (direction, share): most incidents on record are attacks on US/coalition forces.
DIRECTION_SHARES = (("on_coalition", 65), ("by_coalition", 15), ("other", 20))
ACTORS = ("Islamic Resistance in Iraq", "Kataib Hezbollah", "Houthis", "Hezbollah", "unknown")
WORDS = (
    "rockets struck near the perimeter", "a drone was intercepted over the base",
    "an explosion damaged a supply convoy", "fighters exchanged fire at a checkpoint",
    "sirens sounded before impact", "officials reported damage to a hangar",
    "witnesses described several blasts", "a roadside bomb hit a patrol",
)  # fmt: skip
# Places at every level: regions, countries, provinces and bases.
REGION_CHOICES: tuple[list[str], ...] = (
    ["Iraq"],
    ["Syria"],
    ["Iraq", "Syria"],
    ["Levant"],
    ["Red Sea/Yemen"],
    [],
    ["Anbar"],
    ["Ain al-Asad Air Base"],
    ["Erbil Air Base", "Tower 22"],
    ["Deir ez-Zor"],
)
# Most chats watch no site; some watch a base with a radius of their own.
WATCH_CHOICES: tuple[list[Watch], ...] = (
    *([[]] * 7),
    [Watch(site="Ain al-Asad Air Base", radius_km=30)],
    [Watch(site="Al-Tanf Garrison", radius_km=50)],
    [Watch(site="Erbil Air Base", radius_km=25), Watch(site="Harir Air Base", radius_km=25)],
)
TIMEZONES = ("UTC", "Asia/Baghdad", "Europe/London", "America/New_York", "Asia/Jerusalem")


@dataclass(frozen=True)
class Sizes:
    incidents: int
    subscribers: int


# Rows are drawn and written this many at a time.
CHUNK = 50_000
_STAMP = "'%Y-%m-%dT%H:%M:%SZ'"
# Times go in as Unix seconds (the occurrence, ?2) and are written out by SQLite, which is
# many times faster than Python's strftime for a million rows.
_INSERT_INCIDENT = (
    "INSERT INTO incidents (external_id, occurred_at, reported_at, title, summary, "
    "event_type, sub_event_type, country, admin1, location, latitude, longitude, "
    "perpetrator, target, claimed_by, direction, killed, killed_qualifier, injured, "
    "injured_qualifier, severity, tags, status, retraction_reason, created_at, updated_at) "
    f"VALUES (?1, strftime({_STAMP}, ?2, 'unixepoch'), "
    f"strftime({_STAMP}, ?2 + 7200, 'unixepoch'), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
    "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, 'published', NULL, "
    f"strftime({_STAMP}, ?2 + 10800, 'unixepoch'), strftime({_STAMP}, ?2 + 10800, 'unixepoch'))"
)
_INSERT_SUBSCRIBER = (
    "INSERT INTO subscribers (chat_id, chat_type, active, inactive_reason, everywhere, "
    "regions, watches, min_severity, alert_directions, digest, digest_weekday, digest_time, "
    "timezone, quiet_start, quiet_end, skip_empty_digest, digest_chart, "
    "last_digest_at, next_digest_at, created_at, updated_at) VALUES "
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def incident_rows(count: int, rng: random.Random) -> Iterator[list[tuple[object, ...]]]:
    """The incidents' rows in chunks, each column drawn for a whole chunk at once."""
    span = YEARS * 365 * 86400
    start = int((END - timedelta(seconds=span)).timestamp())
    directions = [d for d, _ in DIRECTION_SHARES]
    direction_weights = [share for _, share in DIRECTION_SHARES]
    tags = {weapon: json.dumps([weapon]) for _, _, weapon, _ in EVENTS}
    sides = {
        "on_coalition": lambda actor: (actor, "US and coalition forces"),
        "by_coalition": lambda actor: ("US forces", actor),
        "other": lambda actor: (actor, "Civilians"),
    }
    summaries = [words.capitalize() + "." for words in WORDS]
    for first in range(0, count, CHUNK):
        size = min(CHUNK, count - first)
        places = rng.choices(PLACES, [p[5] for p in PLACES], k=size)
        events = rng.choices(EVENTS, [e[3] for e in EVENTS], k=size)
        severities = rng.choices(range(1, 6), SEVERITY_SHARES, k=size)
        actors = rng.choices(ACTORS, k=size)
        chosen_directions = rng.choices(directions, direction_weights, k=size)
        texts = rng.choices(summaries, k=size)
        rows = []
        for n in range(size):
            number = first + n
            country, admin1, place, lat, lon, _ = places[n]
            event_type, sub_type, weapon, _ = events[n]
            severity = severities[n]
            actor = actors[n]
            direction = chosen_directions[n]
            perpetrator, target = sides[direction](actor)
            killed = rng.randint(1, 6) if severity >= 4 else None
            injured = rng.randint(1, 12) if severity >= 3 else None
            rows.append((
                f"bench:{number}", start + int(span * (number + rng.random()) / count),
                f"{weapon.capitalize()} attack near {place}", texts[n],
                event_type, sub_type, country, admin1, place,
                lat + rng.uniform(-0.05, 0.05), lon + rng.uniform(-0.05, 0.05),
                perpetrator, target, None if actor == "unknown" else actor, direction,
                killed, "exact" if killed is not None else None,
                injured, "at least" if injured is not None else None,
                severity, tags[weapon],
            ))  # fmt: skip
        yield rows


@dataclass(frozen=True)
class _Choice:
    """One of the subscribers' place choices, with what it covers, worked out once."""

    everywhere: int
    regions: str  # as stored: JSON
    watches: str
    covered: Coverage


def subscriber_rows(
    count: int, rng: random.Random
) -> Iterator[list[tuple[tuple[object, ...], Coverage]]]:
    """The subscribers' rows in chunks, each with what its places cover."""
    choices = {
        (r, w): _Choice(
            int(not regions and not watches),
            json.dumps(regions),
            json.dumps([watch.model_dump() for watch in watches]),
            coverage(regions, watches),
        )
        for r, regions in enumerate(REGION_CHOICES)
        for w, watches in enumerate(WATCH_CHOICES)
    }
    ended = _stamp(END)
    days = {minute: (_stamp(END + timedelta(minutes=minute - 24 * 60)),
                     _stamp(END + timedelta(minutes=minute)))
            for minute in range(24 * 60 + 1)}  # fmt: skip
    for first in range(0, count, CHUNK):
        size = min(CHUNK, count - first)
        rows = []
        for n in range(size):
            choice = choices[
                (rng.randrange(len(REGION_CHOICES)), rng.randrange(len(WATCH_CHOICES)))
            ]
            zone = rng.choice(TIMEZONES)
            hour = rng.choice((6, 7, 8, 12, 18, 21))
            last, due = days[rng.randint(0, 24 * 60)]
            rows.append((
                (
                    1_000_000 + first + n, "private", 1, None, choice.everywhere, choice.regions,
                    choice.watches,
                    rng.choice((None, 1, 2, 3, 3, 3, 4, 5)),
                    rng.choice((5, 5, 5, 5, 7)),  # a fifth opt in to US/coalition strikes
                    rng.choice(("daily", "daily", "daily", "weekly", "off")), rng.randint(0, 6),
                    f"{hour:02d}:00", zone, None, None, 0, 1, last, due, ended, ended,
                ),
                choice.covered,
            ))  # fmt: skip
        yield rows


async def _migrate(path: Path) -> None:
    async with Database(path):
        pass


def build(path: Path, sizes: Sizes, seed: int = SEED) -> float:
    """Create `path` afresh with the given sizes; return the seconds it took.

    For the load only, nothing is journaled or synced (a failed build is simply built
    again) and the tables' indexes are set aside and made again at the end, each from
    sorted rows instead of one row at a time; the schema is left as the migrations made
    it, in WAL mode.
    """
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    asyncio.run(_migrate(path))
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -262144")  # 256 MiB: the indexes sort in memory
        conn.execute("PRAGMA temp_store = MEMORY")
        loaded = ("incidents", "incident_sources", *_SUBSCRIBER_TABLES)
        # The indexes of every table filled here (not those behind a UNIQUE constraint,
        # which have no SQL), and the incidents' triggers, whose effect is applied below.
        set_aside = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND ("
            f"type = 'index' AND tbl_name IN ({', '.join('?' * len(loaded))}) "
            "OR type = 'trigger' AND tbl_name IN "
            f"('incidents', {', '.join('?' * len(_PLACE_TABLES))}))",
            (*loaded, *_PLACE_TABLES),
        ).fetchall()
        conn.execute("BEGIN")
        for kind, name, _ in set_aside:
            conn.execute(f"DROP {kind.upper()} {name}")
        for rows in incident_rows(sizes.incidents, rng):
            conn.executemany(_INSERT_INCIDENT, rows)
        conn.execute(
            "INSERT INTO incident_sources (incident_id, position, name, url) "
            "SELECT id, 0, 'Bench Wire', 'https://wire.example.org/' || id FROM incidents"
        )
        # What the search index's triggers (migration 0019) would have added row by row,
        # its pending terms written out in a few large segments instead of FTS5's default
        # of one per MiB (hundreds, merged again and again), which is restored after.
        _set_search_index_hash_size(conn, 256 * _MIB)
        conn.execute(
            "INSERT INTO incidents_search (rowid, title, summary, location) "
            "SELECT CAST(strftime('%s', occurred_at) AS INTEGER) * 16777216 + id, "
            "title, summary, location FROM incidents WHERE status = 'published'"
        )
        _set_search_index_hash_size(conn, _MIB)
        # And the terms the triggers of migration 0024 would have listed, as it lists them.
        conn.execute(
            "CREATE VIRTUAL TABLE temp.incidents_search_rows "
            "USING fts5vocab (main, incidents_search, row)"
        )
        conn.execute(
            "INSERT OR IGNORE INTO search_vocabulary (term) "
            "SELECT term FROM temp.incidents_search_rows"
        )
        conn.execute("DROP TABLE temp.incidents_search_rows")
        conn.execute("UPDATE incidents_revision SET revision = revision + 1")
        for chunk in subscriber_rows(sizes.subscribers, rng):
            _insert_subscribers(conn, chunk)
        # What the place tables' triggers (migration 0022) would have copied row by row.
        for table in _PLACE_TABLES:
            conn.execute(
                f"UPDATE {table} SET (active, min_severity, alert_directions) = "
                "(SELECT active, min_severity, alert_directions FROM subscribers s "
                f"WHERE s.chat_id = {table}.chat_id)"
            )
        for _, _, sql in set_aside:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    return time.perf_counter() - started


_MIB = 2**20


def _set_search_index_hash_size(conn: sqlite3.Connection, size: int) -> None:
    conn.execute(
        "INSERT INTO incidents_search (incidents_search, rank) VALUES ('hashsize', ?)", (size,)
    )


# The tables of the places subscribers follow, which copy some of the subscriber's row.
_PLACE_TABLES = ("subscriber_countries", "subscriber_provinces", "subscriber_sites")
_SUBSCRIBER_TABLES = ("subscribers", *_PLACE_TABLES)


def _insert_subscribers(
    conn: sqlite3.Connection, chunk: list[tuple[tuple[object, ...], Coverage]]
) -> None:
    conn.executemany(_INSERT_SUBSCRIBER, [row for row, _ in chunk])
    conn.executemany(
        "INSERT INTO subscriber_countries (chat_id, country) VALUES (?, ?)",
        [(row[0], country) for row, covered in chunk for country in covered.countries],
    )
    conn.executemany(
        "INSERT INTO subscriber_provinces (chat_id, country, admin1) VALUES (?, ?, ?)",
        [(row[0], country, admin1) for row, covered in chunk
         for country, admin1 in covered.provinces],
    )  # fmt: skip
    conn.executemany(
        SITE_INSERT, [site_row(row[0], a) for row, covered in chunk for a in covered.sites]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Build a benchmark database.")
    parser.add_argument("path", type=Path)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    seconds = build(args.path, Sizes(args.incidents, args.subscribers), args.seed)
    print(f"built {args.path}: {args.incidents:,} incidents, {args.subscribers:,} subscribers "
          f"in {seconds:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
