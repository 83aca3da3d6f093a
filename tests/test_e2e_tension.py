"""/tension through the fake Bot API: a caption that reads right and a real PNG."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from bot.clock import ManualClock
from bot.context import IncidentBotApp, services_of
from bot.outgoing import CAPTION_LIMIT
from bot.sandbox.fake_api import FakeBotApi
from bot.tension.charts import chart_size
from storage.incidents import insert_incident
from tests.factories import incident_content
from tests.people import Person

pytestmark = pytest.mark.usefixtures("running_bot")


@pytest.fixture
def clock(clock: ManualClock) -> ManualClock:
    clock.set(clock.now().replace(year=2024, month=8, day=10))  # just after the sample's last
    return clock


def assert_png(data: bytes | None, regions: int) -> None:
    assert data is not None
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG" and image.size == chart_size(regions)


async def test_tension_shows_every_region_with_a_chart(alice: Person) -> None:
    reply = await alice.says("/tension")
    assert reply.method == "sendPhoto"
    assert_png(reply.photo, regions=5)
    lines = reply.text.splitlines()
    assert lines[0].startswith("Regional tension")
    # One attack with at least five injured in a quiet Iraq: 5.7× its normal, but one
    # incident without deaths is not evidence enough for more than elevated.
    iraq = lines.index(
        "🟡 Iraq: elevated ▲ (index 5.7, 5.7× its normal; "
        "held at elevated: 1 incident in 7 days, none fatal)"
    )
    assert lines[iraq + 1] == "   #17 Rockets strike Ain al-Asad Air Base (5 Aug 2024)"
    assert "🟢 Gulf/Iran: low ▶ (index 0.0, 0.0× its normal)\n   no incidents weigh on it now" in (
        reply.text
    )


async def test_the_same_picture_is_reused_until_the_data_changes(
    alice: Person, owner: Person, telegram: FakeBotApi
) -> None:
    first = await alice.says("/tension")
    second = await alice.says("/tension")
    assert second.photo_file_id == first.photo_file_id
    uploads = [p for method, p in telegram.requests if method == "sendPhoto"]
    assert isinstance(uploads[-1]["photo"], str)  # sent by file id, nothing uploaded

    await owner.says("/retract 18 Test retraction")
    third = await alice.says("/tension")
    assert third.photo_file_id != first.photo_file_id


async def test_one_region_over_90_days_and_an_unknown_one(alice: Person) -> None:
    reply = await alice.says("/tension iraq")
    assert_png(reply.photo, regions=1)
    assert reply.text.splitlines()[2].startswith("🟡 Iraq")
    assert "Syria" not in reply.text
    unknown = await alice.says("/tension Narnia")
    assert unknown.text.startswith("I don't know the place Narnia.")
    misspelt = await alice.says("/tension Sirya")
    assert misspelt.text.startswith("I don't know the place Sirya — did you mean Syria?")


async def test_drivers_too_long_for_a_caption_go_on_below_the_chart(
    alice: Person, clock: ManualClock, telegram: FakeBotApi, running_bot: IncidentBotApp
) -> None:
    db = services_of(running_bot).db
    long_titles = []
    async with db.transaction() as conn:
        for country, location in (("Iraq", "Erbil"), ("Syria", "Tanf"), ("Jordan", "Amman")):
            for n in range(3):
                title = f"{location} report {n}: " + "a long but valid title, " * 7
                long_titles.append(title.strip()[:200].strip(" ,"))
                content = incident_content(
                    title=long_titles[-1], country=country, admin1="", location=location,
                    latitude=None, longitude=None, severity=5,
                    occurred_at=datetime(2024, 8, 9, 12, n, tzinfo=UTC),
                )  # fmt: skip
                await insert_incident(conn, content, clock.now())

    photo = await alice.says("/tension")
    rest = await alice.next_reply()
    assert photo.method == "sendPhoto" and rest.method == "sendMessage"
    assert len(photo.text) <= CAPTION_LIMIT
    # The caption is the text's beginning, and the message below goes on where it stops.
    assert photo.text.startswith("Regional tension")
    said = f"{photo.text}\n{rest.text}"
    assert all(said.count(title) == 1 for title in long_titles), said
    assert [e for e in telegram.errors if "too long" in str(e[2])] == []
