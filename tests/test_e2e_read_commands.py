"""A reader's conversation with the bot, end to end through the fake Bot API."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot.commands import ADMIN_COMMANDS, PUBLIC_COMMANDS
from bot.context import IncidentBotApp
from bot.errors import UserError
from bot.sandbox.fake_api import FakeBotApi
from storage.incidents import insert_incident
from tests.factories import incident_content
from tests.people import Person

pytestmark = pytest.mark.usefixtures("running_bot")


async def test_the_command_menu_is_registered_on_start(telegram: FakeBotApi) -> None:
    names = [command["command"] for command in telegram.my_commands()]
    assert names == [command.name for command in PUBLIC_COMMANDS]


async def test_start_and_help(alice: Person) -> None:
    welcome = await alice.says("/start")
    assert "security incidents" in welcome.text
    help_text = (await alice.says("/help")).text
    for command in PUBLIC_COMMANDS:
        assert f"/{command.name}" in help_text
    assert "/post" not in help_text and "admin" not in help_text


async def test_help_shows_admins_their_commands(owner: Person) -> None:
    help_text = (await owner.says("/help")).text
    assert "For you as an admin" in help_text
    for command in ADMIN_COMMANDS:
        assert f"/{command.name}" in help_text


async def test_latest_shows_the_five_newest_with_an_older_button(alice: Person) -> None:
    reply = await alice.says("/latest")
    assert reply.text.count("#") >= 5
    first_line_of_first = reply.text.splitlines()[2]
    assert "9 Aug 2024" in first_line_of_first and "Rumalyn" in first_line_of_first
    assert "Rockets strike Ain al-Asad Air Base — at least 5 injured" in reply.text
    older = await alice.presses(reply, "Older ▸")
    assert "Rumalyn" not in older.text.splitlines()[2]
    assert "Green Village" in older.text or "Tower 22" in older.text
    assert set(_ids(reply.text)).isdisjoint(_ids(older.text))


async def test_latest_with_count_and_place(alice: Person) -> None:
    reply = await alice.says("/latest 3 Syria")
    lines = [line for line in reply.text.splitlines() if line.startswith("#")]
    assert len(lines) == 3 and all(line.endswith("Syria") for line in lines)
    levant = await alice.says("/latest levant")
    assert "Tower 22" in levant.text and "Iraq" not in levant.text


async def test_latest_refuses_bad_arguments_with_a_useful_answer(alice: Person) -> None:
    reply = await alice.says("/latest 500")
    assert reply.text == "I can show 1 to 20 incidents at a time, e.g. /latest 10"
    nowhere = await alice.says("/latest Atlantis")
    assert nowhere.text.startswith("I don't know the place Atlantis. Try a region, country")


async def test_latest_suggests_the_place_a_misspelling_resembles(alice: Person) -> None:
    reply = await alice.says("/latest Irak")
    assert reply.text == "I don't know the place Irak — did you mean Iraq?"
    search = await alice.says("/search Irak")
    assert search.text == "Nothing matches “Irak”. I don't know the place Irak — did you mean Iraq?"


async def test_latest_takes_its_count_after_the_place_too(alice: Person) -> None:
    reply = await alice.says("/latest Iraq 3")
    lines = [line for line in reply.text.splitlines() if line.startswith("#")]
    assert reply.text.startswith("Latest incidents in Iraq")
    assert len(lines) == 3 and all(line.endswith("Iraq") for line in lines)


async def test_latest_reads_acled_spellings_as_the_places_they_name(alice: Person) -> None:
    reply = await alice.says("/latest 2 Ain al Asad Airbase")
    assert reply.text.startswith("Latest incidents in Ain al-Asad Air Base")
    lines = [line for line in reply.text.splitlines() if line.startswith("#")]
    assert len(lines) == 2 and all("Ain al-Asad Air Base, Anbar, Iraq" in line for line in lines)
    province = await alice.says("/latest Al Anbar")
    assert province.text.startswith("Latest incidents in Anbar Governorate")


async def test_incident_card_from_the_seed_article(alice: Person) -> None:
    listing = await alice.says("/search Ain al-Asad rockets")
    line = next(line for line in listing.text.splitlines() if "5 Aug 2024" in line)
    incident_id = line.split()[0].lstrip("#")
    card = await alice.says(f"/incident {incident_id}")
    assert card.text.startswith("Rockets strike Ain al-Asad Air Base")
    assert "When: 5 Aug 2024, 21:00 +03" in card.text  # 18:00 UTC shown in Baghdad time
    assert "Where: Ain al-Asad Air Base, Anbar, Iraq" in card.text
    assert "Casualties: at least 5 injured" in card.text
    assert "Claimed by: no group has claimed" in card.text
    assert "Status: reported, not confirmed" in card.text
    assert any(entity.type == "text_link" for entity in card.entities)


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/incident", "Give the number of one incident, e.g. /incident 12"),
        ("/incident abc", "Give the number of one incident, e.g. /incident 12"),
        ("/incident 99999", "There is no incident #99999. /latest lists recent ones."),
        ("/search", "Tell me what to look for, e.g. /search rockets in Anbar"),
        ("/frobnicate", "I don't know /frobnicate. /help lists what I can do."),
        (
            "/latest@some_other_bot 2",
            "/latest@some_other_bot is addressed to another bot. To ask me, send /latest.",
        ),
        ("hello", "I answer commands. Try /latest, or /help for the full list."),
    ],
)
async def test_wrong_use_gets_one_clear_answer(alice: Person, command: str, answer: str) -> None:
    reply = await alice.says(command)
    assert reply.text == answer
    assert alice.api.pending_replies(alice.chat_id) == []


async def test_search_finds_by_word_prefix_and_says_when_nothing_matches(alice: Person) -> None:
    found = await alice.says("/search tow")
    assert "Tower 22" in found.text
    nothing = await alice.says("/search <zzz> & qqq")
    assert nothing.text == "Nothing matches “<zzz> & qqq”. Try fewer or other words."


async def test_troops_shows_figures_and_the_change(alice: Person) -> None:
    reply = await alice.says("/troops")
    assert "United States in Iraq: about 2,500 troops" in reply.text
    assert "United States in Syria: about 2,000 troops" in reply.text
    # An estimate then a disclosure that it was too low: no change can be computed.
    assert "about 900 (reported, Aug 2024) → about 2,000 (disclosure, Dec 2024)" in reply.text
    assert "up 1,100" not in reply.text
    only_syria = await alice.says("/troops syria")
    assert "Iraq" not in only_syria.text
    misspelt = await alice.says("/troops Irak")
    assert misspelt.text == "I don't know the place Irak — did you mean Iraq?"
    unknown = await alice.says("/troops Narnia")
    assert unknown.text == (
        "I don't know the place Narnia. Try a region or country, e.g. Levant or Iraq."
    )
    province = await alice.says("/troops Anbar")
    assert province.text == "Anbar is in Iraq; choose its country (Iraq) or region here."
    # A region: its countries' figures, and no other.
    levant = await alice.says("/troops Levant")
    assert "United States in Jordan" in levant.text, levant.text
    assert "Iraq" not in levant.text and "Syria" not in levant.text
    # A country the record has no figures for is known, and quiet.
    quiet = await alice.says("/troops Lebanon")
    assert quiet.text == "No troop figures recorded for Lebanon. Try /troops alone."


async def test_a_failure_inside_a_handler_reaches_the_user_without_internals(
    alice: Person, running_bot: IncidentBotApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = running_bot.bot_data["services"]

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(services.incidents, "latest", broken)
    reply = await alice.says("/latest")
    assert reply.text.startswith("Sorry, something went wrong on my side")
    assert "secret internal detail" not in reply.text


async def test_any_user_error_is_answered_with_its_text_without_being_registered(
    alice: Person,
    running_bot: IncidentBotApp,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    class NoSuchPageError(UserError):
        """A refusal the error handler has never heard of."""

    services = running_bot.bot_data["services"]

    async def refuses(*args: object, **kwargs: object) -> None:
        raise NoSuchPageError("There is no page 7 <yet>; /latest shows the first.")

    monkeypatch.setattr(services.incidents, "latest", refuses)
    with caplog.at_level(logging.ERROR):
        reply = await alice.says("/latest")
    assert reply.text == "There is no page 7 <yet>; /latest shows the first."
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_a_bug_is_logged_with_its_traceback(
    alice: Person,
    running_bot: IncidentBotApp,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    services = running_bot.bot_data["services"]

    async def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a bad value is a bug unless it is a UserError")

    monkeypatch.setattr(services.incidents, "latest", broken)
    with caplog.at_level(logging.ERROR):
        reply = await alice.says("/latest")
    assert reply.text.startswith("Sorry, something went wrong on my side")
    [logged] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert logged.exc_info is not None and isinstance(logged.exc_info[1], ValueError)


def _ids(text: str) -> list[str]:
    return [line.split()[0] for line in text.splitlines() if line.startswith("#")]


async def test_a_listing_over_4096_characters_arrives_in_pieces_with_the_button_last(
    alice: Person, running_bot: IncidentBotApp
) -> None:
    services = running_bot.bot_data["services"]
    async with services.db.transaction() as conn:
        for n in range(25):
            title = f"Long report {n} " + "with many words & details " * 10
            draft = incident_content(
                title=title.strip(), occurred_at=datetime(2025, 1, 1, tzinfo=UTC)
            )
            await insert_incident(conn, draft, services.clock.now())
    alice.api.send_message(alice.user, "/latest 20")
    first = await alice.next_reply()
    second = await alice.next_reply()
    assert first.reply_markup is None and second.button_texts == ["Older ▸"]
    assert first.text.count("Long report") + second.text.count("Long report") == 20
    assert len(first.text) <= 4096 and len(second.text) <= 4096
