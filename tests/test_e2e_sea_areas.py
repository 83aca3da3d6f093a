"""Sea areas (Red Sea, Gulf of Aden, Bab el-Mandeb, Arabian Sea, Strait of Hormuz, Persian
Gulf) are places of their own, with a bounding box: an attack on a ship far from any
coast is placed there, and asked about by name."""

from __future__ import annotations

from bot.context import IncidentBotApp, services_of
from bot.places import gazetteer
from bot.sandbox.fake_api import FakeBotApi
from tests.delivery_helpers import drained
from tests.people import Person
from tests.test_e2e_admin import table_counts
from tests.test_e2e_places import publish

SHIP_FORM = """/post
title: Missile strikes a bulk carrier
occurred: 2024-03-06 11:30
country: Yemen
location: Arabian Sea
coordinates: 14.2, 61.9
type: Explosions/Remote violence
subtype: Shelling/artillery/missile attack
claimed_by: none
severity: 3
source: Example Wire https://wire.example.org/bulk-carrier"""


def test_every_sea_area_has_its_own_kind_and_a_box_holding_its_point() -> None:
    seas = {p.name: p for p in gazetteer().places if p.kind == "sea"}
    assert set(seas) == {
        "Red Sea",
        "Gulf of Aden",
        "Bab el-Mandeb",
        "Arabian Sea",
        "Strait of Hormuz",
        "Persian Gulf",
    }
    for sea in seas.values():
        assert sea.bbox is not None and sea.bbox.holds(sea.latitude, sea.longitude), sea.name
        assert sea.admin1 == ""  # a sea is in no province
    assert gazetteer().sea_area_at(12.6, 43.4) == seas["Bab el-Mandeb"]  # the smallest box


async def test_an_attack_at_sea_is_placed_in_the_sea_area_and_found_by_it(
    owner: Person, alice: Person, running_bot: IncidentBotApp
) -> None:
    preview = await owner.says(SHIP_FORM)
    # 61.9° E is far outside Yemen's box, but inside the Arabian Sea's.
    assert preview.text.startswith("Draft "), preview.text
    assert "Where: Arabian Sea, Yemen" in preview.text
    done = await owner.presses(preview, "Publish")
    published = done if done.method == "editMessageText" else await owner.next_reply()
    assert "Published as #" in published.text

    listing = await alice.says("/latest Arabian Sea")
    assert "Missile strikes a bulk carrier" in listing.text
    elsewhere = await alice.says("/latest Gulf of Aden")
    assert "Missile strikes a bulk carrier" not in elsewhere.text
    hormuz = await alice.says("/latest Straits of Hormuz")
    assert "I don't know the place" not in hormuz.text
    tension = await alice.says("/tension Gulf of Aden")
    assert "I don't know the place" not in tension.text
    subscribed = await alice.says("/subscribe Gulf of Aden")
    assert "Places: Gulf of Aden" in subscribed.text, subscribed.text


async def test_a_point_at_sea_needs_the_sea_area_named(
    owner: Person, running_bot: IncidentBotApp
) -> None:
    before = await table_counts(services_of(running_bot).db)
    unnamed = await owner.says(SHIP_FORM.replace("location: Arabian Sea", "location: MV Example"))
    assert (
        "• coordinates: 14.2, 61.9 is not in Yemen; for a place at sea give the sea area "
        "as location (Arabian Sea)"
    ) in unnamed.text
    # A point off Yemen is no hint for an incident recorded in Iraq.
    iraq = SHIP_FORM.replace("country: Yemen", "country: Iraq").replace("Arabian Sea", "Hit")
    far = await owner.says(iraq.replace("14.2, 61.9", "15, 42"))
    assert "• coordinates: 15, 42 is not in Iraq\n" in far.text
    ashore = await owner.says(SHIP_FORM.replace("14.2, 61.9", "30, 60"))
    assert "• coordinates: 30, 60 is neither in Yemen nor in the Arabian Sea" in ashore.text
    assert await table_counts(services_of(running_bot).db) == before


async def test_the_guided_post_takes_a_known_place_alone_with_its_country(
    owner: Person, running_bot: IncidentBotApp
) -> None:
    await owner.says("/post")
    await owner.next_reply()  # the first question
    await owner.says("Tanker hit by a missile")
    await owner.says("2024-03-06 11:30")
    unknown = await owner.says("Narnia")
    assert unknown.text.startswith("Give at least the place and the country")
    next_question = await owner.says("Arabian Sea")
    assert next_question.text.startswith("4/11"), next_question.text
    await owner.says("/cancel")


async def test_a_sea_area_follower_hears_of_anything_inside_its_box(
    owner: Person, alice: Person, running_bot: IncidentBotApp, telegram: FakeBotApi
) -> None:
    subscribed = await alice.says("/subscribe Persian Gulf")
    assert "Places: Persian Gulf\n" in subscribed.text, subscribed.text

    def at_sea(title: str, country: str, location: str, coordinates: str) -> str:
        form = SHIP_FORM.replace("Missile strikes a bulk carrier", title)
        return (
            form.replace("country: Yemen", f"country: {country}")
            .replace("location: Arabian Sea", f"location: {location}")
            .replace("coordinates: 14.2, 61.9", f"coordinates: {coordinates}")
        )

    # Named after the strait, some 500 km from the Gulf's own point, but in its box.
    await publish(
        owner, at_sea("Tanker seized in the strait", "Iran", "Strait of Hormuz", "26.3, 56.2")
    )
    assert "Tanker seized in the strait" in (await alice.next_reply()).text
    # Outside the Gulf's box.
    await publish(owner, at_sea("Freighter hit off Oman", "Yemen", "Arabian Sea", "20.0, 60.0"))
    await drained(services_of(running_bot).db)
    assert telegram.pending_replies(alice.chat_id) == []
