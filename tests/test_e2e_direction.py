"""Attacks on US/coalition forces and strikes by them, end to end through the fake Bot API."""

from __future__ import annotations

import pytest

from bot.context import IncidentBotApp, services_of
from bot.sandbox.fake_api import FakeBotApi
from tests.delivery_helpers import drained
from tests.people import Person
from tests.test_subscriptions_e2e import press_and_read_answer

pytestmark = pytest.mark.usefixtures("running_bot")

STRIKE_FORM = """/post
title: US strikes militia depot near Al-Qaim
occurred: 2024-08-12 02:00
country: Iraq
region: Anbar
location: Al-Qaim
type: Explosions/Remote violence
subtype: Air/drone strike
perpetrator: US forces
target: Kataib Hezbollah
claimed_by: none
severity: 4
source: Example Wire https://wire.example.org/qaim"""

ATTACK_FORM = """/post
title: Rockets fired at Ain al-Asad Air Base
occurred: 2024-08-12 22:00
country: Iraq
region: Anbar
location: Ain al-Asad Air Base
type: Explosions/Remote violence
perpetrator: Iran-backed militia (unidentified)
target: US and coalition forces
claimed_by: none
severity: 4
source: Example Wire https://wire.example.org/asad"""


LEBANON = "country: Lebanon\nregion: Nabatieh\nlocation: Nabatieh"
JORDAN = "country: Jordan\nregion: Mafraq\nlocation: Tower 22"


async def publish(owner: Person, form: str) -> None:
    preview = await owner.says(form)
    await owner.presses(preview, "Publish")
    await owner.next_reply()


async def test_a_us_strike_alerts_only_those_who_asked_for_strikes(
    running_bot: IncidentBotApp, owner: Person, alice: Person, bob: Person, telegram: FakeBotApi
) -> None:
    subscribed = await alice.says("/subscribe Iraq")
    assert "about: attacks on US/coalition forces, other incidents" in subscribed.text
    await bob.says("/subscribe Iraq")
    opted_in = await bob.says("/settings alerts_on attacks strikes")
    assert "about: attacks on US/coalition forces, strikes by US/coalition forces" in opted_in.text

    preview = await owner.says(STRIKE_FORM)
    assert "Direction: strike by US/coalition forces" in preview.text
    await owner.presses(preview, "Publish")
    await owner.next_reply()
    assert "US strikes militia depot" in (await bob.next_reply()).text
    await drained(services_of(running_bot).db)
    assert telegram.messages_in(alice.chat_id)[-1].text.startswith("✅ Subscribed.")

    await publish(owner, ATTACK_FORM)
    assert "Rockets fired at Ain al-Asad" in (await alice.next_reply()).text
    assert "Rockets fired at Ain al-Asad" in (await bob.next_reply()).text


async def test_the_alerts_menu_ticks_directions_but_never_none(
    alice: Person, telegram: FakeBotApi
) -> None:
    menu = await alice.says("/subscribe")
    menu = await alice.presses(menu, "🔔 Alerts")
    assert {"✅ Attacks on US", "US strikes", "✅ Other"} <= set(menu.button_texts)
    menu = await alice.presses(menu, "US strikes")
    menu = await alice.presses(menu, "✅ Other")
    assert "about: attacks on US/coalition forces, strikes by US/coalition forces" in menu.text
    menu = await alice.presses(menu, "✅ Attacks on US")
    assert "about: strikes by US/coalition forces\n" in menu.text
    refused = await press_and_read_answer(telegram, alice, menu, "✅ US strikes")
    assert refused["text"].startswith("At least one kind of incident must alert")
    assert refused["show_alert"] is True
    assert telegram.pending_replies(alice.chat_id) == []


async def test_latest_filters_on_direction(alice: Person) -> None:
    strikes = await alice.says("/latest 20 strikes")
    assert strikes.text.startswith("Latest strikes by US/coalition forces")
    assert "US strikes IRGC-linked sites in eastern Syria" in strikes.text
    assert "Ain al-Asad" not in strikes.text
    attacks = await alice.says("/latest 3 Iraq attacks")
    assert attacks.text.startswith("Latest attacks on US/coalition forces in Iraq")
    assert "Rockets strike Ain al-Asad Air Base" in attacks.text
    assert "US strike" not in attacks.text
    both = await alice.says("/latest strikes attacks")
    assert both.text == "Filter by one of attacks, strikes or other, e.g. /latest 5 Iraq attacks"


async def test_a_us_strike_raises_the_tension_index_half_as_much_as_an_attack(
    owner: Person, alice: Person
) -> None:
    """Two quiet countries, the same event on the same morning: a strike by US forces in
    Lebanon, an attack on them in Jordan."""
    when = "occurred: 2025-01-15 10:00"
    strike = STRIKE_FORM.replace("occurred: 2024-08-12 02:00", when)
    # Places are checked against the gazetteer: each event at a place in its country.
    strike = strike.replace("country: Iraq\nregion: Anbar\nlocation: Al-Qaim", LEBANON)
    await publish(owner, strike)
    attack = ATTACK_FORM.replace("occurred: 2024-08-12 22:00", when)
    await publish(
        owner,
        attack.replace("country: Iraq\nregion: Anbar\nlocation: Ain al-Asad Air Base", JORDAN),
    )

    def index_of(reply: str) -> float:
        return float(reply.split("(index ")[1].split(",")[0])

    lebanon = (await alice.says("/tension Lebanon")).text
    jordan = (await alice.says("/tension Jordan")).text
    # Severity 4 weighs 8. At the end of the day (10:00 in Baghdad is 07:00 UTC, 17 hours
    # before) 8 × 0.5^(17/24/7) = 7.45 of it is left, and half that for the strike.
    assert index_of(jordan) == 7.5 and index_of(lebanon) == 3.7
    assert "US strikes militia depot near Al-Qaim (15 Jan 2025 · US/coalition strike)" in lebanon
