"""SQL for troop figures, which keep their whole history."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.models import Count, Source, TroopFigure, TroopFigureContent, TroopSummary
from storage.codec import from_db_date, to_db_date, to_db_time


async def insert_troop_figure(
    conn: aiosqlite.Connection, draft: TroopFigureContent, now: datetime
) -> int | None:
    """Store a figure; None if that force, host and date already have one."""
    cursor = await conn.execute(
        "INSERT INTO troop_figures (force, host_country, count, qualifier, kind, as_of, "
        "source_name, source_url, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (force, host_country, as_of) DO NOTHING",
        (
            draft.force,
            draft.host_country,
            draft.count.value,
            draft.count.qualifier.value,
            draft.kind.value,
            to_db_date(draft.as_of),
            draft.source.name,
            str(draft.source.url) if draft.source.url else None,
            to_db_time(now),
        ),
    )
    return cursor.lastrowid if cursor.rowcount else None


async def latest_troop_summaries(
    conn: aiosqlite.Connection, host_country: str | None = None
) -> list[TroopSummary]:
    """For each force and host country, the newest figure and the one before it."""
    sql = (
        "SELECT * FROM ("
        "  SELECT *, ROW_NUMBER() OVER ("
        "    PARTITION BY force, host_country ORDER BY as_of DESC, id DESC) AS recency"
        "  FROM troop_figures WHERE (? IS NULL OR host_country = ? COLLATE NOCASE)"
        ") WHERE recency <= 2 ORDER BY host_country, force, recency"
    )
    summaries: list[TroopSummary] = []
    async with conn.execute(sql, (host_country, host_country)) as cursor:
        async for row in cursor:
            figure = _figure_from_row(row)
            if row["recency"] == 1:
                summaries.append(TroopSummary(latest=figure))
            else:
                summaries[-1].previous = figure
    return summaries


async def figures_added_between(
    conn: aiosqlite.Connection, since: datetime, until: datetime
) -> list[TroopFigure]:
    """Figures recorded in (since, until], oldest first."""
    async with conn.execute(
        "SELECT * FROM troop_figures WHERE created_at > ? AND created_at <= ? ORDER BY id",
        (to_db_time(since), to_db_time(until)),
    ) as cursor:
        return [_figure_from_row(row) for row in await cursor.fetchall()]


def _figure_from_row(row: aiosqlite.Row) -> TroopFigure:
    return TroopFigure(
        id=row["id"],
        force=row["force"],
        host_country=row["host_country"],
        count=Count.model_validate({"value": row["count"], "qualifier": row["qualifier"]}),
        kind=row["kind"],
        as_of=from_db_date(row["as_of"]),
        source=Source(name=row["source_name"], url=row["source_url"]),
    )


async def all_troop_figures(conn: aiosqlite.Connection) -> list[TroopFigure]:
    """Every figure, in the order they were stored: what an export carries."""
    async with conn.execute("SELECT * FROM troop_figures ORDER BY id") as cursor:
        return [_figure_from_row(row) for row in await cursor.fetchall()]
