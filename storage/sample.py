"""SQL for the marks on the bundled sample data, and for removing it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True)
class SampleRows:
    incidents: int
    figures: int


@dataclass(frozen=True)
class RemovedSample:
    incidents: int
    figures: int
    messages: int


async def mark_sample(
    conn: aiosqlite.Connection, external_ids: Sequence[str], figure_ids: Sequence[int]
) -> None:
    await conn.executemany(
        "UPDATE incidents SET sample = 1 WHERE external_id = ?", [(e,) for e in external_ids]
    )
    await conn.executemany(
        "UPDATE troop_figures SET sample = 1 WHERE id = ?", [(i,) for i in figure_ids]
    )


async def count_sample(conn: aiosqlite.Connection) -> SampleRows:
    async with conn.execute(
        "SELECT (SELECT count(*) FROM incidents WHERE sample = 1), "
        "(SELECT count(*) FROM troop_figures WHERE sample = 1)"
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return SampleRows(incidents=row[0], figures=row[1])


async def delete_sample(conn: aiosqlite.Connection) -> RemovedSample:
    """Delete the sample rows and the messages queued or sent about them (call in a transaction).

    Sources, versions and channel posts of the incidents go with them (ON DELETE CASCADE).
    """
    sample_ids = "SELECT id FROM incidents WHERE sample = 1"
    messages = await conn.execute(f"DELETE FROM outbox WHERE incident_id IN ({sample_ids})")
    await conn.execute(f"UPDATE drafts SET incident_id = NULL WHERE incident_id IN ({sample_ids})")
    # A correction of a sample incident that no one approved yet goes with it.
    await conn.execute(f"DELETE FROM drafts WHERE changes_incident IN ({sample_ids})")
    incidents = await conn.execute("DELETE FROM incidents WHERE sample = 1")
    figures = await conn.execute("DELETE FROM troop_figures WHERE sample = 1")
    return RemovedSample(
        incidents=incidents.rowcount, figures=figures.rowcount, messages=messages.rowcount
    )
