"""Subscribe, then receive the digest at the chosen local time, with its chart."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from bot.app import DIGEST_DISPATCHER
from bot.clock import ManualClock
from bot.context import IncidentBotApp, delivery_of, services_of
from bot.models import OutboxStatus
from bot.sandbox.fake_api import FakeBotApi, Fault
from handlers.intake import FEED_READER
from tests.delivery_helpers import eventually, publish, rows_for
from tests.people import Person

pytestmark = pytest.mark.usefixtures("running_bot")


async def until(condition: Callable[[], bool]) -> None:
    async def holds() -> bool:
        return condition()

    await eventually(holds)


async def run_dispatcher(app: IncidentBotApp) -> None:
    """What the digest job does each minute."""
    await services_of(app).digests.dispatch_due()
    delivery_of(app).wake()


async def test_digest_arrives_at_eight_local_with_one_shared_chart(
    running_bot: IncidentBotApp,
    clock: ManualClock,
    alice: Person,
    bob: Person,
    telegram: FakeBotApi,
) -> None:
    for person in (alice, bob):
        reply = await person.says("/subscribe Iraq")
        assert "Iraq" in reply.text
    # The bot's timezone is Asia/Baghdad: 08:00 there is 05:00 UTC.
    sent_before = telegram.messages_sent
    clock.set(datetime(2025, 1, 16, 4, 59, tzinfo=UTC))
    await run_dispatcher(running_bot)
    assert telegram.pending_replies(alice.chat_id) == []

    clock.set(datetime(2025, 1, 16, 5, 0, tzinfo=UTC))
    await run_dispatcher(running_bot)
    # The digests go first; then one chart is uploaded, and the other copy waits for
    # its file id instead of uploading the same picture again.
    await until(lambda: telegram.messages_sent >= sent_before + 2)
    clock.advance(timedelta(seconds=1))
    delivery_of(running_bot).wake()
    await until(lambda: telegram.messages_sent >= sent_before + 3)
    clock.advance(timedelta(seconds=3))
    delivery_of(running_bot).wake()
    await until(lambda: telegram.messages_sent >= sent_before + 4)
    chart_ids = []
    for person in (alice, bob):
        digest, chart = await person.next_reply(), await person.next_reply()
        assert (digest.method, chart.method) == ("sendMessage", "sendPhoto")
        assert digest.text.startswith("📰 Daily digest · 16 Jan 2025")
        assert "Iraq:" in digest.text
        assert chart.text == "Tension index, last 30 days: Iraq"
        assert chart.photo is not None
        assert Image.open(io.BytesIO(chart.photo)).size == (1200, 510)  # one panel
        chart_ids.append(chart.photo_file_id)
    assert chart_ids[0] == chart_ids[1]  # one picture, uploaded once

    await run_dispatcher(running_bot)  # the same slot is never sent twice
    await alice.says("/start")
    assert telegram.pending_replies(alice.chat_id) == []


async def test_the_chart_waits_for_its_digest_even_when_the_digest_is_retried(
    running_bot: IncidentBotApp, clock: ManualClock, alice: Person, telegram: FakeBotApi
) -> None:
    await alice.says("/subscribe Iraq")
    db = services_of(running_bot).db
    telegram.inject("sendMessage", Fault.server_error(), chat_id=alice.chat_id)
    clock.set(datetime(2025, 1, 16, 5, 0, tzinfo=UTC))
    await run_dispatcher(running_bot)

    async def text_failed_once() -> bool:
        text = (await rows_for(db, alice.chat_id))[0]
        return text.attempts == 1 and text.status is OutboxStatus.PENDING

    await eventually(text_failed_once)
    # The retry waits 5 s; time passes a second at a time, as it would for a chart
    # sent on a timer rather than after its text.
    for _ in range(5):
        clock.advance(timedelta(seconds=1))
        delivery_of(running_bot).wake()
        await asyncio.sleep(0.05)
    digest, chart = await alice.next_reply(), await alice.next_reply()
    assert (digest.method, chart.method) == ("sendMessage", "sendPhoto")
    assert digest.text.startswith("📰 Daily digest · 16 Jan 2025")
    assert chart.text == "Tension index, last 30 days: Iraq"


async def test_the_dispatcher_is_one_job(running_bot: IncidentBotApp) -> None:
    assert running_bot.job_queue is not None
    (job,) = running_bot.job_queue.get_jobs_by_name(DIGEST_DISPATCHER)
    # One dispatcher for every subscriber, beside the feed reader: no job per subscriber.
    assert sorted(j.name for j in running_bot.job_queue.jobs()) == [DIGEST_DISPATCHER, FEED_READER]
    assert job.trigger.interval.total_seconds() == 60  # type: ignore[attr-defined]


async def test_digest_now_and_stats(
    running_bot: IncidentBotApp, alice: Person, owner: Person
) -> None:
    await alice.says("/subscribe Syria")
    digest = await alice.says("/digest")
    assert digest.text.startswith("📰 Daily digest")
    stats = await owner.says("/stats")
    assert "Syria: 1" in stats.text
    assert "Sent today:" in stats.text and "Waiting in the outbox:" in stats.text
    assert (await alice.says("/stats")).text.startswith("Not authorised")


async def test_a_time_zone_that_cannot_be_loaded_stops_no_one_elses_digest(
    running_bot: IncidentBotApp,
    clock: ManualClock,
    alice: Person,
    bob: Person,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Alice's stored zone is gone from tzdata: her digest keeps to the bot's zone (08:00
    in Baghdad, 05:00 UTC) and says so; Bob's comes as ever."""
    for person in (alice, bob):
        await person.says("/subscribe Iraq")
        await person.says("/settings chart off")
    async with services_of(running_bot).db.transaction() as conn:
        await conn.execute(
            "UPDATE subscribers SET timezone = 'Gone/Zone' WHERE chat_id = ?", (alice.chat_id,)
        )
    clock.set(datetime(2025, 1, 16, 5, 0, tzinfo=UTC))
    await run_dispatcher(running_bot)
    assert (await bob.next_reply()).text.startswith("📰 Daily digest · 16 Jan 2025")
    digest = await alice.next_reply()
    assert digest.text.startswith(
        "⚠️ Your time zone Gone/Zone is not known here any more, so this digest uses "
        "Asia/Baghdad. Choose yours with /settings timezone"
    )
    assert "📰 Daily digest · 16 Jan 2025" in digest.text
    assert "chat 2001: its time zone 'Gone/Zone' cannot be loaded" in caplog.text

    clock.advance(timedelta(minutes=11))
    now = await alice.says("/digest")  # at once, not only when scheduled
    assert now.text.startswith("⚠️ Your time zone Gone/Zone is not known here any more")


async def test_stats_count_a_digest_with_its_chart_as_one_digest(
    running_bot: IncidentBotApp, clock: ManualClock, alice: Person, owner: Person
) -> None:
    await alice.says("/subscribe Iraq")
    clock.set(datetime(2025, 1, 16, 5, 0, tzinfo=UTC))
    await run_dispatcher(running_bot)
    digest, chart = await alice.next_reply(), await alice.next_reply()
    assert (digest.method, chart.method) == ("sendMessage", "sendPhoto")
    db = services_of(running_bot).db

    async def both_sent() -> bool:
        rows = await rows_for(db, alice.chat_id)
        return [row.status for row in rows] == [OutboxStatus.SENT] * 2

    await eventually(both_sent)
    stats = await owner.says("/stats")
    assert "Sent today: 0 alerts, 0 corrections, 1 digests (and 1 tension charts with them)" in (
        stats.text
    )


async def test_a_digest_lists_an_incident_at_a_site_without_coordinates_as_its_alert_did(
    running_bot: IncidentBotApp, clock: ManualClock, alice: Person
) -> None:
    """Al-Tanf Garrison lies about 20 km from Tower 22: the attack recorded there without
    coordinates of its own is placed at the garrison's, for the alert and the digest."""
    await alice.says("/watch Tower 22 40 km")
    await alice.says("/settings chart off")
    await publish(
        running_bot, title="Drone near al-Tanf", country="Syria", admin1="Homs",
        location="Al-Tanf Garrison", latitude=None, longitude=None,
    )  # fmt: skip
    assert "Drone near al-Tanf" in (await alice.next_reply()).text
    clock.set(datetime(2025, 1, 16, 5, 0, tzinfo=UTC))
    await run_dispatcher(running_bot)
    digest = await alice.next_reply()
    assert digest.text.startswith("📰 Daily digest · 16 Jan 2025")
    assert "Drone near al-Tanf" in digest.text
