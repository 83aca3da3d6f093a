"""SQL for rendered charts and their Telegram file ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.codec import to_db_time


@dataclass(frozen=True)
class StoredChart:
    key: str
    png: bytes
    file_id: str | None


async def get_chart(conn: aiosqlite.Connection, key: str) -> StoredChart | None:
    async with conn.execute("SELECT key, png, file_id FROM charts WHERE key = ?", (key,)) as cur:
        row = await cur.fetchone()
    return StoredChart(key=row[0], png=bytes(row[1]), file_id=row[2]) if row else None


async def store_chart(conn: aiosqlite.Connection, key: str, png: bytes, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO charts (key, png, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
        (key, png, to_db_time(now)),
    )


async def remember_file_id(conn: aiosqlite.Connection, key: str, file_id: str) -> None:
    await conn.execute(
        "UPDATE charts SET file_id = ? WHERE key = ? AND file_id IS NULL", (file_id, key)
    )


async def forget_charts_before(conn: aiosqlite.Connection, before: datetime) -> int:
    cursor = await conn.execute("DELETE FROM charts WHERE created_at < ?", (to_db_time(before),))
    return cursor.rowcount
