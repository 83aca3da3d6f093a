"""SQL for the outbox: every message to subscribers, from enqueued to settled.

A row moves pending → sending (claimed) → sent | failed | dropped, or back to
pending with a later not_before when a send is to be retried. Its dedupe_key
makes each (subscriber, item) pair enqueue at most once. A row with an after_id
(a digest's chart names its digest) is not claimed while that row is unsettled, so
the two arrive in order however often the first is retried.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import aiosqlite

from bot.models import Direction, OutboxItem, OutboxKind, OutboxStatus, OutgoingMessage
from storage.codec import from_db_time, from_db_time_or_none, to_db_time
from storage.subscribers import DIRECTION_BIT, distance_km_sql

_COLUMNS = (
    "id, chat_id, kind, dedupe_key, incident_id, payload, priority, status, not_before, "
    "attempts, last_error"
)
URGENT_PRIORITY = 1
ALERT_PRIORITY = 3
DIGEST_PRIORITY = 5
# Why a group's message was not sent after it became a supergroup.
MOVED_DUPLICATE = "the supergroup it became has the same message"
# The last_error of a row waiting for its chat's quiet hours to end: such a row is decided
# afresh when it is released, since its chat's choices or its incident may have changed.
HELD_FOR_QUIET_HOURS = "held for quiet hours"

# Pending, and not waiting for an earlier row that is still to be sent.
_READY = (
    "outbox.status = 'pending' AND (outbox.after_id IS NULL OR NOT EXISTS (SELECT 1 FROM "
    "outbox AS earlier WHERE earlier.id = outbox.after_id "
    "AND earlier.status IN ('pending', 'sending')))"
)

# Every match needs the subscriber active, wanting alerts this severe and of this direction:
# tested on the copies the place tables keep of the subscriber's choices (migration 0022),
# so that each part below is one range of a covering index.
_WANTS = "active = 1 AND min_severity <= :severity AND alert_directions & :direction"
# From the incident to a site, in km.
_DISTANCE_KM = distance_km_sql(":latitude", ":longitude", "latitude", "longitude")
# The chats an alert goes to, each found through an index rather than by testing every
# subscriber's choices in turn: those following the incident's country (a region covers
# its countries), its province, its site by name, a site whose area holds it (the box
# first, then the distance, unless the box is the area — a sea area; a site of that name
# was matched already), and everyone who chose everywhere (migration 0025). A chat found
# more than once counts once. :direction is the direction's bit (storage.subscribers.DIRECTION_BIT).
_MATCHING_CHATS = (
    f"SELECT chat_id FROM subscriber_countries WHERE country = :country AND {_WANTS} "
    "UNION ALL "
    "SELECT chat_id FROM subscriber_provinces "
    f"WHERE country = :country AND admin1 = :admin1 AND {_WANTS} "
    "UNION ALL "
    f"SELECT chat_id FROM subscriber_sites WHERE site = :site AND {_WANTS} "
    "UNION ALL "
    "SELECT chat_id FROM subscriber_sites "
    "WHERE :latitude IS NOT NULL AND south <= :latitude AND north >= :latitude "
    "AND west <= :longitude AND east >= :longitude AND site <> :site "
    f"AND (whole_box = 1 OR {_DISTANCE_KM} <= radius_km) AND {_WANTS} "
    "UNION ALL "
    f"SELECT chat_id FROM subscribers WHERE everywhere = 1 AND {_WANTS}"
)

# Each chat once, in chat id order.
_DISTINCT_CHATS = f"SELECT DISTINCT chat_id FROM ({_MATCHING_CHATS}) ORDER BY chat_id"
# Whether one chat is among them.
_CHAT_MATCHES = f"SELECT EXISTS (SELECT 1 FROM ({_MATCHING_CHATS}) WHERE chat_id = :chat)"


@dataclass(frozen=True)
class AlertPlace:
    """Where an incident happened, as alerts are matched on it: the site is the
    gazetteer's name for its location when it has one, and its coordinates those of the
    incident (or of that site when the incident has none)."""

    country: str
    admin1: str = ""
    site: str = ""
    latitude: float | None = None
    longitude: float | None = None


async def enqueue_alerts(
    conn: aiosqlite.Connection,
    incident_id: int,
    place: AlertPlace,
    severity: int,
    direction: Direction,
    now: datetime,
) -> int:
    """One alert per matching subscriber, in one statement; returns how many were added.

    Alerts carry no text: the card is rendered when sent, so it shows the incident
    as it is then, in the subscriber's timezone.
    """
    # In chat id order: the outbox's indexes on the chat (and its dedupe key) then grow at
    # one end instead of at tens of thousands of places — a third less time at 40,000 rows.
    cursor = await conn.execute(
        "INSERT INTO outbox (chat_id, kind, dedupe_key, incident_id, priority, not_before, "
        "created_at) "
        "SELECT chat_id, 'alert', 'alert:' || :incident || ':' || chat_id, :incident, "
        f":priority, :now, :now FROM ({_DISTINCT_CHATS}) WHERE true "
        "ON CONFLICT (dedupe_key) DO NOTHING",
        {
            **_match_params(place, severity, direction),
            "incident": incident_id,
            "priority": URGENT_PRIORITY if severity == 5 else ALERT_PRIORITY,
            "now": to_db_time(now),
        },
    )
    return cursor.rowcount


async def matching_subscribers(
    conn: aiosqlite.Connection,
    place: AlertPlace | str,
    severity: int,
    direction: Direction = Direction.ON_COALITION,
) -> list[int]:
    """The chats an alert about an incident at `place` (or in that country) goes to."""
    where = AlertPlace(place) if isinstance(place, str) else place
    params = _match_params(where, severity, direction)
    async with conn.execute(_DISTINCT_CHATS, params) as cursor:
        cursor.row_factory = None  # tens of thousands of rows: plain tuples, not Row objects
        return [chat_id for (chat_id,) in await cursor.fetchall()]


async def chat_matches(
    conn: aiosqlite.Connection,
    chat_id: int,
    place: AlertPlace,
    severity: int,
    direction: Direction,
) -> bool:
    """Whether an alert about an incident at `place` goes to this chat, by the same rules
    as matching_subscribers."""
    params = {**_match_params(place, severity, direction), "chat": chat_id}
    async with conn.execute(_CHAT_MATCHES, params) as cursor:
        row = await cursor.fetchone()
    return bool(row and row[0])


def _match_params(place: AlertPlace, severity: int, direction: Direction) -> dict[str, object]:
    return {
        "country": place.country,
        "admin1": place.admin1,
        "site": place.site,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "severity": severity,
        "direction": DIRECTION_BIT[direction],
    }


async def enqueue_corrections(
    conn: aiosqlite.Connection,
    incident_id: int,
    version: int,
    message: OutgoingMessage,
    now: datetime,
) -> int:
    """A correction to everyone an alert about the incident went (or may have gone) to.

    Alerts still pending are rendered when sent, so they need no correction.
    """
    cursor = await conn.execute(
        "INSERT INTO outbox (chat_id, kind, dedupe_key, incident_id, payload, priority, "
        "not_before, created_at) "
        "SELECT DISTINCT chat_id, 'correction', "
        "'correction:' || :incident || ':' || :version || ':' || chat_id, :incident, :payload, "
        ":priority, :now, :now FROM outbox WHERE incident_id = :incident AND kind = 'alert' "
        "AND status IN ('sent', 'sending') ON CONFLICT (dedupe_key) DO NOTHING",
        {
            "incident": incident_id,
            "version": version,
            "payload": message.model_dump_json(),
            "priority": ALERT_PRIORITY,
            "now": to_db_time(now),
        },
    )
    return cursor.rowcount


async def enqueue_message(
    conn: aiosqlite.Connection,
    *,
    chat_id: int,
    kind: OutboxKind,
    dedupe_key: str,
    message: OutgoingMessage,
    now: datetime,
    priority: int = DIGEST_PRIORITY,
    status: OutboxStatus = OutboxStatus.PENDING,
    note: str | None = None,
    not_before: datetime | None = None,
    after_id: int | None = None,
) -> int | None:
    """Add one message, due at `not_before` (now if not given) and not before row
    `after_id` is settled; its id, or None if one with the same dedupe_key exists."""
    cursor = await conn.execute(
        "INSERT INTO outbox (chat_id, kind, dedupe_key, payload, priority, status, not_before, "
        "last_error, created_at, settled_at, after_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (dedupe_key) DO NOTHING",
        (
            chat_id,
            kind.value,
            dedupe_key,
            message.model_dump_json(),
            priority,
            status.value,
            to_db_time(not_before or now),
            note,
            to_db_time(now),
            None if status is OutboxStatus.PENDING else to_db_time(now),
            after_id,
        ),
    )
    return cursor.lastrowid if cursor.rowcount == 1 else None


async def enqueue_payloads(
    conn: aiosqlite.Connection,
    kind: OutboxKind,
    messages: Sequence[tuple[int, str, str, str | None]],
    now: datetime,
    *,
    status: OutboxStatus = OutboxStatus.PENDING,
    note: str | None = None,
) -> int:
    """Add many digest-priority messages in one statement: (chat id, dedupe key,
    OutgoingMessage as JSON, dedupe key of the row it must follow or None) each, all
    alike otherwise. Returns how many were added (a known dedupe key adds none).

    Messages many chats share are serialised once by the caller, not once a row.
    """
    created = to_db_time(now)
    settled = None if status is OutboxStatus.PENDING else created
    cursor = await conn.executemany(
        "INSERT INTO outbox (chat_id, kind, dedupe_key, payload, priority, status, not_before, "
        "last_error, created_at, settled_at, after_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "(SELECT id FROM outbox WHERE dedupe_key = ?)) ON CONFLICT (dedupe_key) DO NOTHING",
        [
            (chat_id, kind.value, key, payload, DIGEST_PRIORITY, status.value, created, note,
             created, settled, after)
            for chat_id, key, payload, after in messages
        ],
    )  # fmt: skip
    return cursor.rowcount


class Claimed(NamedTuple):
    """A claimed row with what sending it needs, read in the claim itself.

    `incident_version` (the incident's updated_at), with the subscriber's timezone,
    names the rendering an alert shares with every other recipient of the same
    variant; the subscriber columns are None when the chat has unsubscribed.
    """

    id: int
    chat_id: int
    kind: str
    priority: int
    attempts: int
    payload: str | None
    incident_id: int | None
    incident_version: str | None
    incident_status: str | None
    severity: int | None
    active: int | None
    timezone: str | None
    quiet_start: str | None
    quiet_end: str | None
    held: int  # 1 if it waited for quiet hours (see HELD_FOR_QUIET_HOURS)


_CLAIM = (
    "SELECT outbox.id, outbox.chat_id, outbox.kind, outbox.priority, outbox.attempts, "
    "outbox.payload, outbox.incident_id, "
    "i.updated_at, i.status, i.severity, s.active, s.timezone, s.quiet_start, s.quiet_end, "
    f"coalesce(outbox.last_error = '{HELD_FOR_QUIET_HOURS}', 0) "
    "FROM outbox LEFT JOIN subscribers s ON s.chat_id = outbox.chat_id "
    "LEFT JOIN incidents i ON i.id = outbox.incident_id "
    f"WHERE {_READY} AND outbox.not_before <= ? "
    "ORDER BY outbox.priority, outbox.not_before, outbox.id LIMIT ?"
)


async def claim_due(conn: aiosqlite.Connection, now: datetime, limit: int) -> list[Claimed]:
    """Mark up to `limit` due rows as being sent and return them, most urgent first.

    Call inside a transaction: the rows are read and marked in it, as plain tuples.
    """
    async with conn.execute(_CLAIM, (to_db_time(now), limit)) as cursor:
        cursor.row_factory = None
        rows = [Claimed._make(row) for row in await cursor.fetchall()]
    if rows:
        await conn.execute(
            "UPDATE outbox SET status = 'sending' WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps([row.id for row in rows]),),
        )
    return rows


async def next_due_at(conn: aiosqlite.Connection) -> datetime | None:
    async with conn.execute(f"SELECT min(not_before) FROM outbox WHERE {_READY}") as cursor:
        row = await cursor.fetchone()
    return from_db_time_or_none(row[0] if row else None)


async def mark_sent(
    conn: aiosqlite.Connection, sent: Sequence[tuple[int, int | None]], now: datetime
) -> None:
    """Record many sends at once: (row id, Telegram's message id) each."""
    settled_at = to_db_time(now)
    await conn.executemany(
        "UPDATE outbox SET status = 'sent', message_id = ?, attempts = attempts + 1, "
        "settled_at = ? WHERE id = ?",
        [(message_id, settled_at, item_id) for item_id, message_id in sent],
    )


async def retry_later(
    conn: aiosqlite.Connection,
    item_id: int,
    not_before: datetime,
    error: str | None,
    *,
    counts_as_attempt: bool,
) -> None:
    """Back to pending until `not_before`; a rate limit or quiet hours is not an attempt."""
    await conn.execute(
        "UPDATE outbox SET status = 'pending', not_before = ?, last_error = ?, "
        "attempts = attempts + ? WHERE id = ?",
        (to_db_time(not_before), error, int(counts_as_attempt), item_id),
    )


async def release_held(
    conn: aiosqlite.Connection,
    now: datetime,
    *,
    chat_id: int | None = None,
    incident_id: int | None = None,
) -> int:
    """Make the rows held for quiet hours of a chat, or about an incident, due now, so
    that they are decided again on what is true now; returns how many."""
    assert (chat_id is None) != (incident_id is None), "one chat or one incident"
    column, value = ("chat_id", chat_id) if chat_id is not None else ("incident_id", incident_id)
    cursor = await conn.execute(
        f"UPDATE outbox SET not_before = ? WHERE {column} = ? AND status = 'pending' "
        "AND last_error = ? AND not_before > ?",
        (to_db_time(now), value, HELD_FOR_QUIET_HOURS, to_db_time(now)),
    )
    return cursor.rowcount


async def settle(
    conn: aiosqlite.Connection, item_id: int, status: OutboxStatus, reason: str, now: datetime
) -> None:
    """End a row without sending it: 'failed' (Telegram refused) or 'dropped' (moot)."""
    await conn.execute(
        "UPDATE outbox SET status = ?, last_error = ?, attempts = attempts + ?, "
        "settled_at = ? WHERE id = ?",
        (status.value, reason, int(status is OutboxStatus.FAILED), to_db_time(now), item_id),
    )


async def drop_pending_for_chat(
    conn: aiosqlite.Connection, chat_id: int, reason: str, now: datetime
) -> int:
    cursor = await conn.execute(
        "UPDATE outbox SET status = 'dropped', last_error = ?, settled_at = ? "
        "WHERE chat_id = ? AND status = 'pending'",
        (reason, to_db_time(now), chat_id),
    )
    return cursor.rowcount


async def move_chat_items(
    conn: aiosqlite.Connection, old_chat_id: int, new_chat_id: int, now: datetime
) -> int:
    """A group became a supergroup: its messages, sent ones included, move to the new id,
    so that corrections reach the chat every alert went to. Returns how many moved.

    Each dedupe key names its chat (`alert:17:-400…`), and is rewritten to name the new
    one; a message the supergroup has a row for already stays behind (UPDATE OR IGNORE
    skips exactly the rows whose new key is taken) and, if still to be sent, is dropped,
    so the supergroup gets each item once.
    """
    old, new = f":{old_chat_id}:", f":{new_chat_id}:"
    cursor = await conn.execute(
        "UPDATE OR IGNORE outbox SET chat_id = :new_chat, "
        # Keys end in the chat id or have it between colons (digest:-400…:2025-01-16T…).
        "dedupe_key = rtrim(replace(dedupe_key || ':', :old, :new), ':') "
        "WHERE chat_id = :old_chat",
        {"old": old, "new": new, "old_chat": old_chat_id, "new_chat": new_chat_id},
    )
    moved = cursor.rowcount
    await conn.execute(
        "UPDATE outbox SET status = 'dropped', last_error = ?, settled_at = ? "
        "WHERE chat_id = ? AND status IN ('pending', 'sending')",
        (MOVED_DUPLICATE, to_db_time(now), old_chat_id),
    )
    return moved


async def release_in_flight(conn: aiosqlite.Connection) -> int:
    """After a crash: rows claimed but never settled go back to pending; returns how many.

    Among these are the only messages that may reach someone twice: those sent
    but not yet recorded (see the delivery engine for how many that can be).
    """
    cursor = await conn.execute("UPDATE outbox SET status = 'pending' WHERE status = 'sending'")
    return cursor.rowcount


async def depth(conn: aiosqlite.Connection) -> int:
    async with conn.execute(
        "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def depth_by_kind(conn: aiosqlite.Connection) -> dict[str, int]:
    """Messages waiting or being sent, by kind; kinds with none are left out."""
    async with conn.execute(
        "SELECT kind, count(*) FROM outbox WHERE status IN ('pending', 'sending') GROUP BY kind"
    ) as cursor:
        return {kind: count for kind, count in await cursor.fetchall()}


# What settled_since counts a digest's chart as, beside the outbox kinds.
DIGEST_CHART = "digest chart"


@dataclass(frozen=True)
class DeliveryCounts:
    sent: dict[str, int]  # by outbox kind, and DIGEST_CHART
    failures: dict[str, int]  # reason → count
    dropped: dict[str, int]


async def settled_since(conn: aiosqlite.Connection, since: datetime) -> DeliveryCounts:
    sent: dict[str, int] = {}
    failures: dict[str, int] = {}
    dropped: dict[str, int] = {}
    # A digest's chart is a message of its own, after its digest (after_id): counted as
    # DIGEST_CHART, so that one digest with its chart is one digest.
    async with conn.execute(
        f"SELECT CASE WHEN kind = 'digest' AND after_id IS NOT NULL THEN '{DIGEST_CHART}' "
        "ELSE kind END, status, coalesce(last_error, ''), count(*) FROM outbox "
        "WHERE settled_at >= ? GROUP BY 1, 2, 3",
        (to_db_time(since),),
    ) as cursor:
        async for kind, status, reason, count in cursor:
            settled = OutboxStatus(status)
            if settled is OutboxStatus.SENT:
                sent[kind] = sent.get(kind, 0) + count
            elif settled is OutboxStatus.FAILED:
                failures[reason] = failures.get(reason, 0) + count
            elif settled is OutboxStatus.DROPPED:
                dropped[reason] = dropped.get(reason, 0) + count
    return DeliveryCounts(sent=sent, failures=failures, dropped=dropped)


async def items_for(conn: aiosqlite.Connection, chat_ids: Sequence[int]) -> list[OutboxItem]:
    """Every row for these chats, oldest first (for tests and support)."""
    marks = ", ".join("?" * len(chat_ids))
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM outbox WHERE chat_id IN ({marks}) ORDER BY id", list(chat_ids)
    ) as cursor:
        return [_item_from_row(row) for row in await cursor.fetchall()]


def _item_from_row(row: aiosqlite.Row) -> OutboxItem:
    payload = row["payload"]
    return OutboxItem(
        id=row["id"],
        chat_id=row["chat_id"],
        kind=row["kind"],
        dedupe_key=row["dedupe_key"],
        incident_id=row["incident_id"],
        payload=OutgoingMessage.model_validate_json(payload) if payload else None,
        priority=row["priority"],
        status=row["status"],
        not_before=from_db_time(row["not_before"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
    )
