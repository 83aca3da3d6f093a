"""A schema migration that fails: one line naming it, the database as it was, a prompt
exit, and `run` stopped before it talks to Telegram."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest

from bot import cli
from bot.sandbox.fake_api import FakeBotApi
from storage import db as storage_db
from storage.db import bundled_migrations

OUTBOX_ORDER = 13  # the migration that adds outbox.after_id
# Time for a slow, shared machine to start Python and fail; a hang at exit runs into it.
EXIT_TIMEOUT_SECONDS = 60


def schema_ahead_of_its_version(path: Path, version: int) -> None:
    """A database that has every table and column, but says it has only up to `version`:
    migration `version + 1` then fails (its ALTER TABLE adds a column already there)."""
    with closing(sqlite3.connect(path)) as conn:
        for _, _, sql in bundled_migrations():
            conn.executescript(sql)
        conn.execute(f"PRAGMA user_version = {version}")


def schema(path: Path) -> tuple[int, list[tuple[str, str, str | None]]]:
    with closing(sqlite3.connect(path)) as conn:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        objects = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    return version, objects


def failed_outbox_order(database: Path) -> str:
    return (
        f"incident-bot: storage.path: {database} could not be upgraded: migration "
        "0013_outbox_order.sql failed (duplicate column name: after_id); none of it was "
        "applied, the database is as it was, at schema version 12"
    )


def environment(database: Path, **extra: str) -> dict[str, str]:
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("INCIDENT_BOT_", "PYTHON")) and key != "TELEGRAM_BOT_TOKEN"
    }
    return {**kept, "INCIDENT_BOT_STORAGE__PATH": str(database), **extra}


def test_db_upgrade_names_the_failed_migration_and_exits_promptly(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    schema_ahead_of_its_version(database, OUTBOX_ORDER - 1)
    before = schema(database)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--log-level", "WARNING", "db", "upgrade"],
        cwd=tmp_path, env=environment(database), capture_output=True, text=True,
        timeout=EXIT_TIMEOUT_SECONDS,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines() == [failed_outbox_order(database)]
    assert schema(database) == before


async def test_run_stops_at_the_failed_migration_before_it_talks_to_telegram(
    tmp_path: Path, telegram: FakeBotApi
) -> None:
    database = tmp_path / "bot.sqlite3"
    schema_ahead_of_its_version(database, OUTBOX_ORDER - 1)
    before = schema(database)
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--log-level", "WARNING", "run",
        cwd=tmp_path,
        env=environment(database, TELEGRAM_BOT_TOKEN=telegram.token,
                        INCIDENT_BOT_TELEGRAM__API_BASE_URL=telegram.api_root),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        _, err = await asyncio.wait_for(bot.communicate(), EXIT_TIMEOUT_SECONDS)
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
    # One line: no "Unclosed client session" from an HTTP client opened for nothing.
    assert err.decode().splitlines() == [failed_outbox_order(database)]
    assert bot.returncode == 2
    assert telegram.requests == []
    assert schema(database) == before


def test_a_migration_failing_half_way_is_undone_and_the_earlier_ones_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = bundled_migrations()
    newest = shipped[-1][0]
    broken = (
        newest + 1,
        f"{newest + 1:04d}_broken.sql",
        "CREATE TABLE half_done (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
    )
    monkeypatch.setattr(storage_db, "bundled_migrations", lambda: [*shipped, broken])
    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)
    database = tmp_path / "bot.sqlite3"
    monkeypatch.setenv("INCIDENT_BOT_STORAGE__PATH", str(database))
    threads_before = set(threading.enumerate())

    assert cli.main(["db", "upgrade"]) == 2

    # Every connection is closed: its thread would keep the process from exiting.
    for thread in set(threading.enumerate()) - threads_before:
        thread.join(timeout=EXIT_TIMEOUT_SECONDS)
        assert not thread.is_alive(), thread
    assert capsys.readouterr().err == (
        f"incident-bot: storage.path: {database} could not be upgraded: migration "
        f"{broken[1]} failed (no such table: no_such_table); none of it was applied, the "
        f"database is as it was, at schema version {newest}\n"
    )
    version, objects = schema(database)
    assert version == newest  # the shipped migrations before it were applied and kept
    assert "half_done" not in {name for _, name, _ in objects}
