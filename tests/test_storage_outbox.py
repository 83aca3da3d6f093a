from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.models import Direction, OutboxKind, OutboxStatus, OutgoingMessage, Subscription
from storage.db import Database
from storage.incidents import insert_incident
from storage.outbox import (
    MOVED_DUPLICATE,
    AlertPlace,
    claim_due,
    enqueue_alerts,
    enqueue_message,
    items_for,
    mark_sent,
    matching_subscribers,
    move_chat_items,
    next_due_at,
    retry_later,
    settle,
)
from storage.subscribers import (
    SiteArea,
    deactivate,
    get_subscription,
    move_chat,
    save_subscription,
)
from tests.factories import incident_content


async def subscribe(db: Database, clock: ManualClock, chat_id: int, regions: list[str],
                    countries: list[str], **fields: object) -> None:  # fmt: skip
    subscription = Subscription.model_validate(
        {"chat_id": chat_id, "chat_type": "private", "regions": regions, **fields}
    )
    async with db.transaction() as conn:
        await save_subscription(conn, subscription, countries, clock.now())


async def test_alerts_match_country_everywhere_and_severity_and_are_enqueued_once(
    db: Database, clock: ManualClock
) -> None:
    await subscribe(db, clock, 1, [], [], min_severity=3)
    await subscribe(db, clock, 2, ["Iraq"], ["Iraq"], min_severity=4)
    await subscribe(db, clock, 3, ["Syria"], ["Syria"], min_severity=1)
    await subscribe(db, clock, 4, ["Iraq"], ["Iraq"], min_severity=1, active=False)
    await subscribe(db, clock, 5, ["Levant"], ["Lebanon", "Jordan"], min_severity=None)
    await subscribe(db, clock, 6, ["Iraq", "Syria"], ["Iraq", "Syria"], min_severity=2)

    assert sorted(await matching_subscribers(db.reader, "Iraq", 4)) == [1, 2, 6]
    assert sorted(await matching_subscribers(db.reader, "iraq", 3)) == [1, 6]
    assert sorted(await matching_subscribers(db.reader, "Syria", 1)) == [3]
    assert await matching_subscribers(db.reader, "Lebanon", 5) == [1]

    async with db.transaction() as conn:
        incident_id = await insert_incident(conn, incident_content(), clock.now())
        assert incident_id is not None
        assert (
            await enqueue_alerts(
                conn, incident_id, AlertPlace("Iraq"), 4, Direction.ON_COALITION, clock.now()
            )
            == 3
        )
        assert (
            await enqueue_alerts(
                conn, incident_id, AlertPlace("Iraq"), 4, Direction.ON_COALITION, clock.now()
            )
            == 0
        )


async def test_the_place_tables_follow_the_subscribers_choices_at_every_level(
    db: Database, clock: ManualClock
) -> None:
    """Matching reads copies of activity, severity and directions kept beside each place
    (migration 0022): changing them on the subscriber changes every place's match."""
    at_base = AlertPlace("Iraq", "Anbar", "Ain al-Asad Air Base", 33.79, 42.44)
    near_base = AlertPlace("Iraq", "Anbar", "Desert road", 33.90, 42.44)  # 12 km north
    base = SiteArea("Ain al-Asad Air Base", 33.7856, 42.4412, 25, watched=False)

    async def follow(chat_id: int, **fields: object) -> None:
        subscription = Subscription.model_validate(
            {"chat_id": chat_id, "chat_type": "private", "regions": ["Anbar"], **fields}
        )
        async with db.transaction() as conn:
            await save_subscription(
                conn, subscription, ["Iraq"], clock.now(),
                provinces=[("Iraq", "Anbar")], sites=[base],
            )  # fmt: skip

    async def matched(place: AlertPlace, severity: int, direction: Direction) -> list[int]:
        return await matching_subscribers(db.reader, place, severity, direction)

    await follow(7, min_severity=3)
    for place in (at_base, near_base, AlertPlace("Iraq")):
        assert await matched(place, 3, Direction.ON_COALITION) == [7]
        assert await matched(place, 2, Direction.ON_COALITION) == []
        assert await matched(place, 5, Direction.BY_COALITION) == []  # strikes are opt-in
    await follow(7, min_severity=2, directions=[Direction.BY_COALITION])
    assert await matched(near_base, 2, Direction.BY_COALITION) == [7]
    assert await matched(at_base, 5, Direction.ON_COALITION) == []

    async with db.transaction() as conn:
        assert await deactivate(conn, 7, "blocked", clock.now())
    for place in (at_base, near_base, AlertPlace("Iraq")):
        assert await matched(place, 5, Direction.BY_COALITION) == []
    await follow(7, min_severity=2, directions=[Direction.BY_COALITION])
    async with db.transaction() as conn:
        await move_chat(conn, 7, -1007)
    assert await matched(near_base, 5, Direction.BY_COALITION) == [-1007]


@pytest.mark.parametrize(
    "text_ends",
    [OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.DROPPED],
)
async def test_a_row_after_another_waits_until_that_one_is_settled(
    db: Database, clock: ManualClock, text_ends: OutboxStatus
) -> None:
    now = clock.now()
    later = now + timedelta(seconds=5)
    async with db.transaction() as conn:

        async def queue(key: str, after_id: int | None = None) -> int | None:
            message = OutgoingMessage(html=key)
            return await enqueue_message(conn, chat_id=7, kind=OutboxKind.DIGEST,
                                         dedupe_key=key, message=message, now=now,
                                         after_id=after_id)  # fmt: skip

        text = await queue("digest")
        assert text is not None
        chart = await queue("digest:chart", after_id=text)
        assert chart is not None and await queue("digest") is None  # enqueued once

        assert [item.id for item in await claim_due(conn, now, 10)] == [text]
        assert await next_due_at(conn) is None  # the chart is not due while the text is out
        await retry_later(conn, text, later, "Bad Gateway", counts_as_attempt=True)
        assert await next_due_at(conn) == later
        assert [item.id for item in await claim_due(conn, later, 10)] == [text]
        if text_ends is OutboxStatus.SENT:
            await mark_sent(conn, [(text, 1)], later)
        else:
            await settle(conn, text, text_ends, "gone", later)
        assert await next_due_at(conn) == now
        assert [item.id for item in await claim_due(conn, later, 10)] == [chart]


async def test_a_group_becoming_a_supergroup_takes_its_messages_but_no_second_copy(
    db: Database, clock: ManualClock
) -> None:
    """Every row moves, sent ones too (corrections follow them), its key naming the new
    id; what the supergroup has already stays behind, dropped if it was still to go."""
    group, supergroup, now = -4001, -100_4001, clock.now()
    await subscribe(db, clock, group, ["Iraq"], ["Iraq"], chat_type="group")
    await subscribe(db, clock, supergroup, ["Syria"], ["Syria"], chat_type="supergroup")

    async with db.transaction() as conn:

        async def queue(chat_id: int, key: str) -> int:
            row = await enqueue_message(conn, chat_id=chat_id, kind=OutboxKind.DIGEST,
                                        dedupe_key=key, message=OutgoingMessage(html=key),
                                        now=now)  # fmt: skip
            assert row is not None
            return row

        sent = await queue(group, f"alert:5:{group}")
        await mark_sent(conn, [(sent, 1)], now)
        digest = await queue(group, f"digest:{group}:2025-01-16T05:00:00+00:00")
        twice = await queue(group, f"alert:6:{group}")
        kept = await queue(supergroup, f"alert:6:{supergroup}")
        assert not await move_chat(conn, group, supergroup)  # the supergroup has its own
        assert await move_chat_items(conn, group, supergroup, now) == 2

    assert await get_subscription(db.reader, group) is None
    merged = await get_subscription(db.reader, supergroup)
    assert merged is not None and merged.regions == ["Syria"]
    rows = {row.id: row for row in await items_for(db.reader, [group, supergroup])}
    assert (rows[sent].chat_id, rows[sent].dedupe_key) == (supergroup, f"alert:5:{supergroup}")
    assert rows[digest].dedupe_key == f"digest:{supergroup}:2025-01-16T05:00:00+00:00"
    assert (rows[twice].chat_id, rows[twice].status) == (group, OutboxStatus.DROPPED)
    assert rows[twice].last_error == MOVED_DUPLICATE
    assert (rows[kept].chat_id, rows[kept].status) == (supergroup, OutboxStatus.PENDING)
