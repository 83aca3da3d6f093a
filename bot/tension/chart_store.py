"""Charts of the tension index, drawn once per data revision and reused.

A chart is stored under a key naming what it shows and the incidents revision
it was drawn from; after its first upload Telegram's file id is kept, so later
sends of the same picture upload nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import aiosqlite
from telegram import Message

from bot.clock import Clock
from bot.render.drawing import draw_png
from bot.tension.charts import tension_chart
from bot.tension.index import RegionTension, TensionIndex
from storage import charts as store
from storage.db import Database

KEEP_CHARTS = timedelta(days=2)


class TensionCharts:
    def __init__(self, db: Database, clock: Clock, index: TensionIndex) -> None:
        self._db = db
        self._clock = clock
        self._index = index

    async def chart(self, regions: Sequence[RegionTension], days: int) -> store.StoredChart:
        revision = await self._index.revision()
        names = "|".join(region.name for region in regions)
        today = regions[0].today.isoformat() if regions else ""
        key = f"tension:{revision}:{today}:{days}:{names}"
        stored = await store.get_chart(self._db.reader, key)
        if stored is not None:
            return stored
        title = f"Tension index, last {days} days"
        png = await draw_png(tension_chart, regions, title, self._index.settings.level_ratios)
        now = self._clock.now()
        async with self._db.transaction() as conn:
            await store.store_chart(conn, key, png, now)
            await store.forget_charts_before(conn, now - KEEP_CHARTS)
        return store.StoredChart(key=key, png=png, file_id=None)

    async def remember_upload(self, key: str, sent: Message) -> None:
        async with self._db.transaction() as conn:
            await keep_upload(conn, key, sent)


async def keep_upload(conn: aiosqlite.Connection, key: str, sent: Message) -> None:
    """Chart `key` was just uploaded as `sent`: keep Telegram's file id for later sends."""
    if sent.photo:
        await store.remember_file_id(conn, key, sent.photo[-1].file_id)
