"""SQL for bulk import and export: every incident in id order, and status set on import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aiosqlite

from bot.models import Incident, Status
from storage.codec import to_db_time

# Decoding rows lives with the rest of the incident SQL; sharing it keeps an export
# from drifting out of step with what the bot itself reads.
from storage.incidents import _COLUMNS, _with_sources

# Below every rowid SQLite can hand out, so the first batch starts at the beginning.
_BEFORE_FIRST_ID = -(2**63)


async def iter_incidents(
    conn: aiosqlite.Connection, *, since: datetime | None = None, batch_size: int = 500
) -> AsyncIterator[Incident]:
    """Every incident, retracted ones included, in id order; `since` bounds occurred_at.

    Rows are fetched `batch_size` at a time and keyed on id rather than OFFSET, so
    memory stays flat however large the table is, and incidents added meanwhile
    neither repeat nor shift a page.
    """
    where = ["id > ?"]
    filters: list[Any] = []
    if since is not None:
        where.append("occurred_at >= ?")
        filters.append(to_db_time(since))
    sql = f"SELECT {_COLUMNS} FROM incidents WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"
    after = _BEFORE_FIRST_ID
    while True:
        async with conn.execute(sql, [after, *filters, batch_size]) as cursor:
            rows = list(await cursor.fetchall())
        for incident in await _with_sources(conn, rows):
            yield incident
        if len(rows) < batch_size:
            return
        after = rows[-1]["id"]


async def set_status(
    conn: aiosqlite.Connection,
    incident_id: int,
    status: Status,
    retraction_reason: str | None,
    now: datetime,
) -> None:
    """Give a just-imported incident the status and reason it had where it came from."""
    await conn.execute(
        "UPDATE incidents SET status = ?, retraction_reason = ?, updated_at = ? WHERE id = ?",
        (status.value, retraction_reason, to_db_time(now), incident_id),
    )
