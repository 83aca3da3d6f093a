"""Following places below a country, end to end through the fake Bot API: a province,
a base, a base with a radius of one's own (/watch), and the names people type."""

from __future__ import annotations

import math

import pytest

from bot.context import IncidentBotApp, services_of
from bot.sandbox.fake_api import FakeBotApi
from tests.delivery_helpers import drained
from tests.people import Person

pytestmark = pytest.mark.usefixtures("running_bot")

AIN_AL_ASAD = (33.7856, 42.4412)  # the gazetteer's point for the base


def km_north(point: tuple[float, float], km: float) -> str:
    latitude, longitude = point
    return f"{latitude + km / (6371.0088 * math.pi / 180):.5f}, {longitude:.5f}"


def attack(title: str, location: str, region: str, coordinates: str | None = None) -> str:
    lines = [
        "/post",
        f"title: {title}",
        "occurred: 2025-01-15 10:00",
        "country: Iraq",
        f"region: {region}",
        f"location: {location}",
        *([f"coordinates: {coordinates}"] if coordinates else []),
        "type: Explosions/Remote violence",
        "target: US and coalition forces",
        "claimed_by: none",
        "severity: 3",
        "source: Example Wire https://wire.example.org/a",
    ]
    return "\n".join(lines)


async def publish(owner: Person, form: str) -> None:
    preview = await owner.says(form)
    assert preview.text.startswith("Draft "), preview.text
    await owner.presses(preview, "Publish")
    await owner.next_reply()


async def test_a_province_follower_hears_of_its_base_and_not_of_baghdad(
    running_bot: IncidentBotApp, owner: Person, alice: Person, telegram: FakeBotApi
) -> None:
    subscribed = await alice.says("/subscribe Anbar")
    assert "Places: Anbar" in subscribed.text
    await publish(
        owner, attack("Rocket lands near Victory Base", "Victory Base Complex", "Baghdad")
    )
    await publish(
        owner, attack("Drone shot down over Ain al-Asad", "Ain al-Asad Air Base", "Anbar")
    )
    alert = await alice.next_reply()
    assert "Drone shot down over Ain al-Asad" in alert.text
    await drained(services_of(running_bot).db)
    assert telegram.pending_replies(alice.chat_id) == []


async def test_a_watched_base_alerts_for_an_incident_20_km_away_but_not_40(
    running_bot: IncidentBotApp, owner: Person, alice: Person, bob: Person, telegram: FakeBotApi
) -> None:
    watching = await alice.says("/watch Ain al-Asad 30 km")
    assert "Watching: Ain al-Asad Air Base (30 km)" in watching.text
    assert "Places: only the sites watched" in watching.text
    # Bob follows the base itself: its default radius is 25 km.
    assert "Places: Ain al-Asad Air Base" in (await bob.says("/subscribe ain al asad")).text

    near = km_north(AIN_AL_ASAD, 20)
    await publish(
        owner, attack("Rockets hit a checkpoint north of the base", "Desert road", "Anbar", near)
    )
    assert "Rockets hit a checkpoint north of the base" in (await alice.next_reply()).text
    assert "Rockets hit a checkpoint north of the base" in (await bob.next_reply()).text

    far = km_north(AIN_AL_ASAD, 40)
    await publish(owner, attack("Convoy hit far to the north", "Desert road", "Anbar", far))
    await drained(services_of(running_bot).db)
    assert telegram.pending_replies(alice.chat_id) == []
    assert telegram.pending_replies(bob.chat_id) == []


async def test_watches_are_listed_in_settings_and_unwatch_removes_one(alice: Person) -> None:
    await alice.says("/watch Tower 22")
    await alice.says("/watch Ain al-Asad 30 km")
    settings = await alice.says("/settings")
    assert "Watching: Tower 22 (25 km), Ain al-Asad Air Base (30 km)" in settings.text
    after = await alice.says("/unwatch tower 22")
    assert "Watching: Ain al-Asad Air Base (30 km) — /unwatch SITE stops one" in after.text
    again = await alice.says("/unwatch Tower 22")
    assert again.text == "This chat does not watch “Tower 22”. /settings lists what it watches."


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/subscribe Anbr", "I don't know the place Anbr — did you mean Anbar?"),
        ("/watch Ain al-Asda", "I don't know the base or town “Ain al-Asda” — did you mean"),
        ("/watch Anbar", "/watch follows one base or town, and Anbar is wider than that."),
        ("/watch Tower 22 500 km", "Give a radius from 1 to 200 km"),
        ("/watch", "Name a base or town, and a radius if you like"),
    ],
)
async def test_places_that_cannot_be_followed_get_one_clear_answer(
    alice: Person, command: str, answer: str
) -> None:
    assert (await alice.says(command)).text.startswith(answer)


async def test_a_deep_link_follows_a_base(alice: Person) -> None:
    reply = await alice.says("/start sub_ain_al_asad_air_base")
    assert "Places: Ain al-Asad Air Base" in reply.text


async def test_search_and_tension_take_a_province_or_a_base(alice: Person) -> None:
    found = await alice.says("/search rockets in Anbar")
    assert found.text.startswith("Incidents matching “rockets” in Anbar")
    assert "Rockets strike Ain al-Asad Air Base" in found.text
    assert "Victory Base" not in found.text and "Syria" not in found.text
    none = await alice.says("/search rockets in Erbil")
    assert none.text.startswith("Nothing matches “rockets” in Erbil")
    tension = await alice.says("/tension Ain al-Asad")
    assert "<b>Iraq</b>" in tension.html.splitlines()[2]
    assert tension.text.endswith("Ain al-Asad is in Iraq: the index is kept per country.")
