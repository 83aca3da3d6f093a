"""The command line meets careless operators: a storage.path that is no database, a
database from a newer version, an environment variable that is not JSON. Each gets one
plain line and exit status 2 at once: no traceback, no hang."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage.db import bundled_migrations


def run_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_plain_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("command", [["db", "upgrade"], ["export", "--format", "csv"]])
def test_a_storage_path_holding_something_else_is_named_not_hung_on(
    tmp_path: Path, command: list[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database at all\n" * 100, encoding="utf-8")
    result = run_cli(*command, cwd=tmp_path, env={"INCIDENT_BOT_STORAGE__PATH": str(notes)})
    assert one_plain_line(result) == (
        f"incident-bot: storage.path: {notes} is not an SQLite database"
    )
    assert notes.read_text(encoding="utf-8").startswith("not a database")


def test_a_storage_path_that_is_a_directory_is_named(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", cwd=tmp_path, env={"INCIDENT_BOT_STORAGE__PATH": "."})
    assert one_plain_line(result).startswith("incident-bot: storage.path: ")


def test_a_database_from_a_newer_version_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    env = {"INCIDENT_BOT_STORAGE__PATH": str(path)}
    assert run_cli("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    newest = max(number for number, _, _ in bundled_migrations())
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {newest + 1}")
    result = run_cli("db", "upgrade", cwd=tmp_path, env=env)
    assert one_plain_line(result) == (
        f"incident-bot: storage.path: {path} was written by a newer incident-bot "
        f"(schema {newest + 1}; this one knows up to {newest}); upgrade incident-bot"
    )


def test_a_section_from_the_environment_that_is_not_json_is_named(tmp_path: Path) -> None:
    # A bad list (INCIDENT_BOT_TELEGRAM__ADMINS) is tested in test_config.py.
    result = run_cli("config", "check", cwd=tmp_path, env={"INCIDENT_BOT_TELEGRAM": "{"})
    assert one_plain_line(result) == (
        "incident-bot: environment variable INCIDENT_BOT_TELEGRAM: not valid JSON; a list or "
        "table from the environment must be JSON, e.g. INCIDENT_BOT_TELEGRAM__ADMINS='[123456789]'"
    )


def test_export_onto_a_directory_is_refused_in_plain_words(tmp_path: Path) -> None:
    env = {"INCIDENT_BOT_STORAGE__PATH": str(tmp_path / "bot.sqlite3")}
    assert run_cli("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    target = tmp_path / "exports"
    target.mkdir()
    argv = ["export", "--format", "csv", "--output", str(target), "--log-level", "WARNING"]
    result = run_cli(*argv, cwd=tmp_path, env=env)
    assert one_plain_line(result) == f"incident-bot: {target}: cannot be written: Is a directory"
    assert not (tmp_path / "exports.partial").exists()


@pytest.mark.parametrize(
    ("command", "to_do"),
    [
        (["export", "--format", "csv"], "to export from"),
        (["export", "--format", "atom"], "to export from"),
        (["sample", "remove"], "to remove the sample from"),
    ],
)
def test_a_mistyped_storage_path_is_refused_and_nothing_is_created(
    tmp_path: Path, command: list[str], to_do: str
) -> None:
    mistyped = tmp_path / "var" / "incident-bot.sqlite"
    result = run_cli(*command, cwd=tmp_path, env={"INCIDENT_BOT_STORAGE__PATH": str(mistyped)})
    assert one_plain_line(result) == (
        f"incident-bot: storage.path: no database at {mistyped} {to_do}; nothing was created"
    )
    assert list(tmp_path.iterdir()) == []
