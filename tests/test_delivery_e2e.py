"""Alerts reach subscribers through the real application and the fake Bot API.

Each test reads as what happens to the people involved; the outbox rows are
looked at only to show why something did not (yet) arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time, timedelta
from pathlib import Path

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import DeliverySettings, Settings
from bot.context import IncidentBotApp, delivery_of, services_of
from bot.delivery.decide import OutboxDecider
from bot.delivery.engine import DeliveryEngine
from bot.lifecycle import polling
from bot.models import Direction, OutboxItem, OutboxKind, OutboxStatus, OutgoingMessage
from bot.monitoring import Metrics
from bot.sandbox.fake_api import FakeBotApi, Fault
from storage.db import Database
from storage.incidents import insert_incident
from storage.outbox import AlertPlace, enqueue_alerts, enqueue_message
from tests.conftest import NOW, UNPACED_CHATS
from tests.delivery_helpers import (
    drained,
    publish,
    row_reaches,
    rows_by_kind,
    rows_for,
    subscribe,
    subscription_of,
)
from tests.factories import incident_content
from tests.people import Person
from tests.test_e2e_admin import TOWER_FORM, incident_id_from
from tests.test_fake_api import png


@pytest.fixture(params=["aiohttp", "httpx"])
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Every test here runs on both HTTP backends: the engine posts through either."""
    settings.delivery = DeliverySettings(max_attempts=3, retry_backoff_seconds=5, **UNPACED_CHATS)
    settings.telegram.http_backend = request.param
    return settings


def tried(attempts: int) -> Callable[[OutboxItem], bool]:
    return lambda row: row.attempts == attempts


async def queue_digest(
    app: IncidentBotApp,
    chat_id: int,
    *,
    due_in: timedelta,
    message: OutgoingMessage | None = None,
) -> None:
    async with services_of(app).db.transaction() as conn:
        await enqueue_message(
            conn,
            chat_id=chat_id,
            kind=OutboxKind.DIGEST,
            dedupe_key=f"digest:{chat_id}:test",
            message=message or OutgoingMessage(html="<b>Your digest</b>"),
            now=NOW + due_in,
        )
    delivery_of(app).wake()


async def tower_published_for_alice_not_bob(
    db: Database, owner: Person, alice: Person, bob: Person
) -> int:
    """Alice follows Jordan, Bob Syria; the owner publishes an incident in Jordan."""
    await subscribe(db, [alice.chat_id], NOW, countries=["Jordan"])
    await subscribe(db, [bob.chat_id], NOW, countries=["Syria"])
    preview = await owner.says(TOWER_FORM)
    await owner.presses(preview, "Publish")
    return await incident_id_from((await owner.next_reply()).text)


async def test_a_matching_subscriber_gets_one_alert_and_another_none(
    running_bot: IncidentBotApp, owner: Person, alice: Person, bob: Person, telegram: FakeBotApi
) -> None:
    db = services_of(running_bot).db
    incident_id = await tower_published_for_alice_not_bob(db, owner, alice, bob)

    alert = await alice.next_reply()
    assert alert.text.startswith("🚨 New incident\n\nDrone strikes Tower 22 again")
    assert f"#{incident_id}" in alert.text and "Casualties: about 3 injured" in alert.text
    await drained(db)
    assert telegram.pending_replies(alice.chat_id) == []
    assert telegram.messages_in(bob.chat_id) == []
    assert await rows_for(db, bob.chat_id) == []


async def test_a_broadcast_posts_what_ptb_would_post_for_the_same_message(
    running_bot: IncidentBotApp, alice: Person, telegram: FakeBotApi
) -> None:
    """The engine's prepared parameters are those of PTB's send_message, defaults included."""
    await subscribe(services_of(running_bot).db, [alice.chat_id], NOW)
    message = OutgoingMessage(html="<b>Your digest</b> https://example.org")
    await queue_digest(running_bot, alice.chat_id, due_in=timedelta(0), message=message)
    await alice.next_reply()
    await running_bot.bot.send_message(alice.chat_id, message.html)
    await alice.next_reply()

    by_engine, by_ptb = [params for method, params in telegram.requests if method == "sendMessage"]
    assert by_engine == by_ptb


async def test_a_picture_goes_as_a_photo_with_its_caption(
    running_bot: IncidentBotApp, alice: Person
) -> None:
    await subscribe(services_of(running_bot).db, [alice.chat_id], NOW)
    chart = png(40, 30)
    message = OutgoingMessage(html="<b>Your digest</b>", photo_png=chart)
    await queue_digest(running_bot, alice.chat_id, due_in=timedelta(0), message=message)

    digest = await alice.next_reply()
    assert (digest.method, digest.photo, digest.caption) == ("sendPhoto", chart, "Your digest")


async def test_a_429_is_honoured_for_that_chat_only(
    running_bot: IncidentBotApp,
    clock: ManualClock,
    alice: Person,
    bob: Person,
    telegram: FakeBotApi,
) -> None:
    db = services_of(running_bot).db
    await subscribe(db, [alice.chat_id, bob.chat_id], NOW)
    telegram.inject("sendMessage", Fault.retry_after(1), chat_id=alice.chat_id)
    incident = await publish(running_bot, title="Drone shot down over Erbil")

    assert incident.title in (await bob.next_reply()).text
    held = await row_reaches(db, alice.chat_id, lambda row: row.last_error is not None)
    assert held.status is OutboxStatus.PENDING
    assert held.not_before == NOW + timedelta(seconds=1) and held.attempts == 0
    assert telegram.messages_in(alice.chat_id) == []

    clock.advance(timedelta(seconds=1))
    delivery_of(running_bot).wake()
    assert incident.title in (await alice.next_reply()).text
    sends = [p for name, p in telegram.requests if name == "sendMessage"]
    assert [p["chat_id"] for p in sends].count(alice.chat_id) == 2


@pytest.mark.parametrize(
    ("make_unreachable", "reason"),
    [
        (lambda api, person: api.block_bot(person.user), "Forbidden: bot was blocked by the user"),
        (lambda api, person: api.deactivate(person.user), "Forbidden: user is deactivated"),
        (lambda api, person: api.forget_chat(person.chat_id), "Chat not found"),
    ],
    ids=["blocked", "deactivated", "chat not found"],
)
async def test_an_unreachable_subscriber_is_deactivated_and_hears_nothing_more(
    running_bot: IncidentBotApp,
    alice: Person,
    telegram: FakeBotApi,
    make_unreachable: Callable[[FakeBotApi, Person], None],
    reason: str,
) -> None:
    db = services_of(running_bot).db
    await subscribe(db, [alice.chat_id], NOW)
    await queue_digest(running_bot, alice.chat_id, due_in=timedelta(hours=1))
    make_unreachable(telegram, alice)

    await publish(running_bot)
    await drained(db)
    rows = await rows_by_kind(db, alice.chat_id)
    alert, digest = rows[OutboxKind.ALERT], rows[OutboxKind.DIGEST]
    assert (alert.status, alert.last_error) == (OutboxStatus.FAILED, reason)
    assert (digest.status, digest.last_error) == (OutboxStatus.DROPPED, reason)
    subscription = await subscription_of(db, alice.chat_id)
    assert subscription is not None
    assert (subscription.active, subscription.inactive_reason) == (False, reason)

    await publish(running_bot, title="A second attack")
    await drained(db)
    assert len(await rows_for(db, alice.chat_id)) == 2
    assert telegram.messages_in(alice.chat_id) == []


async def test_a_subscriber_who_unblocks_the_bot_and_presses_restart_is_resumed_and_told(
    running_bot: IncidentBotApp, alice: Person, bob: Person, telegram: FakeBotApi
) -> None:
    db = services_of(running_bot).db
    await subscribe(db, [alice.chat_id], NOW)
    telegram.block_bot(alice.user)
    await publish(running_bot)
    await drained(db)
    paused = await subscription_of(db, alice.chat_id)
    assert paused is not None and not paused.active

    welcome = await alice.says("/start")  # what Telegram sends for Restart

    assert welcome.text.startswith("Welcome back: your alerts and digests, stopped while")
    assert "/unsubscribe" in welcome.text
    resumed = await subscription_of(db, alice.chat_id)
    assert resumed is not None and (resumed.active, resumed.inactive_reason) == (True, None)
    incident = await publish(running_bot, title="A second attack")
    assert incident.title in (await alice.next_reply()).text
    # Someone whose subscription was never paused gets the plain welcome.
    assert (await bob.says("/start")).text.startswith("Incident bot")


async def test_a_group_that_became_a_supergroup_is_followed(
    running_bot: IncidentBotApp, alice: Person, telegram: FakeBotApi
) -> None:
    group = telegram.add_group("Ops room", supergroup=False, admins=[alice.user])
    db = services_of(running_bot).db
    await subscribe(db, [group.id], NOW, chat_type="group")
    await queue_digest(running_bot, group.id, due_in=timedelta(hours=1))
    supergroup = telegram.migrate_group(group, -1_002_000_000_777)

    incident = await publish(running_bot)

    alert = await telegram.next_reply(supergroup.id)
    assert alert.text.startswith(f"🚨 New incident\n\n{incident.title}")
    assert await subscription_of(db, group.id) is None
    moved = await subscription_of(db, supergroup.id)
    assert moved is not None and moved.chat_type == "supergroup"
    await row_reaches(db, supergroup.id, lambda row: row.status is OutboxStatus.SENT)
    digest = (await rows_by_kind(db, supergroup.id))[OutboxKind.DIGEST]
    assert digest.status is OutboxStatus.PENDING
    assert telegram.messages_in(group.id) == []


async def test_a_group_upgraded_to_a_supergroup_keeps_its_subscription_as_telegram_says_so(
    running_bot: IncidentBotApp, alice: Person, owner: Person, telegram: FakeBotApi
) -> None:
    group = Person(
        telegram, alice.user, telegram.add_group("Ops", supergroup=False, admins=[alice.user])
    )
    await group.says("/subscribe Iraq")
    first = await publish(running_bot, title="First attack")
    assert (await group.next_reply()).text.startswith("🚨 New incident\n\nFirst attack")

    before_the_move = len(telegram.requests)
    supergroup = Person(
        telegram, alice.user, telegram.migrate_group(group.chat, -1_002_000_000_777)
    )
    settings = await supergroup.says("/settings")
    assert "📍 Places: Iraq" in settings.text
    await publish(running_bot, title="Second attack")
    assert (await supergroup.next_reply()).text.startswith("🚨 New incident\n\nSecond attack")
    # Moved when Telegram announced it, not when a send to the old id failed.
    since = telegram.requests[before_the_move:]
    assert [call for call in since if call[1].get("chat_id") == group.chat_id] == []

    # The first alert went to the group: its correction follows it to the supergroup.
    await owner.says(f"/edit {first.id}\ninjured: 9")
    correction = await supergroup.next_reply()
    assert correction.text.startswith(f"✏️ Correction to #{first.id}\ninjured: at least 5 → 9")
    await drained(services_of(running_bot).db)
    assert telegram.pending_replies(supergroup.chat_id) == []


async def test_a_group_upgraded_while_the_bot_was_away_is_followed_and_merged(
    settings: Settings,
    clock: ManualClock,
    telegram: FakeBotApi,
    alice: Person,
    bob: Person,
    owner: Person,
) -> None:
    """The bot never hears of the move, and the supergroup subscribes afresh: the first send
    to the old id finds the move; the supergroup's own choices stand, and it gets what was
    queued for the group and the corrections to what the group was sent, each once."""
    group = Person(
        telegram, alice.user, telegram.add_group("Ops", supergroup=False, admins=[alice.user])
    )
    async with polling(build_application(settings, clock), poll_timeout=1) as app:
        await group.says("/subscribe Iraq")
        first = await publish(app, title="First attack")
        await group.next_reply()
    supergroup = Person(
        telegram, alice.user, telegram.migrate_group(group.chat, -1_002_000_000_777)
    )
    telegram.lose_pending_updates()

    async with polling(build_application(settings, clock), poll_timeout=1) as app:
        db = services_of(app).db
        assert (await supergroup.says("/settings")).text.startswith("Not subscribed yet")
        await supergroup.says("/subscribe Syria")
        await subscribe(db, [bob.chat_id], NOW)
        second = await publish(app, title="Second attack")  # in Iraq: queued for the group

        alert = await supergroup.next_reply()
        assert alert.text.startswith("🚨 New incident\n\nSecond attack")
        assert (await bob.next_reply()).text.startswith("🚨 New incident\n\nSecond attack")
        await drained(db)
        assert await subscription_of(db, group.chat_id) is None
        kept = await subscription_of(db, supergroup.chat_id)
        assert kept is not None and kept.regions == ["Syria"]
        assert {row.status for row in await rows_for(db, bob.chat_id)} == {OutboxStatus.SENT}

        await owner.says(f"/edit {first.id}\ninjured: 9")
        correction = await supergroup.next_reply()
        assert correction.text.startswith(f"✏️ Correction to #{first.id}")
        await publish(app, title="Third attack")  # in Iraq, which the supergroup left
        assert (await bob.next_reply()).text.startswith("🚨 New incident\n\nThird attack")
        await drained(db)
    assert [
        m.text.split("\n")[2]
        for m in telegram.messages_in(supergroup.chat_id)
        if m.text.startswith("🚨")
    ] == [f"{second.title}  #{second.id}"]


async def test_server_errors_are_retried_with_backoff_then_failed(
    running_bot: IncidentBotApp,
    clock: ManualClock,
    alice: Person,
    bob: Person,
    telegram: FakeBotApi,
) -> None:
    """max_attempts is 3 and the first retry waits 5 s: Alice's three tries all fail."""
    db = services_of(running_bot).db
    await subscribe(db, [alice.chat_id, bob.chat_id], NOW)
    telegram.inject("sendMessage", Fault.server_error(), chat_id=alice.chat_id, times=3)
    telegram.inject("sendMessage", Fault.server_error(), chat_id=bob.chat_id, times=2)
    incident = await publish(running_bot)

    for attempts, retry_at in [(1, NOW + timedelta(seconds=5)), (2, NOW + timedelta(seconds=15))]:
        for person in (alice, bob):
            row = await row_reaches(db, person.chat_id, tried(attempts))
            assert row.status is OutboxStatus.PENDING and row.not_before == retry_at
            assert row.last_error == "Bad Gateway"
        clock.set(retry_at)
        delivery_of(running_bot).wake()

    assert incident.title in (await bob.next_reply()).text
    failed = await row_reaches(db, alice.chat_id, lambda row: row.attempts == 3)
    assert (failed.status, failed.last_error) == (OutboxStatus.FAILED, "Bad Gateway")
    assert telegram.messages_in(alice.chat_id) == []
    subscription = await subscription_of(db, alice.chat_id)
    assert subscription is not None and subscription.active


async def test_quiet_hours_hold_an_alert_but_not_a_severe_one(
    running_bot: IncidentBotApp, clock: ManualClock, alice: Person, telegram: FakeBotApi
) -> None:
    """It is 12:00 UTC; Alice's quiet hours are 11:00 to 13:00."""
    db = services_of(running_bot).db
    await subscribe(db, [alice.chat_id], NOW, quiet_start=time(11, 0), quiet_end=time(13, 0))
    routine = await publish(running_bot, title="Rocket lands near Victory base", severity=3)
    held = await row_reaches(db, alice.chat_id, lambda row: row.not_before > NOW)
    assert held.status is OutboxStatus.PENDING and held.attempts == 0
    assert held.not_before == NOW + timedelta(hours=1)

    severe = await publish(running_bot, title="Mass-casualty strike", severity=5)
    assert severe.title in (await alice.next_reply()).text
    assert telegram.pending_replies(alice.chat_id) == []

    clock.advance(timedelta(hours=1))
    delivery_of(running_bot).wake()
    assert routine.title in (await alice.next_reply()).text
    await drained(db)
    assert len(telegram.messages_in(alice.chat_id)) == 2


async def test_a_send_that_times_out_is_tried_again(
    tmp_path: Path, clock: ManualClock, alice: Person, telegram: FakeBotApi
) -> None:
    """An engine on its own bot whose reads time out after 0.2 s; Telegram takes 1 s twice."""
    telegram.inject(
        "sendMessage", Fault.delay(1, process_first=False), chat_id=alice.chat_id, times=2
    )
    bot = Bot(
        telegram.token,
        base_url=f"{telegram.api_root}/bot",
        request=HTTPXRequest(read_timeout=0.2),
    )
    async with Database(tmp_path / "engine.sqlite3") as db, bot:
        await subscribe(db, [alice.chat_id], NOW)
        async with db.transaction() as conn:
            incident_id = await insert_incident(conn, incident_content(), NOW)
            assert incident_id is not None
            await enqueue_alerts(
                conn, incident_id, AlertPlace("Iraq"), 3, Direction.ON_COALITION, NOW
            )
        settings = DeliverySettings(max_attempts=3, retry_backoff_seconds=5)
        engine = DeliveryEngine(bot, db, clock, settings, OutboxDecider(db, clock), Metrics(clock))
        await engine.start()
        try:
            for attempts, retry_at in [
                (1, NOW + timedelta(seconds=5)),
                (2, NOW + timedelta(seconds=15)),
            ]:
                row = await row_reaches(db, alice.chat_id, tried(attempts))
                assert row.not_before == retry_at and row.last_error == "Timed out"
                clock.set(retry_at)
                engine.wake()
            alert = await alice.next_reply()
            await row_reaches(db, alice.chat_id, lambda row: row.status is OutboxStatus.SENT)
        finally:
            await engine.stop()
    assert alert.text.startswith("🚨 New incident")
    assert telegram.pending_replies(alice.chat_id) == []


async def test_a_correction_reaches_everyone_alerted_and_no_one_else(
    running_bot: IncidentBotApp, owner: Person, alice: Person, bob: Person, telegram: FakeBotApi
) -> None:
    db = services_of(running_bot).db
    incident_id = await tower_published_for_alice_not_bob(db, owner, alice, bob)
    await alice.next_reply()  # the alert

    await owner.says(f"/edit {incident_id}\ninjured: at least 6")
    correction = await alice.next_reply()
    assert correction.text.startswith(
        f"✏️ Correction to #{incident_id}\ninjured: about 3 → at least 6\n"
    )
    assert "at least 6 injured" in correction.text

    await owner.says(f"/edit {incident_id}\ntags: drone")  # not of substance: no correction
    await owner.says(f"/retract {incident_id} Duplicate report")
    retraction = await alice.next_reply()
    assert retraction.text.startswith(f"↩️ Retracted: #{incident_id}")
    await drained(db)
    assert telegram.pending_replies(alice.chat_id) == []
    assert telegram.messages_in(bob.chat_id) == []


async def test_an_incident_becoming_disputed_reaches_everyone_alerted(
    running_bot: IncidentBotApp, owner: Person, alice: Person, bob: Person, telegram: FakeBotApi
) -> None:
    db = services_of(running_bot).db
    incident_id = await tower_published_for_alice_not_bob(db, owner, alice, bob)
    alert = await alice.next_reply()
    assert "Status: reported, not confirmed" in alert.text

    await owner.says(f"/edit {incident_id}\nverification: confirmed by US Central Command")
    await owner.says(f"/edit {incident_id}\nverification: disputed")
    correction = await alice.next_reply()
    assert correction.text.startswith(
        f"✏️ Correction to #{incident_id}\nstatus: confirmed by US Central Command → "
        "disputed: sources contradict each other\n"
    )
    await drained(db)
    # Becoming confirmed is no correction to send; becoming disputed is.
    assert telegram.pending_replies(alice.chat_id) == []
    assert telegram.messages_in(bob.chat_id) == []
