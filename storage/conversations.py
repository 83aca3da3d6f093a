"""SQL for python-telegram-bot's conversation states."""

from __future__ import annotations

import json

import aiosqlite


async def load_conversations(conn: aiosqlite.Connection, name: str) -> dict[str, str]:
    """JSON-encoded conversation key → JSON-encoded state."""
    async with conn.execute(
        "SELECT key, state FROM conversations WHERE name = ?", (name,)
    ) as cursor:
        return {row["key"]: row["state"] for row in await cursor.fetchall()}


async def store_conversation(
    conn: aiosqlite.Connection, name: str, key: str, state: object | None
) -> None:
    if state is None:
        await conn.execute("DELETE FROM conversations WHERE name = ? AND key = ?", (name, key))
        return
    await conn.execute(
        "INSERT INTO conversations (name, key, state) VALUES (?, ?, ?) "
        "ON CONFLICT (name, key) DO UPDATE SET state = excluded.state",
        (name, key, json.dumps(state)),
    )
