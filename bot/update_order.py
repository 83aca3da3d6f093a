"""Each chat's updates handled in order, different chats' at the same time.

PTB handles one update at a time unless told otherwise, so a reply waiting for its
chat's pace (or a flood-control pause) would hold up everyone. Handling everything
concurrently instead would break conversations (the guided /post), which want one
person's messages in order. This processor (PTB's BaseUpdateProcessor extension point)
gives each chat a lock: updates of one chat queue behind each other, others go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates in progress or queued behind their chat's lock at once; a flood from one
# chat waits on its lock, cheaply, so this is far above what the bot handles at once.
MAX_CONCURRENT_UPDATES = 1024


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._queued: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _ordering_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._queued[key] = self._queued.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:
                # The last one out forgets the chat, so idle chats cost nothing.
                del self._queued[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up: locks are made as chats appear."""

    async def shutdown(self) -> None:
        """Nothing to release: each lock goes with the last update of its chat."""


def _ordering_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None
