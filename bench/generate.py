"""Seeded generators of benchmark-sized databases: incidents and subscribers.

The database is created by the application's own migrations, then filled in
bulk. Per-row triggers (the full-text index, the revision counter) are set
aside during the load and their effect is applied once at the end — the FTS5
index filled, the revision bumped — so the result is the database the bot
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


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def incident_rows(count: int, rng: random.Random) -> Iterator[tuple[object, ...]]:
    places = [p for p in PLACES for _ in range(p[5])]
    events = [e for e in EVENTS for _ in range(e[3])]
    severities = [s + 1 for s, share in enumerate(SEVERITY_SHARES) for _ in range(share)]
    directions = [d for d, share in DIRECTION_SHARES for _ in range(share)]
    span = YEARS * 365 * 86400
    start = END - timedelta(seconds=span)
    for n in range(count):
        country, admin1, place, lat, lon, _ = rng.choice(places)
        event_type, sub_type, weapon, _ = rng.choice(events)
        severity = rng.choice(severities)
        occurred = start + timedelta(seconds=int(span * (n + rng.random()) / count))
        injured = rng.randint(1, 12) if severity >= 3 else None
        killed = rng.randint(1, 6) if severity >= 4 else None
        actor = rng.choice(ACTORS)
        direction = rng.choice(directions)
        perpetrator, target = {
            "on_coalition": (actor, "US and coalition forces"),
            "by_coalition": ("US forces", actor),
            "other": (actor, "Civilians"),
        }[direction]
        yield (
            f"bench:{n}", _stamp(occurred), _stamp(occurred + timedelta(hours=2)),
            f"{weapon.capitalize()} attack near {place}", rng.choice(WORDS).capitalize() + ".",
            event_type, sub_type, country, admin1, place,
            lat + rng.uniform(-0.05, 0.05), lon + rng.uniform(-0.05, 0.05),
            perpetrator, target, None if actor == "unknown" else actor, direction,
            killed, "exact" if killed is not None else None,
            injured, "at least" if injured is not None else None,
            severity, json.dumps([weapon]), "published", None,
            _stamp(occurred + timedelta(hours=3)), _stamp(occurred + timedelta(hours=3)),
        )  # fmt: skip


def subscriber_rows(
    count: int, rng: random.Random
) -> Iterator[tuple[tuple[object, ...], Coverage]]:
    for n in range(count):
        regions = rng.choice(REGION_CHOICES)
        watches = rng.choice(WATCH_CHOICES)
        zone = rng.choice(TIMEZONES)
        hour = rng.choice((6, 7, 8, 12, 18, 21))
        due = END + timedelta(minutes=rng.randint(0, 24 * 60))
        yield (
            (
                1_000_000 + n, "private", 1, None, json.dumps(regions),
                json.dumps([watch.model_dump() for watch in watches]),
                rng.choice((None, 1, 2, 3, 3, 3, 4, 5)),
                rng.choice((5, 5, 5, 5, 7)),  # a fifth opt in to US/coalition strikes
                rng.choice(("daily", "daily", "daily", "weekly", "off")), rng.randint(0, 6),
                f"{hour:02d}:00", zone, None, None, 0, 1,
                _stamp(due - timedelta(days=1)), _stamp(due), _stamp(END), _stamp(END),
            ),
            coverage(regions, watches),
        )  # fmt: skip


async def _migrate(path: Path) -> None:
    async with Database(path):
        pass


def build(path: Path, sizes: Sizes, seed: int = SEED) -> float:
    """Create `path` afresh with the given sizes; return the seconds it took."""
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    asyncio.run(_migrate(path))
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'incidents'"
        ).fetchall()
        conn.execute("BEGIN")
        for name, _ in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        conn.executemany(
            "INSERT INTO incidents (external_id, occurred_at, reported_at, title, summary, "
            "event_type, sub_event_type, country, admin1, location, latitude, longitude, "
            "perpetrator, target, claimed_by, direction, killed, killed_qualifier, injured, "
            "injured_qualifier, severity, tags, status, retraction_reason, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?, ?)",
            incident_rows(sizes.incidents, rng),
        )
        conn.execute(
            "INSERT INTO incident_sources (incident_id, position, name, url) "
            "SELECT id, 0, 'Bench Wire', 'https://wire.example.org/' || id FROM incidents"
        )
        # What the search index's triggers (migration 0019) would have added row by row.
        conn.execute(
            "INSERT INTO incidents_search (rowid, title, summary, location) "
            "SELECT CAST(strftime('%s', occurred_at) AS INTEGER) * 16777216 + id, "
            "title, summary, location FROM incidents WHERE status = 'published'"
        )
        conn.execute("UPDATE incidents_revision SET revision = revision + 1")
        for _, sql in triggers:
            conn.execute(sql)
        for row, covered in subscriber_rows(sizes.subscribers, rng):
            conn.execute(
                "INSERT INTO subscribers (chat_id, chat_type, active, inactive_reason, regions, "
                "watches, min_severity, alert_directions, digest, digest_weekday, digest_time, "
                "timezone, quiet_start, quiet_end, skip_empty_digest, digest_chart, "
                "last_digest_at, next_digest_at, created_at, updated_at) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            chat_id = row[0]
            conn.executemany(
                "INSERT INTO subscriber_countries (chat_id, country) VALUES (?, ?)",
                [(chat_id, country) for country in covered.countries],
            )
            conn.executemany(
                "INSERT INTO subscriber_provinces (chat_id, country, admin1) VALUES (?, ?, ?)",
                [(chat_id, country, admin1) for country, admin1 in covered.provinces],
            )
            conn.executemany(
                "INSERT INTO subscriber_sites (chat_id, site, latitude, longitude, radius_km, "
                "watched, south, north, west, east) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (chat_id, a.site, a.latitude, a.longitude, a.radius_km, int(a.watched),
                     *a.box())
                    for a in covered.sites
                ],
            )  # fmt: skip
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return time.perf_counter() - started


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
