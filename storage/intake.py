"""SQL for the intake: feeds, the items they delivered, proposals and who gets them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.intake.records import Feed, Proposal, ProposalStatus, SkippedItem
from storage.codec import from_db_time, from_db_time_or_none, to_db_time

_FEED_COLUMNS = (
    "f.id, f.url, f.from_config, f.title, f.etag, f.last_modified, f.last_fetch_at, "
    "f.last_new_item_at, f.last_error, f.failures, f.next_fetch_at"
)
_FEED_COUNTS = (
    "(SELECT count(*) FROM feed_items i WHERE i.feed_id = f.id AND i.outcome = 'proposed') "
    "AS proposed, "
    "(SELECT count(*) FROM feed_items i WHERE i.feed_id = f.id AND i.outcome = 'skipped') "
    "AS skipped"
)
_PROPOSAL_COLUMNS = (
    "id, feed_id, link, fields, notes, occurred_at, country, admin1, location, update_of, "
    "update_of_proposal, status, decided_by, decided_at, created_at"
)


# Feeds


async def add_feed(
    conn: aiosqlite.Connection,
    url: str,
    *,
    added_by: int | None,
    from_config: bool,
    now: datetime,
) -> int | None:
    """Add a feed, due at once; None if that URL is already read."""
    cursor = await conn.execute(
        "INSERT INTO feeds (url, from_config, added_by, added_at, next_fetch_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (url) DO NOTHING",
        (url, int(from_config), added_by, to_db_time(now), to_db_time(now)),
    )
    return cursor.lastrowid if cursor.rowcount == 1 else None


async def remove_feed(conn: aiosqlite.Connection, feed_id: int) -> bool:
    cursor = await conn.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))
    return cursor.rowcount == 1


async def list_feeds(conn: aiosqlite.Connection) -> list[Feed]:
    async with conn.execute(
        f"SELECT {_FEED_COLUMNS}, {_FEED_COUNTS} FROM feeds f ORDER BY f.id"
    ) as cursor:
        return [_feed_from_row(row) for row in await cursor.fetchall()]


async def get_feed(conn: aiosqlite.Connection, feed_id: int) -> Feed | None:
    async with conn.execute(
        f"SELECT {_FEED_COLUMNS}, {_FEED_COUNTS} FROM feeds f WHERE f.id = ?", (feed_id,)
    ) as cursor:
        row = await cursor.fetchone()
    return _feed_from_row(row) if row else None


async def due_feeds(conn: aiosqlite.Connection, now: datetime) -> list[Feed]:
    async with conn.execute(
        f"SELECT {_FEED_COLUMNS}, 0 AS proposed, 0 AS skipped FROM feeds f "
        "WHERE f.next_fetch_at <= ? ORDER BY f.id",
        (to_db_time(now),),
    ) as cursor:
        return [_feed_from_row(row) for row in await cursor.fetchall()]


async def record_fetch_success(
    conn: aiosqlite.Connection,
    feed_id: int,
    *,
    title: str | None,
    etag: str | None,
    last_modified: str | None,
    new_items: bool,
    now: datetime,
    next_fetch_at: datetime,
) -> None:
    """A fetch worked (or the feed had not changed): clear the error and the back-off."""
    stamp = to_db_time(now)
    await conn.execute(
        "UPDATE feeds SET title = coalesce(?, title), etag = ?, last_modified = ?, "
        "last_fetch_at = ?, last_error = NULL, failures = 0, next_fetch_at = ?, "
        "last_new_item_at = CASE WHEN ? THEN ? ELSE last_new_item_at END WHERE id = ?",
        (title, etag, last_modified, stamp, to_db_time(next_fetch_at), int(new_items), stamp,
         feed_id),
    )  # fmt: skip


async def record_fetch_failure(
    conn: aiosqlite.Connection,
    feed_id: int,
    *,
    error: str,
    now: datetime,
    next_fetch_at: datetime,
) -> None:
    await conn.execute(
        "UPDATE feeds SET last_fetch_at = ?, last_error = ?, failures = failures + 1, "
        "next_fetch_at = ? WHERE id = ?",
        (to_db_time(now), error, to_db_time(next_fetch_at), feed_id),
    )


# Items


async def seen_keys(
    conn: aiosqlite.Connection, feed_id: int, keys: Sequence[str]
) -> frozenset[str]:
    """Which of `keys` this feed has delivered before."""
    if not keys:
        return frozenset()
    placeholders = ", ".join("?" * len(keys))
    async with conn.execute(
        f"SELECT item_key FROM feed_items WHERE feed_id = ? AND item_key IN ({placeholders})",
        (feed_id, *keys),
    ) as cursor:
        return frozenset(row[0] for row in await cursor.fetchall())


@dataclass(frozen=True)
class ItemRecord:
    key: str
    title: str
    link: str | None
    published_at: datetime | None
    reason: str  # why it was skipped; "" when proposed


async def remember_item(
    conn: aiosqlite.Connection, feed_id: int, item: ItemRecord, now: datetime
) -> bool:
    """Remember an item once; False if it was already remembered."""
    cursor = await conn.execute(
        "INSERT INTO feed_items (feed_id, item_key, title, link, published_at, seen_at, "
        "outcome, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (feed_id, item_key) DO NOTHING",
        (
            feed_id,
            item.key,
            item.title,
            item.link,
            to_db_time(item.published_at) if item.published_at else None,
            to_db_time(now),
            "skipped" if item.reason else "proposed",
            item.reason,
        ),
    )
    return cursor.rowcount == 1


async def skipped_items(conn: aiosqlite.Connection, feed_id: int, limit: int) -> list[SkippedItem]:
    async with conn.execute(
        "SELECT title, link, seen_at, reason FROM feed_items "
        "WHERE feed_id = ? AND outcome = 'skipped' ORDER BY seen_at DESC, item_key LIMIT ?",
        (feed_id, limit),
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        SkippedItem(
            title=row["title"],
            link=row["link"],
            seen_at=from_db_time(row["seen_at"]),
            reason=row["reason"],
        )
        for row in rows
    ]


# Proposals


@dataclass(frozen=True)
class NewProposal:
    feed_id: int
    link: str | None
    fields: dict[str, list[str]]
    notes: Sequence[str]
    occurred_at: datetime
    country: str
    admin1: str
    location: str
    update_of: int | None
    update_of_proposal: int | None


async def insert_proposal(conn: aiosqlite.Connection, proposal: NewProposal, now: datetime) -> int:
    cursor = await conn.execute(
        "INSERT INTO proposals (feed_id, link, fields, notes, occurred_at, country, admin1, "
        "location, update_of, update_of_proposal, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            proposal.feed_id,
            proposal.link,
            json.dumps(proposal.fields),
            json.dumps(list(proposal.notes)),
            to_db_time(proposal.occurred_at),
            proposal.country,
            proposal.admin1,
            proposal.location,
            proposal.update_of,
            proposal.update_of_proposal,
            to_db_time(now),
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def get_proposal(conn: aiosqlite.Connection, proposal_id: int) -> Proposal | None:
    async with conn.execute(
        f"SELECT {_PROPOSAL_COLUMNS} FROM proposals WHERE id = ?", (proposal_id,)
    ) as cursor:
        row = await cursor.fetchone()
    return _proposal_from_row(row) if row else None


async def pending_proposals(conn: aiosqlite.Connection) -> list[Proposal]:
    """Proposals nobody has decided yet, oldest first."""
    async with conn.execute(
        f"SELECT {_PROPOSAL_COLUMNS} FROM proposals WHERE status = 'pending' ORDER BY id"
    ) as cursor:
        return [_proposal_from_row(row) for row in await cursor.fetchall()]


async def decide_proposal(
    conn: aiosqlite.Connection,
    proposal_id: int,
    status: ProposalStatus,
    actor_id: int,
    now: datetime,
) -> bool:
    """Close a pending proposal; False if someone decided it first."""
    cursor = await conn.execute(
        "UPDATE proposals SET status = ?, decided_by = ?, decided_at = ? "
        "WHERE id = ? AND status = 'pending'",
        (status.value, actor_id, to_db_time(now), proposal_id),
    )
    return cursor.rowcount == 1


@dataclass(frozen=True)
class Nearness:
    """What makes a report possibly of the same attack: its link, or its site or
    province within `window` of its time."""

    link: str | None
    country: str
    admin1: str
    location: str
    around: datetime
    window: timedelta

    def parameters(self) -> tuple[object, ...]:
        return (
            self.link,
            self.link,
            self.country,
            self.location,
            self.admin1,
            to_db_time(self.around - self.window),
            to_db_time(self.around + self.window),
        )


async def pending_proposal_near(conn: aiosqlite.Connection, near: Nearness) -> int | None:
    """A pending proposal with the same link, or at the same site or province near in time."""
    async with conn.execute(
        "SELECT id FROM proposals WHERE status = 'pending' AND ("
        " (? IS NOT NULL AND link = ?)"
        " OR (country = ? AND (location = ? COLLATE NOCASE OR (admin1 != '' AND admin1 = ?))"
        "     AND occurred_at BETWEEN ? AND ?)"
        ") ORDER BY id LIMIT 1",
        near.parameters(),
    ) as cursor:  # fmt: skip
        row = await cursor.fetchone()
    return int(row[0]) if row else None


async def published_incident_near(conn: aiosqlite.Connection, near: Nearness) -> int | None:
    """A published incident with the same link as a source, or at the same site or province
    near in time; the most recent such."""
    async with conn.execute(
        "SELECT id FROM incidents WHERE status = 'published' AND ("
        " (? IS NOT NULL AND id IN (SELECT incident_id FROM incident_sources WHERE url = ?))"
        " OR (country = ? AND (location = ? COLLATE NOCASE OR (admin1 != '' AND admin1 = ?))"
        "     AND occurred_at BETWEEN ? AND ?)"
        ") ORDER BY occurred_at DESC LIMIT 1",
        near.parameters(),
    ) as cursor:  # fmt: skip
        row = await cursor.fetchone()
    return int(row[0]) if row else None


async def remember_proposal_message(
    conn: aiosqlite.Connection, proposal_id: int, chat_id: int, message_id: int
) -> None:
    await conn.execute(
        "INSERT OR REPLACE INTO proposal_messages (proposal_id, chat_id, message_id) "
        "VALUES (?, ?, ?)",
        (proposal_id, chat_id, message_id),
    )


async def proposal_messages(conn: aiosqlite.Connection, proposal_id: int) -> list[tuple[int, int]]:
    """(chat id, message id) of every copy of a proposal sent to an admin."""
    async with conn.execute(
        "SELECT chat_id, message_id FROM proposal_messages WHERE proposal_id = ?",
        (proposal_id,),
    ) as cursor:
        return [(int(row[0]), int(row[1])) for row in await cursor.fetchall()]


# Who receives proposals


async def set_queue_opt_out(
    conn: aiosqlite.Connection, user_id: int, opted_out: bool, now: datetime
) -> None:
    if opted_out:
        await conn.execute(
            "INSERT OR IGNORE INTO queue_opt_outs (user_id, at) VALUES (?, ?)",
            (user_id, to_db_time(now)),
        )
    else:
        await conn.execute("DELETE FROM queue_opt_outs WHERE user_id = ?", (user_id,))


async def queue_opt_outs(conn: aiosqlite.Connection) -> frozenset[int]:
    async with conn.execute("SELECT user_id FROM queue_opt_outs") as cursor:
        return frozenset(int(row[0]) for row in await cursor.fetchall())


def _feed_from_row(row: aiosqlite.Row) -> Feed:
    return Feed(
        id=row["id"],
        url=row["url"],
        from_config=bool(row["from_config"]),
        title=row["title"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_fetch_at=from_db_time_or_none(row["last_fetch_at"]),
        last_new_item_at=from_db_time_or_none(row["last_new_item_at"]),
        last_error=row["last_error"],
        failures=row["failures"],
        next_fetch_at=from_db_time(row["next_fetch_at"]),
        proposed=row["proposed"],
        skipped=row["skipped"],
    )


def _proposal_from_row(row: aiosqlite.Row) -> Proposal:
    return Proposal(
        id=row["id"],
        feed_id=row["feed_id"],
        link=row["link"],
        fields=json.loads(row["fields"]),
        notes=json.loads(row["notes"]),
        occurred_at=from_db_time(row["occurred_at"]),
        country=row["country"],
        admin1=row["admin1"],
        location=row["location"],
        update_of=row["update_of"],
        update_of_proposal=row["update_of_proposal"],
        status=row["status"],
        decided_by=row["decided_by"],
        decided_at=from_db_time_or_none(row["decided_at"]),
        created_at=from_db_time(row["created_at"]),
    )
