"""Backups and restores from the command line, and removing the sample data."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot import cli
from bot.clock import ManualClock
from bot.models import TroopFigureContent
from bot.record.sample import load_sample, read_sample, remove_sample, sample_rows
from bot.record.stats import delivery_stats
from bot.render.stats import stats_text
from storage.codec import to_db_time
from storage.db import Database, UnusableDatabase, bundled_migrations
from storage.incidents import insert_incident
from storage.maintenance import holding_database
from storage.outbox import AlertPlace, matching_subscribers
from storage.subscribers import get_subscription
from tests.conftest import NOW
from tests.factories import incident_content

SAMPLE_MARKS = 8  # the migration that adds the marks


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A live database holding the sample, named by the environment as the bot's."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)
    path = tmp_path / "live.sqlite3"
    monkeypatch.setenv("INCIDENT_BOT_STORAGE__PATH", str(path))
    assert cli.main(["sample", "load"]) == 0
    yield path


def titles(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT title FROM incidents")}


def test_backup_change_restore_gives_back_the_record_and_keeps_the_replaced_one(
    live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = titles(live)
    backup = tmp_path / "backups" / "monday.sqlite3"
    backup.parent.mkdir()
    assert cli.main(["db", "backup", str(backup)]) == 0
    with sqlite3.connect(live) as conn:  # the change to undo, still in the write-ahead log
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("UPDATE incidents SET title = 'Changed after the backup' WHERE id = 1")
        conn.execute("DELETE FROM troop_figures")
        held_open = sqlite3.connect(live)  # keeps the WAL from being folded back in
        held_open.execute("SELECT 1")
    capsys.readouterr()
    assert cli.main(["db", "restore", str(backup)]) == 0
    held_open.close()
    out = capsys.readouterr().out
    kept = next(tmp_path.glob("live.sqlite3.replaced-*"))
    assert f"restored {live} from {backup}; the replaced database is kept as {kept}" in out
    assert titles(live) == before
    with sqlite3.connect(live) as conn:
        assert conn.execute("SELECT count(*) FROM troop_figures").fetchone()[0] == 6
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert "Changed after the backup" in titles(kept)
    # Each copy is one file: reading it for the restore left nothing beside it.
    assert sorted(path.name for path in backup.parent.iterdir()) == ["monday.sqlite3"]


def test_two_restores_in_one_second_keep_both_replaced_databases(
    live: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class OneSecond(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> OneSecond:
            return cls(2026, 12, 2, 1, 0, 0, tzinfo=UTC)

    monkeypatch.setattr(cli, "datetime", OneSecond)
    backup = tmp_path / "backup.sqlite3"
    assert cli.main(["db", "backup", str(backup)]) == 0
    with sqlite3.connect(live) as conn:
        conn.execute("UPDATE incidents SET title = 'Only in the first' WHERE id = 1")
    assert cli.main(["db", "restore", str(backup)]) == 0
    assert cli.main(["db", "restore", str(backup)]) == 0
    first = tmp_path / "live.sqlite3.replaced-20261202T010000Z"
    second = tmp_path / "live.sqlite3.replaced-20261202T010000Z-2"
    assert "Only in the first" in titles(first)
    assert "Only in the first" not in titles(second)


def test_restore_is_refused_while_a_bot_holds_the_database(
    live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "copy.sqlite3"
    assert cli.main(["db", "backup", str(backup)]) == 0
    capsys.readouterr()
    with holding_database(live):  # as the running bot does
        assert cli.main(["db", "restore", str(backup)]) == 1
    err = capsys.readouterr().err
    assert f"a bot is running on {live}; stop it first" in err and "nothing was changed" in err
    assert not list(tmp_path.glob("*.replaced-*"))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"this is not a database at all, just some text" * 100, "not an SQLite database"),
        (None, "an SQLite database, but not one of incident-bot's"),
    ],
)
def test_restore_refuses_a_file_that_is_no_sound_backup(
    live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None,
    problem: str,
) -> None:  # fmt: skip
    bad = tmp_path / "bad.sqlite3"
    if content is None:
        with sqlite3.connect(bad) as conn:
            conn.execute("CREATE TABLE notes (text TEXT)")
    else:
        bad.write_bytes(content)
    before = titles(live)
    assert cli.main(["db", "restore", str(bad)]) == 1
    assert f"{bad}: {problem}; nothing was changed" in capsys.readouterr().err
    assert titles(live) == before


def test_restore_refuses_a_damaged_backup(
    live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "damaged.sqlite3"
    assert cli.main(["db", "backup", str(backup)]) == 0
    with sqlite3.connect(backup) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'incidents_published_newest'"
        ).fetchone()[0]
    data = bytearray(backup.read_bytes())
    start = (root - 1) * page_size
    data[start + 8 : start + page_size] = b"\xff" * (page_size - 8)  # an index page scrambled
    backup.write_bytes(bytes(data))
    capsys.readouterr()
    assert cli.main(["db", "restore", str(backup)]) == 1
    err = capsys.readouterr().err
    assert f"{backup}: " in err and "nothing was changed" in err


def test_backup_will_not_overwrite_without_force_and_names_a_missing_directory(
    live: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "b.sqlite3"
    target.write_text("an older backup")
    assert cli.main(["db", "backup", str(target)]) == 2
    assert f"{target} already exists; choose another name, or add --force" in (
        capsys.readouterr().err
    )
    assert target.read_text() == "an older backup"
    assert cli.main(["db", "backup", str(target), "--force"]) == 0
    assert len(titles(target)) == 18
    nowhere = tmp_path / "no" / "such" / "dir" / "b.sqlite3"
    assert cli.main(["db", "backup", str(nowhere)]) == 2
    assert (
        f"there is no directory {nowhere.parent} to put the backup in; create it first "
        f"(mkdir -p {nowhere.parent})" in capsys.readouterr().err
    )
    folder = tmp_path / "backups"
    folder.mkdir()
    for force in ([], ["--force"]):
        assert cli.main(["db", "backup", str(folder), *force]) == 2
        assert f"{folder} is a directory; name the backup file in it, e.g. {folder}/" in (
            capsys.readouterr().err
        )
    assert list(tmp_path.glob("*.partial")) == [] and list(folder.iterdir()) == []


async def test_sample_rows_are_counted_in_stats_and_removed_with_their_messages(
    db: Database, clock: ManualClock
) -> None:
    await load_sample(db, clock)
    await load_sample(db, clock)  # loading again marks nothing twice
    async with db.transaction() as conn:
        own = await insert_incident(conn, incident_content(title="Our own report"), clock.now())
        for incident_id in (1, own):
            await conn.execute(
                "INSERT INTO outbox (chat_id, kind, dedupe_key, incident_id, not_before, "
                "created_at) VALUES (?, 'alert', ?, ?, ?, ?)",
                (7, f"alert:{incident_id}:7", incident_id, NOW.isoformat(), NOW.isoformat()),
            )
    counts = await sample_rows(db)
    assert (counts.incidents, counts.figures) == (18, 6)
    text = stats_text(await delivery_stats(db, clock, UTC), UTC)
    assert "18 incidents and 6 troop figures from the bundled sample" in text

    removed = await remove_sample(db)

    assert (removed.incidents, removed.figures, removed.messages) == (18, 6, 1)
    rows: dict[str, Any] = {}
    for table in ("incidents", "troop_figures", "outbox", "incident_sources"):
        async with db.reader.execute(f"SELECT count(*) FROM {table}") as cursor:
            row = await cursor.fetchone()
            rows[table] = row[0] if row else None
    assert rows == {"incidents": 1, "troop_figures": 0, "outbox": 1, "incident_sources": 1}
    fts = "SELECT rowid FROM incidents_search WHERE incidents_search MATCH 'Tower'"
    async with db.reader.execute(fts) as cursor:
        assert await cursor.fetchall() == []
    text = stats_text(await delivery_stats(db, clock, UTC), UTC)
    assert "Sample data" not in text


async def test_the_migration_marks_a_sample_loaded_before_the_marks_existed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        for version, _, sql in bundled_migrations():
            if version < SAMPLE_MARKS:
                await conn.executescript(f"{sql}\nPRAGMA user_version = {version};")
        incidents, figures = read_sample()
        # In the columns incidents had then: today's insert_incident writes newer ones.
        await conn.executemany(
            "INSERT INTO incidents (external_id, occurred_at, title, event_type, country, "
            "location, severity, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i.external_id, to_db_time(i.occurred_at), i.title, i.event_type, i.country,
                    i.location, i.severity, to_db_time(NOW), to_db_time(NOW),
                )
                for i in incidents
            ],
        )  # fmt: skip
        for figure in figures:
            await _insert_old_figure(conn, figure, NOW)
        # A figure of the operator's own, entered later, for a date the sample lacks.
        own = figures[0].model_copy(update={"as_of": date(2025, 1, 1)})
        await _insert_old_figure(conn, own, NOW + timedelta(minutes=5))
    async with Database(path) as db:
        assert "0008_sample_marks.sql" in db.migrations_applied
        counts = await sample_rows(db)
        assert (counts.incidents, counts.figures) == (18, 6)
        removed = await remove_sample(db)
        assert (removed.incidents, removed.figures) == (18, 6)
        async with db.reader.execute("SELECT as_of FROM troop_figures") as cursor:
            assert [row[0] for row in await cursor.fetchall()] == ["2025-01-01"]


async def _insert_old_figure(
    conn: aiosqlite.Connection, figure: TroopFigureContent, at: datetime
) -> None:
    """A troop figure in the columns of the time before 0008 (no kind, no sample mark)."""
    await conn.execute(
        "INSERT INTO troop_figures (force, host_country, count, qualifier, as_of, "
        "source_name, source_url, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            figure.force,
            figure.host_country,
            figure.count.value,
            figure.count.qualifier.value,
            figure.as_of.isoformat(),
            figure.source.name,
            str(figure.source.url) if figure.source.url else None,
            to_db_time(at),
        ),
    )


async def test_a_failing_migration_leaves_no_connection_open(tmp_path: Path) -> None:
    """An open connection's thread would keep `db upgrade` from ever exiting."""
    path = tmp_path / "clash.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE incidents (id INTEGER)")  # 0001 creates it too
    database = Database(path)
    with pytest.raises(UnusableDatabase, match="already exists"):
        await database.open()
    assert database._writer is None and database._reader is None


async def test_the_matching_migrations_fill_the_copies_and_keep_the_outbox(
    tmp_path: Path,
) -> None:
    """0022 copies each subscriber's activity, severity and directions into the place
    tables; 0023 rebuilds the outbox with the same rows (a chart still after its digest)
    and the same rules."""
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        for version, _, sql in bundled_migrations():
            if version < 22:
                await conn.executescript(f"{sql}\nPRAGMA user_version = {version};")
        stamp = to_db_time(NOW)
        await conn.execute(
            "INSERT INTO subscribers (chat_id, chat_type, active, regions, min_severity, "
            "alert_directions, digest, timezone, created_at, updated_at) "
            "VALUES (7, 'private', 1, '[\"Iraq\"]', 4, 3, 'daily', 'UTC', ?, ?)",
            (stamp, stamp),
        )
        await conn.execute("INSERT INTO subscriber_countries (chat_id, country) VALUES (7, 'Iraq')")
        await conn.executemany(
            "INSERT INTO outbox (id, chat_id, kind, dedupe_key, payload, status, not_before, "
            "created_at, after_id) VALUES (?, 7, 'digest', ?, '{}', 'pending', ?, ?, ?)",
            [(1, "digest:7", stamp, stamp, None), (2, "digest:7:chart", stamp, stamp, 1)],
        )
    async with Database(path) as db:
        assert db.migrations_applied[:2] == ["0022_matching_covering.sql", "0023_outbox_checks.sql"]
        async with db.reader.execute(
            "SELECT active, min_severity, alert_directions FROM subscriber_countries"
        ) as cursor:
            assert [tuple(row) for row in await cursor.fetchall()] == [(1, 4, 3)]
        async with db.reader.execute("SELECT id, dedupe_key, after_id FROM outbox") as cursor:
            assert [tuple(row) for row in await cursor.fetchall()] == [
                (1, "digest:7", None),
                (2, "digest:7:chart", 1),
            ]
        async with db.transaction() as conn:
            with pytest.raises(sqlite3.IntegrityError):
                await conn.execute("UPDATE outbox SET status = 'lost' WHERE id = 1")


_OLD_SUBSCRIBER = (
    "INSERT INTO subscribers (chat_id, chat_type, active, regions, watches, min_severity, "
    "alert_directions, digest, timezone, created_at, updated_at) "
    "VALUES (?, 'private', 1, ?, ?, 1, 7, 'daily', 'UTC', ?, ?)"
)


async def database_before(
    path: Path, migration: str, subscribers: list[tuple[int, str, str]]
) -> None:
    """A database migrated up to the one named `…{migration}.sql`, with subscribers
    (chat id, regions, watches) as JSON."""
    version = next(number for number, name, _ in bundled_migrations() if name.endswith(migration))
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        for number, _, sql in bundled_migrations():
            if number < version:
                await conn.executescript(f"{sql}\nPRAGMA user_version = {number};")
        stamp = to_db_time(NOW)
        await conn.executemany(
            _OLD_SUBSCRIBER, [(*subscriber, stamp, stamp) for subscriber in subscribers]
        )


async def test_the_everywhere_migration_keeps_what_each_chat_was_sent(tmp_path: Path) -> None:
    """Before it, no regions and no watches meant everywhere: those chats keep every alert,
    and a chat watching a site keeps only that."""
    path = tmp_path / "old.sqlite3"
    tower_22 = '[{"site": "Tower 22", "radius_km": 25.0}]'
    await database_before(
        path, "_everywhere.sql", [(1, "[]", "[]"), (2, "[]", tower_22), (3, '["Iraq"]', "[]")]
    )
    async with Database(path) as db:
        chats = [await get_subscription(db.reader, chat) for chat in (1, 2, 3)]
        assert [s.everywhere for s in chats if s is not None] == [True, False, False]
        assert await matching_subscribers(db.reader, "Oman", 3) == [1]


async def test_a_watch_radius_below_1_km_is_lifted_to_1_km(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    watches = (
        '[{"site": "Ain al-Asad Air Base", "radius_km": 0.001}, '
        '{"site": "Tower 22", "radius_km": 30.0}]'
    )
    await database_before(path, "_radius_floor.sql", [(1, "[]", watches)])
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await conn.execute(
            "INSERT INTO subscriber_sites (chat_id, site, latitude, longitude, radius_km, "
            "watched, south, north, west, east) "
            "VALUES (1, 'Ain al-Asad Air Base', 33.7856, 42.4412, 0.001, 1, 33.78559, "
            "33.78561, 42.44119, 42.44121)"
        )
    async with Database(path) as db:
        subscription = await get_subscription(db.reader, 1)
        assert subscription is not None
        assert [(w.site, w.radius_km) for w in subscription.watches] == [
            ("Ain al-Asad Air Base", 1.0),
            ("Tower 22", 30.0),
        ]
        # 0.5 km from the base: outside the old radius, inside the new one.
        near = AlertPlace("Iraq", "Anbar", "", 33.7856 + 0.5 / 111.2, 42.4412)
        assert await matching_subscribers(db.reader, near, 3) == [1]
