"""Places stored before the gazetteer knew their spelling are re-spelled when the database
is opened (db upgrade, the bot's start), so that /latest Anbar finds them."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import Settings
from bot.lifecycle import polling
from storage.codec import to_db_time
from storage.db import Database, bundled_migrations
from tests.conftest import NOW
from tests.people import Person

GAZETTEER_APPLIED = 18  # the migration after which stored places follow the gazetteer

# (external id, title, country, admin1, location) as an ACLED import wrote them before.
OLD_ROWS = [
    ("acled:IRQ1", "Rockets at the air base", "iraq", "Al Anbar", "Ain al Asad Airbase"),
    ("acled:IRQ2", "Drone near the base", "Iraq", "", "Ain al Asad Airbase"),
    ("own-1", "Shelling near a farm", "Iraq", "Al Anbar", "Wadi Nowhere"),
    ("own-2", "An event abroad", "Atlantis", "Al Anbar", "Ain al Asad Airbase"),
]


async def _database_from_before(path: Path) -> None:
    """A database from before the gazetteer, holding the spellings of that time."""
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        for version, _, sql in bundled_migrations():
            if version < GAZETTEER_APPLIED:
                await conn.executescript(f"{sql}\nPRAGMA user_version = {version};")
        await conn.executemany(
            "INSERT INTO incidents (external_id, occurred_at, title, event_type, country, "
            "admin1, location, severity, created_at, updated_at) "
            "VALUES (?, ?, ?, 'Explosions/Remote violence', ?, ?, ?, 3, ?, ?)",
            [
                (row[0], to_db_time(NOW), *row[1:], to_db_time(NOW), to_db_time(NOW))
                for row in OLD_ROWS
            ],
        )
        await conn.execute(
            "INSERT INTO incident_sources (incident_id, position, name) "
            "SELECT id, 0, 'ACLED' FROM incidents"
        )


async def _places(db: Database) -> dict[str, tuple[str, str, str]]:
    sql = "SELECT external_id, country, admin1, location FROM incidents"
    async with db.reader.execute(sql) as cursor:
        return {row[0]: (row[1], row[2], row[3]) for row in await cursor.fetchall()}


async def _matching(db: Database, words: str) -> set[str]:
    # The search index is keyed by time, the incident's id in the key's low 24 bits.
    sql = (
        "SELECT external_id FROM incidents_search JOIN incidents ON incidents.id = "
        "incidents_search.rowid & 16777215 WHERE incidents_search MATCH ?"
    )
    async with db.reader.execute(sql, (words,)) as cursor:
        return {row[0] for row in await cursor.fetchall()}


async def test_opening_respells_known_places_once_and_leaves_unknown_ones(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    await _database_from_before(path)
    async with Database(path) as db:
        assert "0018_gazetteer_applied.sql" in db.migrations_applied
        assert db.places_respelled == 3
        assert await _places(db) == {
            "acled:IRQ1": ("Iraq", "Anbar", "Ain al-Asad Air Base"),
            # A known site gives an empty province its own.
            "acled:IRQ2": ("Iraq", "Anbar", "Ain al-Asad Air Base"),
            # Names the gazetteer lacks stay as they were.
            "own-1": ("Iraq", "Anbar", "Wadi Nowhere"),
            "own-2": ("Atlantis", "Al Anbar", "Ain al Asad Airbase"),
        }
        # The full-text index follows the new spelling.
        assert await _matching(db, "Airbase") == {"own-2"}
        assert await _matching(db, "air base") == {"acled:IRQ1", "acled:IRQ2"}
    async with Database(path) as again:
        assert again.places_respelled == 0


async def test_latest_anbar_finds_rows_stored_as_al_anbar(
    settings: Settings, clock: ManualClock, alice: Person
) -> None:
    await _database_from_before(settings.storage.path)
    async with polling(build_application(settings, clock), poll_timeout=1):
        listing = await alice.says("/latest Anbar")
        at_base = await alice.says("/latest Ain al-Asad")
    assert "Rockets at the air base" in listing.text
    assert "Drone near the base" in listing.text
    assert "Shelling near a farm" in listing.text
    assert "Ain al-Asad Air Base, Anbar, Iraq" in listing.text
    assert "Atlantis" not in listing.text
    assert "Rockets at the air base" in at_base.text
