"""Backups, restores, and the lock that tells them a bot is using the database.

These work on the database file with the standard sqlite3 module (they are blocking):
the command line runs them while the bot may be running, or must not be.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from storage.db import bundled_migrations


class DatabaseInUse(Exception):
    """A running bot holds the database's lock."""


class UnusableBackup(Exception):
    """The file is not a sound incident-bot database; the message says why."""


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextmanager
def holding_database(database: Path) -> Iterator[None]:
    """Hold the database's lock for the block; raise DatabaseInUse if someone else holds it.

    The running bot holds it for its whole life, and a restore holds it while it replaces
    the file, so neither can start while the other is at work. The lock is an flock on a
    file beside the database: the kernel releases it when the holder exits, however it
    exits, so a crash never leaves a stale lock behind.
    """
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseInUse(str(database)) from None
        yield
    finally:
        os.close(descriptor)


def backup_database(source: Path, target: Path) -> None:
    """Copy a live database with SQLite's online backup API.

    The copy is written beside the target and renamed into place, so an
    interrupted backup never leaves a half-written file under the target's name.
    """
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(partial)) as copy:
            live.backup(copy)
            # A copy in the live database's WAL mode would grow -wal and -shm files beside
            # it whenever it is read (and a restore reads it): a backup is one file.
            copy.execute("PRAGMA journal_mode = DELETE")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def check_backup(path: Path) -> None:
    """Raise UnusableBackup unless `path` is an intact incident-bot database this version reads."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            has_incidents = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'incidents'"
            ).fetchone()
    except sqlite3.DatabaseError as error:
        if "file is not a database" in str(error):
            raise UnusableBackup("not an SQLite database") from None
        raise UnusableBackup(f"damaged: SQLite says {error}") from None
    if problems != ["ok"]:
        shown = "; ".join(problems[:3])
        raise UnusableBackup(f"damaged: SQLite's integrity check reports {shown}")
    if not has_incidents:
        raise UnusableBackup("an SQLite database, but not one of incident-bot's")
    newest = max(number for number, _, _ in bundled_migrations())
    if version > newest:
        raise UnusableBackup(
            f"written by a newer incident-bot (schema {version}; this one knows up to {newest})"
        )


def restore_database(backup: Path, database: Path, kept: Path) -> None:
    """Replace the database's contents with the backup's, keeping the old ones in `kept`.

    Both copies go through SQLite's backup API rather than file copies, so what the
    database's write-ahead log holds is neither lost from `kept` nor left to be
    replayed over the restored contents. Call it holding the database's lock.
    """
    if database.exists():
        backup_database(database, kept)
    with (
        closing(sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)) as source,
        closing(sqlite3.connect(database)) as live,
    ):
        source.backup(live)
