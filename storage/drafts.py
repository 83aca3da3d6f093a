"""SQL for drafts waiting to be published."""

from __future__ import annotations

import json
from datetime import datetime

import aiosqlite

from bot.models import Draft, DraftOrigin, DraftPurpose, DraftStatus
from storage.codec import from_db_time, from_db_time_or_none, to_db_time

_COLUMNS = (
    "id, owner_id, origin, fields, status, incident_id, created_at, updated_at, "
    "purpose, changes_incident, from_proposal, previewed_at"
)


async def create_draft(
    conn: aiosqlite.Connection,
    owner_id: int,
    origin: DraftOrigin,
    fields: dict[str, list[str]],
    now: datetime,
    *,
    purpose: DraftPurpose = DraftPurpose.PUBLISH,
    changes_incident: int | None = None,
    from_proposal: int | None = None,
) -> int:
    cursor = await conn.execute(
        "INSERT INTO drafts (owner_id, origin, fields, created_at, updated_at, purpose, "
        "changes_incident, from_proposal) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (owner_id, origin.value, json.dumps(fields), to_db_time(now), to_db_time(now),
         purpose.value, changes_incident, from_proposal),
    )  # fmt: skip
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def get_draft(conn: aiosqlite.Connection, draft_id: int) -> Draft | None:
    async with conn.execute(f"SELECT {_COLUMNS} FROM drafts WHERE id = ?", (draft_id,)) as cur:
        row = await cur.fetchone()
    return _draft_from_row(row) if row else None


async def open_draft_of(
    conn: aiosqlite.Connection, owner_id: int, origin: DraftOrigin
) -> Draft | None:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM drafts WHERE owner_id = ? AND origin = ? AND status = 'open' "
        "ORDER BY id DESC LIMIT 1",
        (owner_id, origin.value),
    ) as cursor:
        row = await cursor.fetchone()
    return _draft_from_row(row) if row else None


async def open_draft_from_proposal(conn: aiosqlite.Connection, proposal_id: int) -> Draft | None:
    """The open correction draft a feed proposal's Apply made, if any."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM drafts WHERE from_proposal = ? AND status = 'open' "
        "ORDER BY id LIMIT 1",
        (proposal_id,),
    ) as cursor:
        row = await cursor.fetchone()
    return _draft_from_row(row) if row else None


async def cancel_drafts_from_proposal(
    conn: aiosqlite.Connection, proposal_id: int, now: datetime
) -> int:
    """Cancel the open correction drafts a feed proposal's Apply made; how many there were."""
    cursor = await conn.execute(
        "UPDATE drafts SET status = 'cancelled', updated_at = ? "
        "WHERE from_proposal = ? AND status = 'open'",
        (to_db_time(now), proposal_id),
    )
    return cursor.rowcount


async def mark_previewed(conn: aiosqlite.Connection, draft_id: int, now: datetime) -> bool:
    """Note that an open draft's preview was shown; False if it was, or it is closed."""
    cursor = await conn.execute(
        "UPDATE drafts SET previewed_at = ?, updated_at = ? "
        "WHERE id = ? AND status = 'open' AND previewed_at IS NULL",
        (to_db_time(now), to_db_time(now), draft_id),
    )
    return cursor.rowcount == 1


async def save_fields(
    conn: aiosqlite.Connection, draft_id: int, fields: dict[str, list[str]], now: datetime
) -> None:
    await conn.execute(
        "UPDATE drafts SET fields = ?, updated_at = ? WHERE id = ? AND status = 'open'",
        (json.dumps(fields), to_db_time(now), draft_id),
    )


async def close_draft(
    conn: aiosqlite.Connection,
    draft_id: int,
    status: DraftStatus,
    now: datetime,
    incident_id: int | None = None,
) -> bool:
    """Close an open draft; False if it was already closed (a second press of Publish)."""
    cursor = await conn.execute(
        "UPDATE drafts SET status = ?, incident_id = ?, updated_at = ? "
        "WHERE id = ? AND status = 'open'",
        (status.value, incident_id, to_db_time(now), draft_id),
    )
    return cursor.rowcount == 1


def _draft_from_row(row: aiosqlite.Row) -> Draft:
    return Draft(
        id=row["id"],
        owner_id=row["owner_id"],
        origin=row["origin"],
        fields=json.loads(row["fields"]),
        status=row["status"],
        incident_id=row["incident_id"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        purpose=row["purpose"],
        changes_incident=row["changes_incident"],
        from_proposal=row["from_proposal"],
        previewed_at=from_db_time_or_none(row["previewed_at"]),
    )


async def add_approval(
    conn: aiosqlite.Connection, draft_id: int, user_id: int, user_name: str, now: datetime
) -> bool:
    """Record one admin's approval of a draft; False if they had approved it already."""
    cursor = await conn.execute(
        "INSERT INTO draft_approvals (draft_id, user_id, user_name, approved_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (draft_id, user_id) DO NOTHING",
        (draft_id, user_id, user_name, to_db_time(now)),
    )
    return cursor.rowcount == 1


async def approvals_of(conn: aiosqlite.Connection, draft_id: int) -> list[tuple[int, str]]:
    """(user id, name) of each admin who approved the draft, first first."""
    async with conn.execute(
        "SELECT user_id, user_name FROM draft_approvals WHERE draft_id = ? ORDER BY approved_at",
        (draft_id,),
    ) as cursor:
        return [(int(row[0]), str(row[1])) for row in await cursor.fetchall()]


async def drafts_with_approvals(conn: aiosqlite.Connection) -> list[tuple[Draft, list[str]]]:
    """Open drafts that some admin has approved, each with the approvers' names, oldest first."""
    async with conn.execute(
        f"SELECT {', '.join('d.' + c for c in _COLUMNS.split(', '))}, "
        "group_concat(a.user_name, '\x1f') AS names, min(a.approved_at) AS first_at "
        "FROM drafts d JOIN draft_approvals a ON a.draft_id = d.id "
        "WHERE d.status = 'open' GROUP BY d.id ORDER BY first_at, d.id"
    ) as cursor:
        rows = await cursor.fetchall()
    return [(_draft_from_row(row), str(row["names"]).split("\x1f")) for row in rows]
