"""Subscribers, publications and outbox waits for the delivery tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from bot.context import IncidentBotApp, delivery_of, services_of
from bot.models import DigestFrequency, Incident, OutboxItem, OutboxKind, Subscription
from bot.sandbox.fake_api import FakeBotApi
from bot.subscriptions.areas import alert_place
from storage.db import Database
from storage.incidents import get_incident, insert_incident
from storage.outbox import depth, enqueue_alerts, items_for
from storage.subscribers import get_subscription, save_subscription
from tests.factories import incident_content


async def subscribe(
    db: Database,
    chat_ids: Iterable[int],
    now: datetime,
    *,
    countries: Iterable[str] = (),
    **choices: Any,
) -> None:
    """Subscribe chats directly in storage (instant alerts from severity 3, no digest).

    No countries means everywhere.
    """
    places = list(countries)
    async with db.transaction() as conn:
        for chat_id in chat_ids:
            fields: dict[str, Any] = {
                "chat_id": chat_id,
                "chat_type": "private",
                "regions": places,
                "digest": DigestFrequency.OFF,
                **choices,
            }
            await save_subscription(conn, Subscription.model_validate(fields), places, now)


async def publish(app: IncidentBotApp, **overrides: Any) -> Incident:
    """Store an incident and queue its alerts in one transaction, as Newsroom.publish
    does, without the draft and the admin round trip; then wake the engine."""
    services = services_of(app)
    now = services.clock.now()
    draft = incident_content(**overrides)
    async with services.db.transaction() as conn:
        incident_id = await insert_incident(conn, draft, now)
        assert incident_id is not None
        await enqueue_alerts(
            conn, incident_id, alert_place(draft), draft.severity, draft.direction, now
        )
    delivery_of(app).wake()
    incident = await get_incident(services.db.reader, incident_id)
    assert incident is not None
    return incident


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 5.0, interval: float = 0.01
) -> None:
    """Wait until `check` holds: for a state to be reached, never to prove an absence."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(interval)


async def settled(app: IncidentBotApp, telegram: FakeBotApi) -> None:
    """The bot has fetched every update the fake holds, finished handling each, and sent
    everything its outbox held: all it was going to say about them has been said.

    For checking that something was *not* said, without waiting out a quiet spell: idle
    must be seen twice, a few turns of the loop apart, because an update taken off the
    queue is handed to its task a turn later.
    """
    processor = app.update_processor
    db = services_of(app).db

    async def idle() -> bool:
        return (
            not telegram.pending_updates
            and app.update_queue.empty()
            and processor.current_concurrent_updates == 0
            and await depth(db.reader) == 0
        )

    async def idle_twice() -> bool:
        if not await idle():
            return False
        await asyncio.sleep(0.05)
        return await idle()

    await eventually(idle_twice, timeout=10)


async def rows_for(db: Database, chat_id: int) -> list[OutboxItem]:
    return await items_for(db.reader, [chat_id])


async def rows_by_kind(db: Database, chat_id: int) -> dict[OutboxKind, OutboxItem]:
    rows = await rows_for(db, chat_id)
    by_kind = {row.kind: row for row in rows}
    assert len(by_kind) == len(rows), rows
    return by_kind


async def row_reaches(
    db: Database,
    chat_id: int,
    check: Callable[[OutboxItem], bool],
    kind: OutboxKind = OutboxKind.ALERT,
) -> OutboxItem:
    """The chat's one row of this kind, once it satisfies `check`."""
    found: list[OutboxItem] = []

    async def reached() -> bool:
        row = (await rows_by_kind(db, chat_id)).get(kind)
        found[:] = [row] if row is not None and check(row) else []
        return bool(found)

    await eventually(reached)
    return found[0]


async def drained(db: Database) -> None:
    """Every queued message has been settled one way or another: the engine is done."""

    async def empty() -> bool:
        return await depth(db.reader) == 0

    await eventually(empty)


async def subscription_of(db: Database, chat_id: int) -> Subscription | None:
    return await get_subscription(db.reader, chat_id)
