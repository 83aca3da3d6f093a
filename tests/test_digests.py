"""Digests are queued once per slot, at local time, caught up within the grace period."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.clock import ManualClock
from bot.config import DeliverySettings, TensionSettings
from bot.models import DigestFrequency, OutboxItem, Subscription, TroopFigureContent
from bot.subscriptions.digests import DigestService
from bot.subscriptions.schedule import next_digest_time
from bot.tension.chart_store import TensionCharts
from bot.tension.index import TensionIndex
from storage.db import Database
from storage.incidents import insert_incident
from storage.outbox import items_for
from storage.subscribers import get_subscription, save_subscription
from storage.troops import insert_troop_figure
from tests.factories import incident_content

CHAT = 501
MONDAY_EIGHT_LONDON = datetime(2025, 3, 24, 8, 0, tzinfo=UTC)  # GMT until 30 March


async def subscribe(
    db: Database, clock: ManualClock, regions: list[str], **overrides: object
) -> Subscription:
    fields: dict[str, object] = {
        "chat_id": CHAT,
        "chat_type": "private",
        "regions": regions,
        "timezone": "Europe/London",
        "digest_time": time(8, 0),
    }
    fields.update(overrides)
    subscription = Subscription.model_validate(fields)
    subscription.next_digest_at = next_digest_time(subscription, clock.now())
    countries = {"Iraq": ["Iraq"], "Syria": ["Syria"]}
    async with db.transaction() as conn:
        await save_subscription(
            conn, subscription, [c for r in regions for c in countries[r]], clock.now()
        )
    return subscription


async def publish(db: Database, at: datetime, **overrides: object) -> None:
    draft = incident_content(occurred_at=at - timedelta(hours=1), **overrides)
    async with db.transaction() as conn:
        await insert_incident(conn, draft, at)


async def digests(db: Database) -> list[OutboxItem]:
    """The digest messages queued, without the charts that follow them."""
    return [
        item
        for item in await items_for(db.reader, [CHAT])
        if item.kind == "digest" and not item.dedupe_key.endswith(":chart")
    ]


async def charts(db: Database) -> list[OutboxItem]:
    return [
        item for item in await items_for(db.reader, [CHAT]) if item.dedupe_key.endswith(":chart")
    ]


def service(db: Database, clock: ManualClock) -> DigestService:
    tension = TensionIndex(db, clock, TensionSettings())
    charts = TensionCharts(db, clock, tension)
    return DigestService(
        db, clock, DeliverySettings(digest_grace_hours=6), tension, charts, "Asia/Baghdad"
    )


async def test_a_digest_is_queued_at_the_local_time_once(db: Database) -> None:
    clock = ManualClock(MONDAY_EIGHT_LONDON - timedelta(days=1))
    await subscribe(db, clock, ["Iraq"])
    await publish(db, MONDAY_EIGHT_LONDON - timedelta(hours=5), title="Rockets hit Union III")
    await publish(db, MONDAY_EIGHT_LONDON - timedelta(hours=4), country="Syria", title="Syria one")

    clock.set(MONDAY_EIGHT_LONDON - timedelta(minutes=1))
    assert (await service(db, clock).dispatch_due()).queued == 0
    clock.set(MONDAY_EIGHT_LONDON)
    assert (await service(db, clock).dispatch_due()).queued == 1
    assert (await service(db, clock).dispatch_due()).queued == 0  # never twice

    (item,) = await digests(db)
    assert item.payload is not None
    assert "Rockets hit Union III" in item.payload.html
    assert "Syria one" not in item.payload.html  # not in her regions
    # Her region only; one attack without deaths holds it at elevated; its driver named.
    assert "🟡 <b>Iraq</b>: elevated ▲" in item.payload.html
    assert "none fatal) · #1\n" in item.payload.html
    assert "<b>Syria</b>" not in item.payload.html
    stored = await get_subscription(db.reader, CHAT)
    assert stored is not None
    assert stored.last_digest_at == MONDAY_EIGHT_LONDON
    assert stored.next_digest_at == MONDAY_EIGHT_LONDON + timedelta(days=1)


async def test_after_the_clocks_change_it_still_comes_at_eight_local(db: Database) -> None:
    clock = ManualClock(datetime(2025, 3, 29, 12, 0, tzinfo=UTC))
    await subscribe(db, clock, [])
    clock.set(datetime(2025, 3, 30, 6, 59, tzinfo=UTC))
    assert (await service(db, clock).dispatch_due()).queued == 0
    clock.set(datetime(2025, 3, 30, 7, 0, tzinfo=UTC))  # 08:00 BST
    assert (await service(db, clock).dispatch_due()).queued == 1
    assert [item.dedupe_key for item in await digests(db)] == [
        f"digest:{CHAT}:2025-03-30T07:00:00+00:00"
    ]


async def test_a_digest_missed_while_down_is_sent_once_within_the_grace_period(
    db: Database,
) -> None:
    clock = ManualClock(MONDAY_EIGHT_LONDON - timedelta(hours=1))
    await subscribe(db, clock, [])
    clock.set(MONDAY_EIGHT_LONDON + timedelta(hours=5))  # the bot was down until 13:00
    assert (await service(db, clock).dispatch_due()).queued == 1
    assert (await service(db, clock).dispatch_due()).queued == 0
    stored = await get_subscription(db.reader, CHAT)
    assert stored is not None and stored.next_digest_at == MONDAY_EIGHT_LONDON + timedelta(days=1)


async def test_a_digest_later_than_the_grace_period_is_recorded_and_the_next_covers_it(
    db: Database,
) -> None:
    clock = ManualClock(MONDAY_EIGHT_LONDON - timedelta(hours=1))
    await subscribe(db, clock, [])
    await publish(db, MONDAY_EIGHT_LONDON - timedelta(minutes=30), title="Missed item")
    clock.set(MONDAY_EIGHT_LONDON + timedelta(hours=7))
    report = await service(db, clock).dispatch_due()
    assert report.queued == 0 and report.late_skipped == 1
    (skipped,) = await digests(db)
    assert skipped.status == "dropped"
    assert skipped.last_error == "missed by more than the grace period"

    clock.set(MONDAY_EIGHT_LONDON + timedelta(days=1))
    assert (await service(db, clock).dispatch_due()).queued == 1
    sent = (await digests(db))[-1]
    assert sent.payload is not None and "Missed item" in sent.payload.html


async def test_an_empty_digest_says_so_in_one_line_or_is_skipped(db: Database) -> None:
    clock = ManualClock(MONDAY_EIGHT_LONDON - timedelta(hours=1))
    await subscribe(db, clock, [])
    clock.set(MONDAY_EIGHT_LONDON)
    await service(db, clock).dispatch_due()
    (first,) = await digests(db)
    # The first digest has no previous one to speak of: it covers the day before it.
    assert first.payload is not None
    assert first.payload.html.splitlines()[1] == "Nothing new in the past day."
    clock.set(MONDAY_EIGHT_LONDON + timedelta(days=1))
    await service(db, clock).dispatch_due()
    second = (await digests(db))[-1]
    assert second.payload is not None
    assert second.payload.html.splitlines()[1] == "Nothing new since your last digest."

    async with db.transaction() as conn:
        await conn.execute("DELETE FROM subscribers")
        await conn.execute("DELETE FROM outbox")
    await subscribe(db, clock, [], skip_empty_digest=True)
    clock.set(MONDAY_EIGHT_LONDON + timedelta(days=2))
    report = await service(db, clock).dispatch_due()
    assert report.queued == 0 and report.empty_skipped == 1


async def test_a_chat_that_follows_no_place_gets_no_digest(db: Database) -> None:
    clock = ManualClock(MONDAY_EIGHT_LONDON - timedelta(hours=1))
    await subscribe(db, clock, [], everywhere=False)
    await publish(db, MONDAY_EIGHT_LONDON - timedelta(minutes=30), title="Rockets on Erbil")
    clock.set(MONDAY_EIGHT_LONDON)
    report = await service(db, clock).dispatch_due()
    assert report.queued == 0
    (skipped,) = await digests(db)
    assert (skipped.status, skipped.last_error) == ("dropped", "the chat follows no place")


async def test_weekly_digest_lists_troop_figure_changes(db: Database) -> None:
    clock = ManualClock(MONDAY_EIGHT_LONDON - timedelta(days=3))
    await subscribe(db, clock, ["Syria"], digest=DigestFrequency.WEEKLY, digest_weekday=0)
    figure = TroopFigureContent.model_validate(
        {"force": "United States", "host_country": "Syria",
         "count": {"value": 2000, "qualifier": "about"}, "as_of": date(2025, 3, 20),
         "source": {"name": "Pentagon", "url": "https://defense.example/x"}}
    )  # fmt: skip
    async with db.transaction() as conn:
        await insert_troop_figure(conn, figure, MONDAY_EIGHT_LONDON - timedelta(days=2))
    clock.set(MONDAY_EIGHT_LONDON)
    await service(db, clock).dispatch_due()
    (item,) = await digests(db)
    assert item.payload is not None
    assert item.payload.html.startswith("📰 <b>Weekly digest</b>")
    assert "United States in Syria: about 2,000 (reported, Mar 2025)" in item.payload.html


async def test_the_chart_follows_the_digest_unless_turned_off(db: Database) -> None:
    clock = ManualClock(MONDAY_EIGHT_LONDON - timedelta(hours=1))
    await subscribe(db, clock, ["Iraq"])
    clock.set(MONDAY_EIGHT_LONDON)
    await service(db, clock).dispatch_due()
    (chart,) = await charts(db)
    assert chart.payload is not None and chart.payload.chart_key is not None
    assert chart.payload.html == "Tension index, last 30 days: Iraq"

    async with db.transaction() as conn:
        await conn.execute("DELETE FROM subscribers")
        await conn.execute("DELETE FROM outbox")
    await subscribe(db, clock, ["Iraq"], digest_chart=False)
    clock.set(MONDAY_EIGHT_LONDON + timedelta(days=1))
    await service(db, clock).dispatch_due()
    assert await charts(db) == [] and len(await digests(db)) == 1


async def test_a_digest_lists_only_what_the_subscriber_follows_below_the_country(
    db: Database,
) -> None:
    """Anbar and a watch on al-Tanf: the province's incidents and those within the watch's
    radius, not the rest of Iraq and Syria."""
    clock = ManualClock(MONDAY_EIGHT_LONDON)
    subscription = Subscription.model_validate(
        {
            "chat_id": CHAT,
            "chat_type": "private",
            "regions": ["Anbar"],
            "watches": [{"site": "Al-Tanf Garrison", "radius_km": 30}],
        }
    )
    hour = timedelta(hours=1)
    await publish(db, MONDAY_EIGHT_LONDON - 5 * hour, title="Rockets hit Ain al-Asad")
    await publish(
        db, MONDAY_EIGHT_LONDON - 4 * hour, title="Blast at Victory Base",
        admin1="Baghdad", location="Victory Base Complex", latitude=33.29, longitude=44.24,
    )  # fmt: skip
    await publish(
        db, MONDAY_EIGHT_LONDON - 3 * hour, title="Drone 20 km north of al-Tanf",
        country="Syria", admin1="Homs", location="Desert road", latitude=33.68, longitude=38.647,
    )  # fmt: skip
    await publish(
        db, MONDAY_EIGHT_LONDON - 2 * hour, title="Shelling near Palmyra",
        country="Syria", admin1="Homs", location="Palmyra", latitude=34.56, longitude=38.27,
    )  # fmt: skip

    content = await service(db, clock).compose(subscription, MONDAY_EIGHT_LONDON)
    assert [incident.title for incident in content.incidents] == [
        "Drone 20 km north of al-Tanf",
        "Rockets hit Ain al-Asad",
    ]
    assert content.incident_total == 2
    everywhere = subscription.model_copy(update={"regions": [], "everywhere": True})
    assert (await service(db, clock).compose(everywhere, MONDAY_EIGHT_LONDON)).incident_total == 4
