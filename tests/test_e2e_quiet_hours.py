"""Quiet hours, end to end: what a held alert or correction becomes when the chat's
choices or the incident change before the quiet hours end.

It is 12:00 UTC (15:00 in Baghdad, the bot's zone and Alice's); her quiet hours of
14:00–16:00 there end at 13:00 UTC.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.context import IncidentBotApp, delivery_of, services_of
from bot.models import Incident, OutboxItem, OutboxKind, OutboxStatus
from bot.sandbox.fake_api import FakeBotApi
from storage.outbox import HELD_FOR_QUIET_HOURS
from tests.conftest import NOW
from tests.delivery_helpers import publish, row_reaches, rows_for, settled
from tests.people import Person

QUIET_END = NOW + timedelta(hours=1)


def settled_row(row: OutboxItem) -> bool:
    return row.status not in (OutboxStatus.PENDING, OutboxStatus.SENDING)


async def held_alert(app: IncidentBotApp, alice: Person, **incident: object) -> Incident:
    """Alice follows Anbar with quiet hours on; an attack at Ain al-Asad waits for them."""
    await alice.says("/subscribe Anbar")
    await alice.says("/settings quiet 14:00-16:00")
    published = await publish(app, **incident)
    db = services_of(app).db
    held = await row_reaches(db, alice.chat_id, lambda row: row.not_before == QUIET_END)
    assert held.status is OutboxStatus.PENDING and held.last_error == HELD_FOR_QUIET_HOURS
    return published


async def dropped_unsent(app: IncidentBotApp, alice: Person, telegram: FakeBotApi) -> str:
    """Alice's held alert is dropped and she hears nothing; the reason recorded."""
    row = await row_reaches(services_of(app).db, alice.chat_id, settled_row)
    assert row.status is OutboxStatus.DROPPED and row.last_error is not None
    await settled(app, telegram)
    assert telegram.pending_replies(alice.chat_id) == []
    return row.last_error


async def end_of_quiet_hours(app: IncidentBotApp, clock: ManualClock) -> None:
    clock.set(QUIET_END)
    delivery_of(app).wake()


@pytest.mark.parametrize("hours", ["off", "14:00-14:30"])
async def test_quiet_hours_turned_off_or_ended_release_the_held_alert_at_once(
    hours: str, running_bot: IncidentBotApp, alice: Person, telegram: FakeBotApi
) -> None:
    incident = await held_alert(running_bot, alice, title="Rockets hit Ain al-Asad")
    await alice.says(f"/settings quiet {hours}")
    assert "Rockets hit Ain al-Asad" in (await alice.next_reply()).text
    await settled(running_bot, telegram)
    rows = await rows_for(services_of(running_bot).db, alice.chat_id)
    assert [(row.incident_id, row.status) for row in rows] == [(incident.id, "sent")]


async def test_quiet_hours_moved_but_still_on_hold_the_alert_to_their_new_end(
    running_bot: IncidentBotApp, alice: Person, telegram: FakeBotApi
) -> None:
    await held_alert(running_bot, alice)
    await alice.says("/settings quiet 13:00-17:00")
    db = services_of(running_bot).db
    later = NOW + timedelta(hours=2)
    held = await row_reaches(db, alice.chat_id, lambda row: row.not_before == later)
    assert held.status is OutboxStatus.PENDING
    assert telegram.pending_replies(alice.chat_id) == []


async def test_an_incident_raised_to_severity_5_while_held_is_alerted_at_once(
    running_bot: IncidentBotApp, alice: Person, owner: Person
) -> None:
    incident = await held_alert(running_bot, alice, title="Rockets hit Ain al-Asad")
    await owner.says(f"/edit {incident.id}\nseverity: 5\nkilled: 12")
    alert = await alice.next_reply()
    assert "Rockets hit Ain al-Asad" in alert.text and "12 killed" in alert.text


async def test_an_incident_moved_out_of_the_followed_places_while_held_is_dropped(
    running_bot: IncidentBotApp, alice: Person, owner: Person, telegram: FakeBotApi
) -> None:
    incident = await held_alert(running_bot, alice)
    edited = await owner.says(
        f"/edit {incident.id}\ncountry: Syria\nregion: Homs\nlocation: Al-Tanf Garrison\n"
        "coordinates: 33.50, 38.62"
    )
    assert edited.text.startswith(f"#{incident.id} updated:")
    reason = await dropped_unsent(running_bot, alice, telegram)
    assert reason == "incident no longer matches the subscription"
    stats = await owner.says("/stats")
    assert "1 × incident no longer matches the subscription" in stats.text


async def test_a_held_alert_the_follower_no_longer_wants_is_dropped_at_once(
    running_bot: IncidentBotApp, alice: Person, telegram: FakeBotApi
) -> None:
    """Following Baghdad instead of Anbar: the attack at Ain al-Asad is not theirs now."""
    await held_alert(running_bot, alice)
    await alice.says("/subscribe Baghdad")
    assert await dropped_unsent(running_bot, alice, telegram) == (
        "incident no longer matches the subscription"
    )


async def test_a_correction_waits_for_quiet_hours_like_its_alert(
    running_bot: IncidentBotApp,
    alice: Person,
    owner: Person,
    telegram: FakeBotApi,
    clock: ManualClock,
) -> None:
    await alice.says("/subscribe Anbar")
    incident = await publish(running_bot, title="Rockets hit Ain al-Asad")
    assert "Rockets hit Ain al-Asad" in (await alice.next_reply()).text
    await alice.says("/settings quiet 14:00-16:00")
    await owner.says(f"/edit {incident.id}\ninjured: 9")
    db = services_of(running_bot).db
    held = await row_reaches(
        db, alice.chat_id, lambda row: row.not_before == QUIET_END, OutboxKind.CORRECTION
    )
    assert held.status is OutboxStatus.PENDING
    assert telegram.pending_replies(alice.chat_id) == []

    await end_of_quiet_hours(running_bot, clock)
    correction = await alice.next_reply()
    assert f"#{incident.id}" in correction.text and "injured" in correction.text


async def test_a_correction_of_a_severity_5_incident_goes_through_quiet_hours(
    running_bot: IncidentBotApp, alice: Person, owner: Person
) -> None:
    await alice.says("/subscribe Anbar")
    await alice.says("/settings quiet 14:00-16:00")
    incident = await publish(running_bot, title="Mass-casualty strike", severity=5)
    assert "Mass-casualty strike" in (await alice.next_reply()).text
    await owner.says(f"/retract {incident.id} Wrong base")
    retraction = await alice.next_reply()
    assert f"#{incident.id}" in retraction.text and "Wrong base" in retraction.text
