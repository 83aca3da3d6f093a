"""Reading troop figures for /troops."""

from __future__ import annotations

from bot.models import TroopSummary
from storage.db import Database
from storage.troops import latest_troop_summaries


class TroopService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def summaries(self, host_country: str | None = None) -> list[TroopSummary]:
        return await latest_troop_summaries(self._db.reader, host_country)
