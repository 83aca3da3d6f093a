"""The one owner of the SQLite database.

All writes go through a single connection guarded by an asyncio lock, so that a
transaction begun by one handler never interleaves with another handler's
statements (aiosqlite serialises statements, not transactions). Reads use a
second connection: in WAL mode it sees only committed data and never waits for
a writer, so commands stay fast while a broadcast writes to the outbox.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from types import TracebackType

import aiosqlite

from storage.places import places_need_respelling, respell_stored_places

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_BUSY_TIMEOUT_MS = 5000


class UnusableDatabase(Exception):
    """The database file cannot be used as it is; the message says why, in plain words."""


class Database:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self.migrations_applied: list[str] = []
        self.places_respelled = 0

    async def open(self) -> None:
        """Connect and migrate; opening an open database does nothing.

        Raise UnusableDatabase, with nothing left open, when the file is no SQLite
        database, cannot be opened, or was written by a newer incident-bot.
        """
        if self._writer is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # A file SQLite cannot open is found here, not by aiosqlite: when its connect
            # fails, its thread outlives the event loop and dies with a traceback.
            sqlite3.connect(self.path).close()
            self._writer = await self._connect()
            await self._writer.execute("PRAGMA journal_mode = WAL")
            self.migrations_applied = await apply_migrations(self._writer)
            # The data's upgrade after the schema's: places in the gazetteer's spelling.
            if await places_need_respelling(self._writer):
                async with self.transaction() as writer:
                    self.places_respelled = await respell_stored_places(writer)
            self._reader = await self._connect()
            await self._reader.execute("PRAGMA query_only = ON")
        except (OSError, sqlite3.Error) as error:
            # An open connection's thread would keep the process alive after the error.
            await self.close()
            raise UnusableDatabase(_unusable_because(self.path, error)) from None
        except UnusableDatabase as problem:
            await self.close()
            raise UnusableDatabase(f"{self.path} {problem}") from None
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        for connection in (self._reader, self._writer):
            if connection is not None:
                await connection.close()
        self._reader = self._writer = None

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise RuntimeError("database is not open")
        return self._reader

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block as one transaction: all of it is committed, or none of it."""
        if self._writer is None:
            raise RuntimeError("database is not open")
        writer = self._writer
        async with self._write_lock:
            try:
                await writer.execute("BEGIN IMMEDIATE")
                yield writer
            except BaseException:
                # Also when cancelled: the BEGIN may have run in aiosqlite's thread even
                # though its await was interrupted, and must not outlive this block.
                if writer.in_transaction:
                    await asyncio.shield(writer.rollback())
                raise
            else:
                # A commit interrupted half-way would leave the outcome unknown to the caller.
                await asyncio.shield(writer.commit())

    async def _connect(self) -> aiosqlite.Connection:
        # isolation_level=None: transactions are begun explicitly in transaction().
        connection = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            connection.row_factory = aiosqlite.Row
            await connection.execute("PRAGMA foreign_keys = ON")
            await connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        except BaseException:
            await connection.close()
            raise
        return connection


@asynccontextmanager
async def savepoint(conn: aiosqlite.Connection) -> AsyncIterator[None]:
    """Run the block inside the current transaction so that, if it raises, what it wrote
    is undone and the rest of the transaction stands."""
    await conn.execute("SAVEPOINT block")
    try:
        yield
    except BaseException:
        await conn.execute("ROLLBACK TO block")
        await conn.execute("RELEASE block")
        raise
    await conn.execute("RELEASE block")


def _unusable_because(path: Path, error: OSError | sqlite3.Error) -> str:
    if isinstance(error, sqlite3.DatabaseError) and "file is not a database" in str(error):
        return f"{path} is not an SQLite database"
    if path.is_dir():
        return f"{path} is a directory; name a file in it, e.g. {path / 'incident-bot.sqlite3'}"
    reason = error.strerror if isinstance(error, OSError) else str(error)
    return f"{path} cannot be opened: {reason}"


def bundled_migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration shipped with the package, in order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


async def schema_version(connection: aiosqlite.Connection) -> int:
    async with connection.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def apply_migrations(connection: aiosqlite.Connection) -> list[str]:
    """Apply the migrations newer than the database's user_version; return their names.

    Each migration runs in its own transaction together with the version bump,
    so a crash mid-upgrade leaves the database at the previous version, and one that
    the database refuses is UnusableDatabase naming it, with nothing of it applied.
    """
    current = await schema_version(connection)
    newest = max(number for number, _, _ in bundled_migrations())
    if current > newest:
        raise UnusableDatabase(
            f"was written by a newer incident-bot (schema {current}; this one knows up to "
            f"{newest}); upgrade incident-bot"
        )
    applied = []
    for version, name, sql in bundled_migrations():
        if version <= current:
            continue
        log.info("applying migration %s", name)
        script = f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
        try:
            await connection.executescript(script)
        except BaseException as error:
            if connection.in_transaction:
                await connection.rollback()
            if isinstance(error, sqlite3.Error):
                raise UnusableDatabase(
                    f"could not be upgraded: migration {name} failed ({error}); none of it "
                    f"was applied, the database is as it was, at schema version {current}"
                ) from error
            raise
        applied.append(name)
        current = version
    return applied
