"""What /latest, /count and /search find at a place is what the place's alerts reach: a
base by its name and by coordinates within its area, a sea area by its box whichever
country the incident is recorded under, a region by its countries and its seas."""

from __future__ import annotations

import pytest

from bot.context import IncidentBotApp
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
