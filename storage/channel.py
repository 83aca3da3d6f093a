"""SQL for the channel posts that mirror incidents."""

from __future__ import annotations

import aiosqlite


async def remember_channel_post(
    conn: aiosqlite.Connection, incident_id: int, chat_id: int, message_id: int
) -> None:
    await conn.execute(
        "INSERT INTO channel_posts (incident_id, chat_id, message_id) VALUES (?, ?, ?) "
        "ON CONFLICT (incident_id) DO UPDATE SET chat_id = excluded.chat_id, "
        "message_id = excluded.message_id",
        (incident_id, chat_id, message_id),
    )


async def channel_post_of(conn: aiosqlite.Connection, incident_id: int) -> tuple[int, int] | None:
    rows = await conn.execute_fetchall(
        "SELECT chat_id, message_id FROM channel_posts WHERE incident_id = ?", (incident_id,)
    )
    return next(((row["chat_id"], row["message_id"]) for row in rows), None)
