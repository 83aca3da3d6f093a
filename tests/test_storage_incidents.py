from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.clock import ManualClock
from bot.record.sample import load_sample, read_sample
from bot.render.incidents import search_results
from storage.db import Database, bundled_migrations, schema_version
from storage.incidents import (
    PlaceFilter,
    get_incident,
    insert_incident,
    latest_published,
    mark_retracted,
    match_expression,
    search_published,
    update_incident,
)
from tests.conftest import NOW
from tests.factories import incident_content, schema_before


async def test_opening_applies_every_migration_and_enables_wal(db: Database) -> None:
    assert await schema_version(db.reader) == bundled_migrations()[-1][0]
    async with db.reader.execute("PRAGMA journal_mode") as cursor:
        assert (await cursor.fetchone())[0] == "wal"
    async with db.reader.execute("PRAGMA foreign_keys") as cursor:
        assert (await cursor.fetchone())[0] == 1


async def test_reopening_applies_nothing(db: Database) -> None:
    again = Database(db.path)
    async with again:
        assert again.migrations_applied == []


async def test_incident_round_trips_with_sources_and_counts(
    db: Database, clock: ManualClock
) -> None:
    draft = incident_content(
        killed={"value": 3, "qualifier": "exact"},
        sources=[
            {"name": "One", "url": "https://one.example/x"},
            {"name": "Two", "url": "https://two.example/y"},
        ],
        tags=["Drone", "drone", " us-forces "],
    )
    async with db.transaction() as conn:
        incident_id = await insert_incident(conn, draft, clock.now())
    assert incident_id is not None
    stored = await get_incident(db.reader, incident_id)
    assert stored is not None
    assert stored.title == draft.title
    assert stored.occurred_at == draft.occurred_at
    assert [s.name for s in stored.sources] == ["One", "Two"]
    assert str(stored.killed) == "3"
    assert str(stored.injured) == "at least 5"
    assert stored.tags == ["drone", "us-forces"]
    assert stored.created_at == clock.now()


async def test_a_failed_transaction_leaves_nothing_behind(db: Database, clock: ManualClock) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await insert_incident(conn, incident_content(), clock.now())
            raise RuntimeError("crash after the first write")
    page = await latest_published(db.reader, limit=5)
    assert page.incidents == []
    async with db.reader.execute("SELECT count(*) FROM incident_sources") as cursor:
        assert (await cursor.fetchone())[0] == 0


async def test_the_database_rejects_what_the_model_would(db: Database) -> None:
    with pytest.raises(aiosqlite.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO incidents (occurred_at, title, event_type, country, location, "
                "severity, created_at, updated_at) VALUES ('x', 't', 'e', 'c', 'l', 9, 'x', 'x')"
            )


async def test_latest_is_newest_first_and_pages_without_gaps_or_repeats(
    db: Database, clock: ManualClock
) -> None:
    async with db.transaction() as conn:
        for day in range(12):
            when = incident_content().occurred_at + timedelta(days=day % 6)  # ties on purpose
            await insert_incident(
                conn, incident_content(occurred_at=when, title=f"t{day}"), clock.now()
            )
    seen: list[int] = []
    cursor = None
    while True:
        page = await latest_published(db.reader, limit=5, older_than=cursor)
        seen.extend(incident.id for incident in page.incidents)
        if page.older_cursor is None:
            break
        cursor = page.older_cursor
    assert len(seen) == 12 and len(set(seen)) == 12
    async with db.reader.execute(
        "SELECT id FROM incidents ORDER BY occurred_at DESC, id DESC"
    ) as c:
        assert seen == [row[0] for row in await c.fetchall()]


async def test_latest_filters_by_country_region_or_location(sample_db: Database) -> None:
    in_syria = await latest_published(sample_db.reader, limit=20, places=PlaceFilter(text="syria"))
    assert in_syria.incidents and {i.country for i in in_syria.incidents} == {"Syria"}
    by_location = await latest_published(
        sample_db.reader, limit=20, places=PlaceFilter(text="asad")
    )
    assert by_location.incidents
    assert all("Asad" in i.location for i in by_location.incidents)
    by_countries = await latest_published(
        sample_db.reader, limit=20, places=PlaceFilter(countries=["Jordan"])
    )
    assert {i.country for i in by_countries.incidents} == {"Jordan"}


async def test_sample_contains_the_ain_al_asad_attack_of_august_2024(sample_db: Database) -> None:
    found = (await search_published(sample_db.reader, "Ain al-Asad", limit=20)).incidents
    august = [i for i in found if i.occurred_at.date().isoformat() == "2024-08-05"]
    assert len(august) == 1
    attack = august[0]
    assert attack.country == "Iraq"
    assert attack.claimed_by is None
    assert str(attack.injured) == "at least 5"


async def test_loading_the_sample_twice_changes_nothing(db: Database, clock: ManualClock) -> None:
    first = await load_sample(db, clock)
    incidents, figures = read_sample()
    assert first.incidents_added == len(incidents) and first.figures_added == len(figures)
    second = await load_sample(db, clock)
    assert second.incidents_added == 0 and second.figures_added == 0
    async with db.reader.execute("SELECT count(*) FROM incidents") as cursor:
        assert (await cursor.fetchone())[0] == len(incidents)


async def test_search_matches_words_as_prefixes_and_ignores_fts_syntax(
    sample_db: Database,
) -> None:
    assert (await search_published(sample_db.reader, "tow", limit=5)).incidents  # "Tower"
    for hostile in ['"', "AND OR NOT", "title:x", "*", "NEAR(", "-"]:
        await search_published(sample_db.reader, hostile, limit=5)  # no syntax error
    assert await match_expression(sample_db.reader, 'drone "attack') == '"drone"* AND "attack"*'
    assert await match_expression(sample_db.reader, "  ") == ""
    assert await match_expression(sample_db.reader, "Houthi's") == '"Houthi"*'


async def test_concurrent_writers_never_see_database_is_locked(
    db: Database, clock: ManualClock
) -> None:
    async def write(n: int) -> None:
        async with db.transaction() as conn:
            await insert_incident(conn, incident_content(title=f"t{n}"), clock.now())

    await asyncio.gather(*(write(n) for n in range(40)))
    page = await latest_published(db.reader, limit=20)
    assert len(page.incidents) == 20 and page.older_cursor is not None


async def stored(db: Database, **overrides: Any) -> int:
    async with db.transaction() as conn:
        incident_id = await insert_incident(conn, incident_content(**overrides), NOW)
    assert incident_id is not None
    return incident_id


async def test_search_lists_the_newest_by_when_it_happened_not_when_it_was_stored(
    db: Database,
) -> None:
    when = datetime(2024, 8, 5, 18, 30, tzinfo=UTC)
    middle = await stored(db, occurred_at=when, title="Drone over Conoco field")
    newest = await stored(db, occurred_at=when + timedelta(days=1), title="Drone near Conoco")
    oldest = await stored(db, occurred_at=when - timedelta(days=400), title="Drones at Conoco")
    await stored(db, title="Rockets at Tower 22")  # matches one word only

    found = await search_published(db.reader, "drone conoco", limit=10)

    assert [i.id for i in found.incidents] == [newest, middle, oldest]
    assert (found.total, found.exact) == (3, True)


async def test_words_beyond_the_prefix_indexes_find_every_term_they_begin(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Words longer than 6 letters are searched as the terms they begin: the same
    incidents, newest first, as a prefix search of those words. Words of one or two
    letters match only themselves."""
    when = datetime(2024, 3, 1, tzinfo=UTC)
    titles = {
        "oldest": "Rockets hit the perimeter fence",
        "plural": "Drones over the PERIMETERS",
        "accents": "Drone crossed the périmètre",  # folded to "perimetre" by the index
        "newest": "Perimeter breached at al-Tanf",
        "shorter": "Drone over the perimete road",  # no term of "perimeter" or longer
        "other": "Drone near Aleppo",
    }
    ids = {
        name: await stored(
            db,
            occurred_at=when + timedelta(days=n),
            title=title,
            summary="Reported by a wire service.",
            location="Mission Support Site Conoco",
        )
        for n, (name, title) in enumerate(titles.items())
    }

    def found_names(results: Any) -> list[str]:
        by_id = {incident_id: name for name, incident_id in ids.items()}
        return [by_id[incident.id] for incident in results.incidents]

    for limit in (10, 2):  # also with more matches than shown
        expanded = await search_published(db.reader, "perimeter", limit=limit)
        assert found_names(expanded) == ["newest", "plural", "oldest"][:limit]
        assert (expanded.total, expanded.exact) == (3, True)
    assert await match_expression(db.reader, "perimeter drone") == (
        '("perimeter" OR "perimeters") AND "drone"*'
    )
    assert found_names(await search_published(db.reader, "Perimeters drone", limit=10)) == [
        "plural"
    ]
    assert found_names(await search_published(db.reader, "perimetre", limit=10)) == ["accents"]
    # Two letters: the word "al" only, not "aleppo" that it begins.
    assert await match_expression(db.reader, "al drone") == '"al" AND "drone"*'
    assert found_names(await search_published(db.reader, "al", limit=10)) == ["newest"]
    in_iraq = await search_published(
        db.reader, "perimeter", limit=10, places=PlaceFilter(countries=["Iraq"])
    )
    assert found_names(in_iraq) == ["newest", "plural", "oldest"]
    assert await match_expression(db.reader, "perimeterless drone") is None
    assert (await search_published(db.reader, "perimeterless", limit=10)).total == 0

    # More terms than are expanded: FTS5's own prefix query, with the same answer.
    monkeypatch.setattr("storage.incidents.MOST_EXPANDED_TERMS", 1)
    assert await match_expression(db.reader, "perimeter") == '"perimeter"*'
    assert found_names(await search_published(db.reader, "perimeter", limit=10)) == [
        "newest",
        "plural",
        "oldest",
    ]


async def test_edits_and_retractions_keep_the_search_index_in_step(db: Database) -> None:
    incident_id = await stored(db, title="Drone strike at Conoco")
    async with db.transaction() as conn:
        content = incident_content(title="Rocket strike at Conoco")
        await update_incident(conn, incident_id, content, NOW)
    assert (await search_published(db.reader, "drone", limit=5)).incidents == []
    assert [i.id for i in (await search_published(db.reader, "rocket", limit=5)).incidents] == [
        incident_id
    ]
    # A word that no incident held before, longer than the prefix indexes: its terms are
    # listed when the edit is stored.
    async with db.transaction() as conn:
        content = incident_content(title="Rocket strike at Conoco", summary="Shrapnelled hangar")
        await update_incident(conn, incident_id, content, NOW)
    assert [i.id for i in (await search_published(db.reader, "shrapnel", limit=5)).incidents] == [
        incident_id
    ]
    async with db.transaction() as conn:
        await mark_retracted(conn, incident_id, "duplicate", NOW)
    assert (await search_published(db.reader, "rocket", limit=5)).total == 0
    assert (await search_published(db.reader, "shrapnelled", limit=5)).total == 0


def test_the_search_vocabulary_migration_lists_the_terms_already_indexed(
    tmp_path: Path,
) -> None:
    with closing(sqlite3.connect(tmp_path / "old.sqlite3")) as conn:
        migration = schema_before(conn, "_search_vocabulary.sql")
        for n, (title, status) in enumerate(
            [("Mortars battered Tower 22", "published"), ("Retracted sabotage", "retracted")]
        ):
            conn.execute(
                "INSERT INTO incidents (external_id, occurred_at, title, event_type, country, "
                "location, severity, status, created_at, updated_at) VALUES "
                "(?, '2024-01-01T00:00:00Z', ?, 'Battles', 'Iraq', 'Al-Tanf', 3, ?, '', '')",
                (f"old-{n}", title, status),
            )
        conn.executescript(migration)
        terms = [row[0] for row in conn.execute("SELECT term FROM search_vocabulary")]
    assert terms == ["22", "al", "battered", "mortars", "tanf", "tower"]


async def test_a_search_in_a_place_counts_the_matches_there_beyond_those_shown(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    iraq = PlaceFilter(countries=["Iraq"])
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for day in range(6):
        await stored(db, occurred_at=start + timedelta(days=day), title=f"Rocket attack {day}")
        await stored(
            db, occurred_at=start + timedelta(days=day, hours=1), title=f"Rocket fire {day}",
            country="Syria", admin1="Deir ez-Zor", location="Conoco", latitude=None,
            longitude=None,
        )  # fmt: skip

    in_iraq = await search_published(db.reader, "rocket", limit=4, places=iraq)

    assert [i.title for i in in_iraq.incidents] == [f"Rocket attack {d}" for d in (5, 4, 3, 2)]
    assert (in_iraq.total, in_iraq.exact) == (6, True)
    assert "showing the 4 newest of 6" in search_results("rocket", in_iraq, UTC, " in Iraq")
    # Beyond the matches counted one by one, estimated as without a place.
    monkeypatch.setattr("storage.incidents.SEARCH_COUNT_CAP", 4)
    estimated = await search_published(db.reader, "rocket", limit=2, places=iraq)
    assert [i.title for i in estimated.incidents] == ["Rocket attack 5", "Rocket attack 4"]
    assert not estimated.exact and estimated.total >= 4


async def test_a_broad_search_estimates_how_many_match_beyond_those_counted(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forty matches a day apart, counted up to ten: the rest is estimated from the span."""
    monkeypatch.setattr("storage.incidents.SEARCH_COUNT_CAP", 10)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for day in range(40):
        await stored(db, occurred_at=start + timedelta(days=day), title=f"Drone attack {day}")

    found = await search_published(db.reader, "drone", limit=3)

    assert [i.title for i in found.incidents] == [
        "Drone attack 39",
        "Drone attack 38",
        "Drone attack 37",
    ]
    assert not found.exact and 35 <= found.total <= 45
    text = search_results("drone", found, UTC)
    assert text.startswith(
        f"<b>Incidents matching “drone” — showing the 3 newest of about {found.total}</b>"
    )
