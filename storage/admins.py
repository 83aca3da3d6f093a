"""SQL for editors and the audit log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite

from bot.models import AuditEntry
from storage.codec import from_db_time, to_db_time


async def is_editor(conn: aiosqlite.Connection, user_id: int) -> bool:
    return bool(await conn.execute_fetchall("SELECT 1 FROM editors WHERE user_id = ?", (user_id,)))


async def editor_ids(conn: aiosqlite.Connection) -> list[int]:
    return [
        row[0]
        for row in await conn.execute_fetchall("SELECT user_id FROM editors ORDER BY user_id")
    ]


async def add_editor(
    conn: aiosqlite.Connection, user_id: int, granted_by: int, now: datetime
) -> bool:
    """True if the user was not an editor before."""
    cursor = await conn.execute(
        "INSERT INTO editors (user_id, granted_by, granted_at) VALUES (?, ?, ?) "
        "ON CONFLICT (user_id) DO NOTHING",
        (user_id, granted_by, to_db_time(now)),
    )
    return cursor.rowcount == 1


async def remove_editor(conn: aiosqlite.Connection, user_id: int) -> bool:
    """True if the user was an editor."""
    cursor = await conn.execute("DELETE FROM editors WHERE user_id = ?", (user_id,))
    return cursor.rowcount == 1


async def record_action(
    conn: aiosqlite.Connection,
    *,
    at: datetime,
    actor_id: int,
    action: str,
    subject: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (at, actor_id, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
        (to_db_time(at), actor_id, action, subject, json.dumps(detail or {}, default=str)),
    )


async def recent_actions(conn: aiosqlite.Connection, limit: int) -> list[AuditEntry]:
    async with conn.execute(
        "SELECT id, at, actor_id, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT ?",
        (limit,),
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        AuditEntry(
            id=row["id"],
            at=from_db_time(row["at"]),
            actor_id=row["actor_id"],
            action=row["action"],
            subject=row["subject"],
            detail=json.loads(row["detail"]),
        )
        for row in rows
    ]
