"""/count through the fake Bot API, against tallies of the sample data worked out by hand."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from bot.context import IncidentBotApp, services_of
from bot.models import Qualifier
from bot.record.counts import _total
from bot.render.counts import HEIGHT_PX, WIDTH_PX
from storage.counts import CasualtySums
from storage.incidents import insert_incident
from tests.conftest import NOW
from tests.factories import incident_content
from tests.people import Person

pytestmark = pytest.mark.usefixtures("running_bot")


async def test_count_iraq_since_the_war_began(alice: Person) -> None:
    """Iraq in the sample since 17 Oct 2023: nine incidents. Six attacks on US/coalition
    forces (17 Oct twice, 25 Dec, 20 Jan, 16 Jul, 5 Aug) and three US strikes (26 Dec,
    2 Feb, 7 Feb). Killed: at least 1 + at least 16 + 3 = at least 20, the six attacks
    giving no figure. Injured: 3 + at least 18 + at least 1 + about 25 + at least 5 = about
    52 (two reported none), two incidents giving no figure."""
    reply = await alice.says("/count Iraq since 2023-10-17")
    assert reply.method == "sendPhoto"
    assert reply.text.splitlines()[:5] == [
        "Incidents in Iraq, 17 Oct 2023 – 15 Jan 2025",
        "",
        "9 incidents: 6 attacks on US/coalition forces, 3 strikes by US/coalition forces",
        "Killed: at least 20 reported + unknown in 6 incidents",
        "Injured: about 52 reported + unknown in 2 incidents",
    ]
    assert "Per month in the chart" in reply.text
    assert reply.photo is not None
    image = Image.open(io.BytesIO(reply.photo))
    image.load()
    assert image.size == (WIDTH_PX, HEIGHT_PX)


async def test_count_one_direction_in_a_short_span_goes_by_week(alice: Person) -> None:
    reply = await alice.says("/count strikes since 2024-01-01 until 2024-02-29")
    lines = reply.text.splitlines()
    assert lines[0] == "Strikes by US/coalition forces, 1 Jan 2024 – 29 Feb 2024"
    # 11 Jan (Yemen, 5 killed), 2 Feb Iraq (at least 16), 2 Feb Syria (at least 18),
    # 7 Feb Iraq (3): 42 at least.
    assert lines[2:4] == ["4 incidents", "Killed: at least 42"]
    assert "Per week in the chart" in reply.text


async def test_count_with_everything_left_out_starts_on_17_october_2023(alice: Person) -> None:
    reply = await alice.says("/count")
    assert reply.text.startswith("Incidents, 17 Oct 2023 – 15 Jan 2025\n\n18 incidents: ")


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/count Iraq since yesterday", "“yesterday” is not a date; write it as 2023-10-17."),
        (
            "/count since 2024-03-01 until 2024-02-01",
            "The span starts after it ends (2024-03-01 to 2024-02-01). "
            "e.g. /count Iraq since 2023-10-17 until 2024-02-01",
        ),
        ("/count Irak", "I don't know the place Irak — did you mean Iraq?"),
        (
            "/count since 0999-06-01",
            "0999-06-01 is out of range: give a date from 1900-01-01 to 2999-12-31, "
            "e.g. 2023-10-17.",
        ),
    ],
)
async def test_bad_counts_get_one_clear_answer(alice: Person, command: str, answer: str) -> None:
    assert (await alice.says(command)).text == answer


async def test_a_span_ending_after_today_ends_today(alice: Person) -> None:
    """Centuries of empty months would only cost time to count and draw."""
    reply = await alice.says("/count until 2999-12-31")
    assert reply.text.startswith("Incidents, 17 Oct 2023 – 15 Jan 2025\n\n18 incidents: ")


async def test_a_bound_in_a_figure_stays_a_bound_in_the_total(
    alice: Person, running_bot: IncidentBotApp
) -> None:
    services = services_of(running_bot)
    async with services.db.transaction() as conn:
        for day, killed, injured in ((1, "more than", "up to"), (2, "exact", "exact")):
            content = incident_content(
                occurred_at=datetime(2024, 11, day, 12, tzinfo=UTC),
                killed={"value": 40 if day == 1 else 2, "qualifier": killed},
                injured={"value": 15 if day == 1 else 3, "qualifier": injured},
            )
            await insert_incident(conn, content, NOW)

    reply = await alice.says("/count since 2024-11-01 until 2024-11-02")

    assert reply.text.splitlines()[2:5] == [
        "2 incidents: 2 other incidents",
        "Killed: more than 42",
        "Injured: up to 18",
    ]
    one = await alice.says("/count since 2024-11-02 until 2024-11-02")
    assert one.text.splitlines()[2] == "1 incident: 1 other incident"


def sums(**qualified: int) -> CasualtySums:
    counts = {"at_least": 0, "more_than": 0, "up_to": 0, "approximate": 0, **qualified}
    return CasualtySums(reported=10, with_figure=2, **counts)


@pytest.mark.parametrize(
    ("parts", "qualifier"),
    [
        ([sums()], Qualifier.EXACT),
        ([sums(), sums(at_least=1)], Qualifier.AT_LEAST),
        ([sums(at_least=1), sums(more_than=1)], Qualifier.MORE_THAN),
        ([sums(up_to=2)], Qualifier.UP_TO),
        ([sums(up_to=1), sums(at_least=1)], Qualifier.ABOUT),  # bounded on neither side
        ([sums(more_than=1, approximate=1)], Qualifier.ABOUT),
    ],
)
def test_what_a_sum_of_qualified_figures_is(
    parts: list[CasualtySums], qualifier: Qualifier
) -> None:
    assert _total(parts, incidents=4).qualifier is qualifier
