"""PTB persistence backed by the bot's own SQLite database.

Only ConversationHandler states are persisted — which step of /post an admin
is at. Everything an admin has typed is stored as a draft the moment it is
accepted, so a state lost in the last `update_interval` seconds before a kill
costs at most one question asked again, never an answer.
"""

from __future__ import annotations

import json
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from bot.ptb_compat import ConversationDict, ConversationKey
from storage.conversations import load_conversations, store_conversation
from storage.db import Database

_NOTHING_ELSE = PersistenceInput(
    bot_data=False, chat_data=False, user_data=False, callback_data=False
)
UPDATE_INTERVAL_SECONDS = 2.0


class SqliteConversationPersistence(
    BasePersistence[dict[Any, Any], dict[Any, Any], dict[str, Any]]
):
    def __init__(self, db: Database, update_interval: float = UPDATE_INTERVAL_SECONDS) -> None:
        super().__init__(store_data=_NOTHING_ELSE, update_interval=update_interval)
        self._db = db

    async def get_conversations(self, name: str) -> ConversationDict:
        # PTB asks for conversations while initialising, before post_init runs.
        await self._db.open()
        stored = await load_conversations(self._db.reader, name)
        return {tuple(json.loads(key)): json.loads(state) for key, state in stored.items()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        async with self._db.transaction() as conn:
            await store_conversation(conn, name, json.dumps(list(key)), new_state)

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[str, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        pass

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        pass

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        pass

    async def update_callback_data(self, data: Any) -> None:
        pass

    async def drop_chat_data(self, chat_id: int) -> None:
        pass

    async def drop_user_data(self, user_id: int) -> None:
        pass

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        pass

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        pass

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        pass

    async def flush(self) -> None:
        pass  # every update_conversation is committed as it happens
