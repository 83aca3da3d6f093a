"""What /latest, /count and /search find at a place is what the place's alerts reach: a
base by its name and by coordinates within its area, a sea area by its box whichever
country the incident is recorded under, a region by its countries and its seas."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.context import IncidentBotApp, services_of
from bot.sandbox.fake_api import FakeBotApi
from storage.incidents import insert_incident
from tests.factories import incident_content
from tests.people import Person
from tests.test_e2e_places import publish

pytestmark = pytest.mark.usefixtures("running_bot")


def report(title: str, country: str, region: str, location: str, coordinates: str) -> str:
    return "\n".join(
        [
            "/post",
            f"title: {title}",
            "occurred: 2025-01-15 10:00",
            f"country: {country}",
            *([f"region: {region}"] if region else []),
            f"location: {location}",
            f"coordinates: {coordinates}",
            "type: Explosions/Remote violence",
            "subtype: Shelling/artillery/missile attack",
            "target: US and coalition forces",
            "claimed_by: none",
            "severity: 3",
            "source: Example Wire https://wire.example.org/reading",
        ]
    )


async def test_an_attack_named_otherwise_but_inside_a_bases_area_is_found_by_the_base(
    running_bot: IncidentBotApp, owner: Person, alice: Person, bob: Person
) -> None:
    # A location the gazetteer does not know, some 5 km from the Conoco gas field.
    await bob.says("/watch Conoco")
    await publish(
        owner,
        report(
            "Rockets hit the gas plant gate", "Syria", "Deir ez-Zor", "Plant gate", "35.33, 40.36"
        ),
    )
    assert "Rockets hit the gas plant gate" in (await bob.next_reply()).text

    latest = await alice.says("/latest Conoco")
    assert latest.text.startswith("Latest incidents in Conoco Gas Field"), latest.text
    assert "Rockets hit the gas plant gate" in latest.text
    counted = await alice.says("/count Conoco since 2025-01-01")
    assert counted.text.splitlines()[2].startswith("1 incident"), counted.text
    found = await alice.says("/search rockets in Conoco")
    assert "Rockets hit the gas plant gate" in found.text, found.text
    # Al-Omar, some 30 km away, is another base.
    assert "gas plant gate" not in (await alice.says("/latest al-Omar")).text


async def test_the_red_sea_is_the_sea_area_whichever_country_records_the_attack(
    running_bot: IncidentBotApp, owner: Person, alice: Person, bob: Person
) -> None:
    subscribed = await alice.says("/subscribe Red Sea")
    assert "Places: Red Sea\n" in subscribed.text, subscribed.text
    assert "Places: Red Sea/Yemen" in (await bob.says("/subscribe Red Sea/Yemen")).text
    await publish(owner, report("Drone hits a tanker", "Saudi Arabia", "", "Red Sea", "20.0, 38.8"))
    assert "Drone hits a tanker" in (await alice.next_reply()).text
    assert "Drone hits a tanker" in (await bob.next_reply()).text

    for asked in ("/latest Red Sea", "/latest red sea", "/latest Red Sea/Yemen"):
        assert "Drone hits a tanker" in (await alice.says(asked)).text, asked
    found = await alice.says("/search tanker in Red Sea")
    assert found.text.startswith("Incidents matching “tanker” in Red Sea"), found.text
    counted = await alice.says("/count Red Sea since 2025-01-01")
    assert counted.text.startswith("Incidents in Red Sea, "), counted.text
    assert counted.text.splitlines()[2].startswith("1 incident"), counted.text


async def test_a_number_that_ends_a_place_name_stays_part_of_it(alice: Person) -> None:
    tower = await alice.says("/latest Tower 22")
    assert tower.text.startswith("Latest incidents in Tower 22"), tower.text
    one = await alice.says("/latest Tower 22 1")
    assert one.text.startswith("Latest incidents in Tower 22")
    assert len([line for line in one.text.splitlines() if line.startswith("#")]) == 1
    twice = await alice.says("/latest 5 5")
    assert twice.text == "Give the number of incidents once, e.g. /latest 5 Iraq", twice.text


async def test_the_older_button_pages_a_place_of_any_length(
    running_bot: IncidentBotApp, alice: Person, telegram: FakeBotApi
) -> None:
    services = services_of(running_bot)
    async with services.db.transaction() as conn:
        for n in range(4):
            draft = incident_content(
                title=f"Mortar round {n} at the diplomatic centre",
                country="Iraq",
                admin1="Baghdad",
                location="Victory Base Complex",
                latitude=None,
                longitude=None,
                occurred_at=datetime(2025, 1, 1 + n, tzinfo=UTC),
            )
            await insert_incident(conn, draft, services.clock.now())
    first = await alice.says("/latest 2 Baghdad Diplomatic Support Center")
    assert first.text.startswith("Latest incidents in Victory Base Complex"), first.text
    assert "Mortar round 3" in first.text and "Mortar round 2" in first.text
    older = await alice.presses(first, "Older ▸")
    assert "Mortar round 1" in older.text and "Mortar round 0" in older.text, older.text
    assert older.text.startswith("Latest incidents in Victory Base Complex")

    await telegram.wait_for_request("answerCallbackQuery")  # the press of Older
    # Data no button of ours carries: the press is answered, nothing is listed.
    for data in ("older:2:17::=0000000000", "older:2:17::Atlantis", "older:2:17::" + "x" * 40):
        telegram.press_forged(alice.user, first, data)
        answer = await telegram.wait_for_request("answerCallbackQuery")
        assert answer["text"].startswith("This button no longer works"), data
    assert telegram.pending_replies(alice.chat_id) == []


async def test_in_is_a_word_of_the_search_unless_a_place_follows_it(
    running_bot: IncidentBotApp, alice: Person
) -> None:
    services = services_of(running_bot)
    async with services.db.transaction() as conn:
        draft = incident_content(title="Contractor killed in action near the berm")
        await insert_incident(conn, draft, services.clock.now())
    found = await alice.says("/search killed in action")
    assert "Contractor killed in action near the berm" in found.text, found.text
    assert "place" not in found.text
    misspelt = await alice.says("/search rockets in Irak")
    assert misspelt.text == (
        "Nothing matches “rockets in Irak”. I don't know the place Irak — did you mean Iraq?"
    )


@pytest.mark.parametrize("command", ["/latest", "/count", "/troops", "/tension", "/subscribe"])
async def test_a_paste_for_a_place_is_quoted_short(alice: Person, command: str) -> None:
    reply = await alice.says(f"{command} " + " ".join(["qwzx"] * 800))
    assert "I don't know the place qwzx qwzx" in reply.text, reply.text
    assert "…" in reply.text and len(reply.text) < 600, reply.text


async def test_an_attack_at_a_site_without_coordinates_is_found_by_the_area_that_holds_it(
    running_bot: IncidentBotApp, alice: Person
) -> None:
    """Al-Tanf Garrison lies about 20 km from Tower 22: its alerts reach Tower 22's area,
    at the garrison's coordinates, and so does reading Tower 22."""
    services = services_of(running_bot)
    async with services.db.transaction() as conn:
        draft = incident_content(
            title="Drone downed over the garrison",
            country="Syria",
            admin1="Homs",
            location="Al-Tanf Garrison",
            latitude=None,
            longitude=None,
            occurred_at=datetime(2025, 1, 14, tzinfo=UTC),
        )
        await insert_incident(conn, draft, services.clock.now())
    latest = await alice.says("/latest Tower 22")
    assert "Drone downed over the garrison" in latest.text, latest.text
