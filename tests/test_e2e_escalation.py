"""Escalation notices end to end: the third attack on one base within seven days is
announced once to the followers of the base, its province and its country."""

from __future__ import annotations

import pytest

from bot.context import IncidentBotApp, services_of
from bot.sandbox.fake_api import FakeBotApi
from tests.delivery_helpers import drained
from tests.people import Person
from tests.test_e2e_admin import incident_id_from
from tests.test_e2e_places import attack

pytestmark = pytest.mark.usefixtures("running_bot")


async def publish(owner: Person, form: str) -> int:
    preview = await owner.says(form)
    await owner.presses(preview, "Publish")
    return await incident_id_from((await owner.next_reply()).text)


def attack_on(day: str, title: str) -> str:
    form = attack(title, "Ain al-Asad Air Base", "Anbar")
    return form.replace("occurred: 2025-01-15 10:00", f"occurred: {day} 10:00")


async def texts(telegram: FakeBotApi, person: Person) -> list[str]:
    return [message.text for message in telegram.messages_in(person.chat_id)]


async def test_the_third_attack_in_a_week_brings_one_notice_and_the_fourth_none(
    running_bot: IncidentBotApp, owner: Person, alice: Person, bob: Person, telegram: FakeBotApi
) -> None:
    await alice.says("/watch Ain al-Asad 30 km")
    await bob.says("/subscribe Anbar")
    await publish(owner, attack_on("2025-01-11", "Drones at Ain al-Asad"))
    await publish(owner, attack_on("2025-01-13", "Rockets at Ain al-Asad"))
    # A US strike nearby is not an attack on the base: it does not count.
    strike = attack_on("2025-01-14", "US strike near Ain al-Asad").replace(
        "target: US and coalition forces", "perpetrator: US forces\ntarget: Kataib Hezbollah"
    )
    await publish(owner, strike)
    third = await publish(owner, attack_on("2025-01-15", "Third attack on Ain al-Asad"))
    db = services_of(running_bot).db
    await drained(db)
    notice = (
        f"⚠️ 3rd attack on Ain al-Asad Air Base in 7 days (previous: 11 Jan, 13 Jan) · "
        f"/incident {third}"
    )
    for person in (alice, bob):
        sent = await texts(telegram, person)
        # One line, in the alert about the third attack: "one extra line".
        with_notice = [text for text in sent if notice in text]
        assert len(with_notice) == 1, sent
        assert "Third attack on Ain al-Asad" in with_notice[0]
        assert with_notice[0].endswith(notice)

    await publish(owner, attack_on("2025-01-15", "Fourth attack on Ain al-Asad"))
    await drained(db)
    for person in (alice, bob):
        sent = await texts(telegram, person)
        assert any("Fourth attack on Ain al-Asad" in text for text in sent)
        assert len([text for text in sent if "⚠️" in text]) == 1


async def test_a_retracted_attack_does_not_count(
    running_bot: IncidentBotApp, owner: Person, alice: Person, telegram: FakeBotApi
) -> None:
    await alice.says("/watch Ain al-Asad")
    first = await publish(owner, attack_on("2025-01-11", "Drones at Ain al-Asad"))
    await publish(owner, attack_on("2025-01-13", "Rockets at Ain al-Asad"))
    await owner.says(f"/retract {first} Duplicate report")
    await publish(owner, attack_on("2025-01-15", "Another attack on Ain al-Asad"))
    await drained(services_of(running_bot).db)
    sent = await texts(telegram, alice)
    assert any("Another attack on Ain al-Asad" in text for text in sent)
    assert not any("⚠️" in text for text in sent), sent


async def test_a_follower_without_the_alert_gets_the_notice_as_a_message_of_its_own(
    running_bot: IncidentBotApp, owner: Person, alice: Person, telegram: FakeBotApi
) -> None:
    """Alice follows Iraq but only wants alerts of severity 4 and up: the attacks (severity
    3) do not alert her, but the run of them on a base in her country does."""
    menu = await alice.says("/subscribe Iraq")
    menu = await alice.says("/settings")
    menu = await alice.presses(menu, "🔔 Alerts")
    await alice.presses(menu, "4+")
    for day in ("2025-01-11", "2025-01-13", "2025-01-15"):
        await publish(owner, attack_on(day, f"Attack on Ain al-Asad, {day}"))
    await drained(services_of(running_bot).db)
    sent = [text for text in await texts(telegram, alice) if "Ain al-Asad" in text]
    assert len(sent) == 1 and sent[0].startswith("⚠️ 3rd attack on Ain al-Asad Air Base")


async def test_the_notice_gives_its_dates_in_each_followers_time_zone(
    running_bot: IncidentBotApp, owner: Person, alice: Person, bob: Person, telegram: FakeBotApi
) -> None:
    """The attacks come at 02:00 in Baghdad (the bot's zone): the evening before in Los
    Angeles, where Alice (watching the base: the line in her alert) and Bob (following Iraq
    at 4+: the notice as a message of its own, although Alice's alert is still waiting)
    live."""
    await alice.says("/watch Ain al-Asad")
    await bob.says("/subscribe Iraq")
    for person in (alice, bob):
        saved = await person.says("/settings timezone America/Los_Angeles")
        assert "America/Los_Angeles" in saved.text, saved.text
    menu = await bob.presses(await bob.says("/settings"), "🔔 Alerts")
    await bob.presses(menu, "4+")
    for day in ("2025-01-11", "2025-01-13"):
        await publish(
            owner, attack_on(day, f"Attack on Ain al-Asad, {day}").replace("10:00", "02:00")
        )
    third = await publish(owner, attack_on("2025-01-15", "Third attack").replace("10:00", "02:00"))
    await drained(services_of(running_bot).db)
    notice = (
        f"⚠️ 3rd attack on Ain al-Asad Air Base in 7 days (previous: 10 Jan, 12 Jan) · "
        f"/incident {third}"
    )
    (with_line,) = [text for text in await texts(telegram, alice) if "⚠️" in text]
    assert with_line.startswith("🚨") and with_line.endswith(notice), with_line
    assert [text for text in await texts(telegram, bob) if "⚠️" in text] == [notice]
