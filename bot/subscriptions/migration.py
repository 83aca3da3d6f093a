"""A basic group that became a supergroup: its subscription and its messages follow it.

Telegram gives the supergroup a new chat id. The bot learns of the move from the service
messages Telegram posts in both chats (handlers.subscriptions.chat_migrated) or, if it
missed them, from the first send to the old id (bot.delivery.engine). Either way the
same move is made, in the caller's transaction; made twice, the second does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

import aiosqlite

from storage.outbox import move_chat_items
from storage.subscribers import move_chat

log = logging.getLogger(__name__)


async def follow_migration(
    conn: aiosqlite.Connection, old_chat_id: int, new_chat_id: int, now: datetime
) -> None:
    """Move the group's subscription (unless the supergroup has its own, which stands) and
    every message queued or sent to it, so corrections follow the alerts."""
    subscription_moved = await move_chat(conn, old_chat_id, new_chat_id)
    messages = await move_chat_items(conn, old_chat_id, new_chat_id, now)
    if subscription_moved or messages:
        log.info(
            "chat %d became supergroup %d; %s, %d messages moved",
            old_chat_id, new_chat_id,
            "its subscription" if subscription_moved else "no subscription", messages,
        )  # fmt: skip
