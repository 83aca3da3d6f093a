"""Choosing what to hear about, end to end through the fake Bot API."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pytest

from bot.context import IncidentBotApp, services_of
from bot.models import DigestFrequency, Subscription
from bot.places import gazetteer
from bot.sandbox.fake_api import FakeBotApi, FakeChat, SentMessage
from bot.subscriptions.service import SubscriberChat, resolve_places
from handlers.subscriptions import NOT_ADMIN
from storage.outbox import matching_subscribers
from storage.subscribers import get_subscription
from tests.people import Person
from tests.test_long_and_double import everything_said

pytestmark = pytest.mark.usefixtures("running_bot")

# The clock stands at Wednesday 15 January 2025, 12:00 UTC: 15:00 in Baghdad, the bot's zone.
WEDNESDAY_18_BAGHDAD = datetime(2025, 1, 15, 15, 0, tzinfo=UTC)
THURSDAY_08_BAGHDAD = datetime(2025, 1, 16, 5, 0, tzinfo=UTC)


async def stored(app: IncidentBotApp, chat_id: int) -> Subscription | None:
    return await get_subscription(services_of(app).db.reader, chat_id)


async def press_and_read_answer(
    telegram: FakeBotApi, person: Person, message: SentMessage, button: str
) -> dict[str, Any]:
    """Press a button and return how the bot answered the callback query."""
    query_id = telegram.press_button(person.user, message, button)
    while True:
        answer = await telegram.wait_for_request("answerCallbackQuery")
        if answer["callback_query_id"] == query_id:
            return answer


async def test_alice_chooses_everything_from_the_menu(
    alice: Person, telegram: FakeBotApi, running_bot: IncidentBotApp
) -> None:
    menu = await alice.says("/subscribe")
    assert "Your subscription" in menu.text and "each tap is saved" in menu.text
    assert "Places: everywhere" in menu.text
    for button in ("Iraq", "Syria"):
        menu = await alice.presses(menu, button)
    assert "Places: Iraq, Syria" in menu.text
    assert {"✅ Iraq", "✅ Syria", "Levant", "🌍 Everywhere"} <= set(menu.button_texts)

    menu = await alice.presses(menu, "🔔 Alerts")
    menu = await alice.presses(menu, "4+")
    assert "Instant alerts: severity 4 and above" in menu.text
    menu = await alice.presses(menu, "🗞 Digest")
    menu = await alice.presses(menu, "Weekly")
    menu = await alice.presses(menu, "Wed")
    menu = await alice.presses(menu, "18:00")
    assert "Digest: weekly on Wednesday at 18:00" in menu.text
    assert menu.method == "editMessageText"

    done = await alice.presses(menu, "✔️ Done")
    assert done.message_id == menu.message_id and done.reply_markup is None
    assert "Places: Iraq, Syria" in done.text
    assert "next: 15 Jan 2025, 18:00 +03" in done.text
    assert "/unsubscribe" in done.text

    subscription = await stored(running_bot, alice.chat_id)
    assert subscription is not None
    assert subscription.regions == ["Iraq", "Syria"]
    assert subscription.min_severity == 4
    assert subscription.digest is DigestFrequency.WEEKLY
    assert subscription.digest_weekday == 2
    assert subscription.digest_time == time(18, 0)
    assert subscription.timezone == "Asia/Baghdad"
    assert subscription.next_digest_at == WEDNESDAY_18_BAGHDAD
    assert len(telegram.callback_answers) == 9  # every press was answered
    assert telegram.errors == []


async def test_a_tap_that_changes_nothing_is_answered_without_an_edit(
    alice: Person, telegram: FakeBotApi
) -> None:
    menu = await alice.says("/subscribe")
    menu = await alice.presses(menu, "🔔 Alerts")
    answer = await press_and_read_answer(telegram, alice, menu, "✅ 3+")
    assert "text" not in answer
    answer = await press_and_read_answer(telegram, alice, menu, "▸ 🔔 Alerts")
    assert "text" not in answer
    assert telegram.pending_replies(alice.chat_id) == []
    assert telegram.errors == []


async def test_a_menu_already_showing_the_result_of_a_tap_is_not_edited(
    alice: Person, telegram: FakeBotApi, running_bot: IncidentBotApp
) -> None:
    first = await alice.says("/subscribe")
    second = await alice.says("/subscribe")
    await alice.presses(first, "Iraq")
    # `second` still shows everywhere, which is what this tap brings back.
    await press_and_read_answer(telegram, alice, second, "✅ 🌍 Everywhere")
    subscription = await stored(running_bot, alice.chat_id)
    assert subscription is not None and subscription.regions == []
    assert telegram.pending_replies(alice.chat_id) == []
    assert telegram.errors == []


async def test_quick_form(alice: Person, running_bot: IncidentBotApp) -> None:
    reply = await alice.says("/subscribe iraq, Gulf/Iran")
    assert reply.text.startswith("✅ Subscribed.")
    assert "Places: Iraq, Gulf/Iran" in reply.text
    assert "Instant alerts: severity 3 and above" in reply.text
    assert "Digest: daily at 08:00" in reply.text
    db = services_of(running_bot).db
    assert await matching_subscribers(db.reader, "Qatar", 3) == [alice.chat_id]
    assert await matching_subscribers(db.reader, "Syria", 5) == []


async def test_unknown_places_are_refused_and_nothing_is_stored(
    alice: Person, running_bot: IncidentBotApp
) -> None:
    reply = await alice.says("/subscribe Iraq Atlantis")
    assert reply.text.startswith("I don't know the place Atlantis.")
    assert "\nChoose from Iraq, Syria, Levant" in reply.text
    misspelt = await alice.says("/subscribe Irak")
    assert misspelt.text.startswith("I don't know the place Irak — did you mean Iraq?")
    assert await stored(running_bot, alice.chat_id) is None
    await alice.says("/subscribe Syria")
    await alice.says("/subscribe Narnia")
    subscription = await stored(running_bot, alice.chat_id)
    assert subscription is not None and subscription.regions == ["Syria"]


async def test_a_deep_link_subscribes_in_one_tap(
    alice: Person, running_bot: IncidentBotApp
) -> None:
    reply = await alice.says("/start sub_red_sea_yemen")
    assert reply.text.startswith("✅ Subscribed.")
    assert "Places: Red Sea/Yemen" in reply.text
    subscription = await stored(running_bot, alice.chat_id)
    assert subscription is not None
    assert (subscription.regions, subscription.min_severity) == (["Red Sea/Yemen"], 3)
    assert subscription.next_digest_at == THURSDAY_08_BAGHDAD
    unknown = await alice.says("/start sub_atlantis")
    assert unknown.text == "That link names no place I know. /subscribe shows the choices."


async def test_settings_timezone(alice: Person, running_bot: IncidentBotApp) -> None:
    await alice.says("/subscribe Iraq")
    saved = await alice.says("/settings timezone europe/london")
    assert saved.text.startswith("✅ Saved.")
    assert "Time zone: Europe/London" in saved.text
    assert "next: 16 Jan 2025, 08:00 GMT" in saved.text
    subscription = await stored(running_bot, alice.chat_id)
    assert subscription is not None and subscription.timezone == "Europe/London"
    assert subscription.next_digest_at == datetime(2025, 1, 16, 8, 0, tzinfo=UTC)

    refused = await alice.says("/settings timezone Baghdad")
    assert refused.text == (
        "I don't know the time zone “Baghdad”. Did you mean Asia/Baghdad? "
        "Use the IANA name of a place (Area/City), e.g. /settings timezone Europe/London, or UTC"
    )
    assert await stored(running_bot, alice.chat_id) == subscription


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        # The server's own zone, whatever it is, shown as UTC.
        ("localtime", "I don't know the time zone “localtime”."),
        ("Factory", "I don't know the time zone “Factory”."),
        ("EST", "I don't know the time zone “EST”."),
        # POSIX names count west as positive: the reverse of what they seem.
        ("Etc/GMT+3", "“Etc/GMT+3” is UTC\N{MINUS SIGN}3: in these Etc names the sign is"),
        ("UTC+3", "“UTC+3” is a fixed offset, not a time zone."),
    ],
)
async def test_only_place_zones_and_utc_are_taken(
    alice: Person, running_bot: IncidentBotApp, typed: str, answer: str
) -> None:
    await alice.says("/subscribe Iraq")
    before = await stored(running_bot, alice.chat_id)
    refused = await alice.says(f"/settings timezone {typed}")
    assert refused.text.startswith(answer)
    assert "/settings timezone" in refused.text
    assert await stored(running_bot, alice.chat_id) == before
    utc = await alice.says("/settings timezone gmt")
    assert "Time zone: UTC" in utc.text


async def test_timezone_from_the_buttons(alice: Person, running_bot: IncidentBotApp) -> None:
    menu = await alice.says("/subscribe")
    menu = await alice.presses(menu, "⚙️ More")
    menu = await alice.presses(menu, "New York")
    assert "Time zone: America/New_York" in menu.text and "✅ New York" in menu.button_texts
    subscription = await stored(running_bot, alice.chat_id)
    assert subscription is not None
    assert subscription.next_digest_at == datetime(2025, 1, 15, 13, 0, tzinfo=UTC)  # 08:00 EST


async def test_quiet_hours(alice: Person, running_bot: IncidentBotApp) -> None:
    await alice.says("/subscribe")
    saved = await alice.says("/settings quiet 22:00-07:00")
    assert "Quiet hours: 22:00–07:00; alerts below severity 5 wait until they end" in saved.text
    subscription = await stored(running_bot, alice.chat_id)
    assert subscription is not None
    assert (subscription.quiet_start, subscription.quiet_end) == (time(22), time(7))

    bad = await alice.says("/settings quiet late")
    assert bad.text == (
        "Give quiet hours as start-end on a 24-hour clock, e.g. /settings quiet 22:00-07:00, "
        "or /settings quiet off"
    )
    assert await stored(running_bot, alice.chat_id) == subscription

    off = await alice.says("/settings quiet off")
    assert "Quiet hours: none" in off.text
    subscription = await stored(running_bot, alice.chat_id)
    assert subscription is not None and subscription.quiet_start is None


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        (
            "/settings colour blue",
            "I can change timezone, digest_time, quiet, empty_digest, chart, alerts_on, "
            "e.g. /settings quiet 22:00-07:00. /settings alone shows everything, with buttons.",
        ),
        ("/settings quiet", "Give the new value, e.g. /settings quiet 22:00-07:00"),
        (
            "/settings digest_time 25:00",
            "Give the time as HH:MM on a 24-hour clock, e.g. /settings digest_time 07:30",
        ),
        ("/settings chart maybe", "Say on or off, e.g. /settings chart off"),
        ("/settings empty_digest never", "Say skip or send, e.g. /settings empty_digest skip"),
        (
            "/settings alerts_on everything",
            "Say which incidents alert: attacks (on US/coalition forces), strikes (by them), "
            "other, or all — e.g. /settings alerts_on attacks strikes other",
        ),
    ],
)
async def test_bad_settings_get_one_clear_answer_and_change_nothing(
    alice: Person, running_bot: IncidentBotApp, command: str, answer: str
) -> None:
    await alice.says("/subscribe Iraq")
    before = await stored(running_bot, alice.chat_id)
    reply = await alice.says(command)
    assert reply.text == answer
    assert alice.api.pending_replies(alice.chat_id) == []
    assert await stored(running_bot, alice.chat_id) == before


async def test_the_other_typed_settings(alice: Person, running_bot: IncidentBotApp) -> None:
    await alice.says("/subscribe Iraq")
    await alice.says("/settings digest_time 7:30")
    await alice.says("/settings empty_digest skip")
    shown = await alice.says("/settings chart off")
    assert "daily at 07:30" in shown.text and "chart off, empty digests skipped" in shown.text
    subscription = await stored(running_bot, alice.chat_id)
    assert subscription is not None
    assert subscription.digest_time == time(7, 30)
    assert subscription.next_digest_at == datetime(2025, 1, 16, 4, 30, tzinfo=UTC)
    assert subscription.skip_empty_digest and not subscription.digest_chart


async def test_settings_shows_the_choices_with_buttons(alice: Person) -> None:
    missing = await alice.says("/settings")
    assert missing.text == "Not subscribed yet: /subscribe starts alerts and digests."
    await alice.says("/subscribe Levant")
    shown = await alice.says("/settings")
    assert "Places: Levant" in shown.text and "/settings quiet 22:00-07:00" in shown.text
    assert shown.button_texts == ["📍 Places", "🔔 Alerts", "🗞 Digest", "⚙️ More", "✔️ Done"]
    places = await alice.presses(shown, "📍 Places")
    assert "✅ Levant" in places.button_texts and "▸ 📍 Places" in places.button_texts


async def test_unsubscribe_stops_everything_and_says_how_to_come_back(
    alice: Person, running_bot: IncidentBotApp
) -> None:
    await alice.says("/subscribe Iraq Syria")
    reply = await alice.says("/unsubscribe")
    assert reply.text.startswith("Unsubscribed. No more alerts or digests here.")
    assert "/subscribe Iraq, Syria follows the same places again" in reply.text
    links = [entity.url for entity in reply.entities if entity.type == "text_link"]
    assert links == ["https://t.me/incident_test_bot?start=sub_all"]
    assert await stored(running_bot, alice.chat_id) is None
    db = services_of(running_bot).db
    assert await matching_subscribers(db.reader, "Iraq", 5) == []

    again = await alice.says("/unsubscribe")
    assert again.text == "This chat was not subscribed. /subscribe starts alerts and digests."


async def test_a_menu_left_open_after_unsubscribing_does_not_resubscribe(
    alice: Person, telegram: FakeBotApi, running_bot: IncidentBotApp
) -> None:
    menu = await alice.says("/subscribe")
    await alice.says("/unsubscribe")
    answer = await press_and_read_answer(telegram, alice, menu, "Iraq")
    assert answer["text"] == "Not subscribed yet: /subscribe starts alerts and digests."
    assert await stored(running_bot, alice.chat_id) is None


# The bot paces what it sends to a group to Telegram's 20 messages a minute, so a reply
# there may take several seconds.
GROUP_REPLY_TIMEOUT = 20.0


@pytest.fixture
def newsroom(telegram: FakeBotApi, alice: Person, bob: Person) -> FakeChat:
    """A group run by Bob, where Alice is a member."""
    return telegram.add_group("Newsroom", admins=[bob.user], members=[alice.user])


async def says_in(group: FakeChat, person: Person, text: str) -> SentMessage:
    person.api.send_message(person.user, text, chat=group)
    return await person.api.next_reply(group.id, timeout=GROUP_REPLY_TIMEOUT)


async def test_a_group_member_who_is_not_an_administrator_is_refused(
    alice: Person, newsroom: FakeChat, running_bot: IncidentBotApp
) -> None:
    refused = await says_in(newsroom, alice, "/subscribe Iraq")
    assert refused.text == NOT_ADMIN
    assert await stored(running_bot, newsroom.id) is None


async def test_a_group_administrator_subscribes_the_group(
    bob: Person, newsroom: FakeChat, running_bot: IncidentBotApp
) -> None:
    reply = await says_in(newsroom, bob, "/subscribe Syria Levant")
    assert reply.text.startswith("✅ Subscribed.")
    subscription = await stored(running_bot, newsroom.id)
    assert subscription is not None
    assert (subscription.chat_type, subscription.regions) == ("supergroup", ["Syria", "Levant"])


async def test_only_administrators_buttons_work_in_a_group(
    alice: Person,
    bob: Person,
    telegram: FakeBotApi,
    newsroom: FakeChat,
    running_bot: IncidentBotApp,
) -> None:
    menu = await says_in(newsroom, bob, "/subscribe")
    assert "This chat's subscription" in menu.text

    answer = await press_and_read_answer(telegram, alice, menu, "Iraq")
    assert answer["text"] == NOT_ADMIN
    assert telegram.pending_replies(newsroom.id) == []
    subscription = await stored(running_bot, newsroom.id)
    assert subscription is not None and subscription.regions == []

    telegram.press_button(bob.user, menu, "Iraq")
    menu = await telegram.next_reply(newsroom.id, timeout=GROUP_REPLY_TIMEOUT)
    assert "Places: Iraq" in menu.text


async def test_group_members_may_look_but_not_unsubscribe(
    alice: Person, bob: Person, newsroom: FakeChat, running_bot: IncidentBotApp
) -> None:
    await says_in(newsroom, bob, "/subscribe Iraq")
    assert (await says_in(newsroom, alice, "/unsubscribe")).text == NOT_ADMIN
    assert "Places: Iraq" in (await says_in(newsroom, alice, "/settings")).text
    assert await stored(running_bot, newsroom.id) is not None


async def test_only_group_administrators_send_the_group_digest_and_not_over_and_over(
    alice: Person, bob: Person, newsroom: FakeChat, running_bot: IncidentBotApp
) -> None:
    await says_in(newsroom, bob, "/subscribe Syria")
    refused = await says_in(newsroom, alice, "/digest")
    assert refused.text == "Only this group's administrators can send its digest."
    subscription = await stored(running_bot, newsroom.id)
    assert subscription is not None and subscription.last_digest_at is None

    digest = await says_in(newsroom, bob, "/digest")
    assert digest.text.startswith("📰 Daily digest")
    window_start = (await stored(running_bot, newsroom.id)).last_digest_at  # type: ignore[union-attr]
    again = await says_in(newsroom, bob, "/digest")
    assert again.text.startswith("A digest went to this chat less than 10 minutes ago.")
    assert (await stored(running_bot, newsroom.id)).last_digest_at == window_start  # type: ignore[union-attr]


async def test_a_menu_too_long_for_one_message_goes_on_below_and_its_buttons_work(
    alice: Person, telegram: FakeBotApi, running_bot: IncidentBotApp
) -> None:
    service = services_of(running_bot).subscriptions
    chat = SubscriberChat(alice.chat_id, "private")
    every_place = ", ".join(p.name for p in gazetteer().places if p.kind != "country")
    await service.subscribe(chat, resolve_places(every_place))
    for site in [place.name for place in gazetteer().places if place.is_site]:
        await service.watch(chat, site, 30)
    overview = [
        await alice.says("/settings"),
        *await everything_said(running_bot, telegram, alice.chat_id),
    ]
    assert len(overview) > 1, "the menu fits in one message: make the case longer"

    telegram.press_button(alice.user, overview[-1], "🔔 Alerts")
    alerts = await everything_said(running_bot, telegram, alice.chat_id)
    assert alerts[0].method == "editMessageText" and alerts[0].reply_markup is None
    assert alerts[0].message_id == overview[-1].message_id
    assert alerts[-1].method == "sendMessage" and "4+" in alerts[-1].button_texts
    telegram.press_button(alice.user, alerts[-1], "4+")
    saved = await everything_said(running_bot, telegram, alice.chat_id)
    assert "Instant alerts: severity 4 and above" in "".join(m.text for m in saved)
    subscription = await stored(running_bot, alice.chat_id)
    assert subscription is not None and subscription.min_severity == 4
    assert [e for e in telegram.errors if "too long" in str(e[2])] == []


async def test_a_family_that_stops_watching_its_only_base_hears_nothing_and_is_told(
    alice: Person, running_bot: IncidentBotApp
) -> None:
    db = services_of(running_bot).db
    await alice.says("/watch Ain al-Asad 30 km")
    assert await matching_subscribers(db.reader, "Syria", 3) == []
    reply = await alice.says("/unwatch Ain al-Asad")
    assert "Places: none" in reply.text and "Watching" not in reply.text
    assert "no alerts or digests come" in reply.text
    assert "/subscribe everywhere" in reply.text and "/unsubscribe" in reply.text
    # Not everywhere: no alert of any place reaches the chat, and no digest.
    for country in ("Iraq", "Syria", "Oman"):
        assert await matching_subscribers(db.reader, country, 1) == []
    digest = await alice.says("/digest")
    assert digest.text.startswith("This chat follows no place")
    menu = await alice.says("/settings")
    assert "Places: none" in menu.text
    menu = await alice.presses(menu, "📍 Places")
    assert "🌍 Everywhere" in menu.button_texts  # not ticked


async def test_a_chat_that_watches_a_base_can_choose_everywhere(
    alice: Person, running_bot: IncidentBotApp
) -> None:
    db = services_of(running_bot).db
    await alice.says("/watch Ain al-Asad 30 km")
    reply = await alice.says("/subscribe everywhere")
    assert "Places: everywhere" in reply.text
    assert "Watching: Ain al-Asad Air Base (30 km)" in reply.text
    assert await matching_subscribers(db.reader, "Oman", 3) == [alice.chat_id]

    menu = await alice.says("/subscribe")
    assert "Places: everywhere" in menu.text and "✅ 🌍 Everywhere" in menu.button_texts
    menu = await alice.presses(menu, "Iraq")
    assert "Places: Iraq" in menu.text
    assert {"✅ Iraq", "🌍 Everywhere"} <= set(menu.button_texts)
    assert await matching_subscribers(db.reader, "Oman", 3) == []
    menu = await alice.presses(menu, "✅ Iraq")
    # Nothing ticked is the watched site only, as the summary says.
    assert "Places: only the sites watched" in menu.text
    assert "🌍 Everywhere" in menu.button_texts
    menu = await alice.presses(menu, "🌍 Everywhere")
    assert "Places: everywhere" in menu.text and "✅ 🌍 Everywhere" in menu.button_texts
    assert await matching_subscribers(db.reader, "Oman", 3) == [alice.chat_id]

    await alice.says("/subscribe Syria")
    linked = await alice.says("/start sub_all")
    assert "Places: everywhere" in linked.text
    both = await alice.says("/subscribe everywhere Iraq")
    assert both.text.startswith("Everywhere already holds Iraq:")
    subscription = await stored(running_bot, alice.chat_id)
    assert subscription is not None and subscription.everywhere and subscription.regions == []


async def test_the_first_digest_does_not_speak_of_a_previous_one(alice: Person) -> None:
    await alice.says("/subscribe Oman")  # the sample holds nothing in Oman
    first = await alice.says("/digest")
    assert first.text.splitlines()[1] == "Nothing new in the past day."


@pytest.mark.parametrize(
    "radius", ["0.001 km", "0.5 km", "0 km", "-5 km", "\N{MINUS SIGN}5 km", "201 km", "30 miles"]
)
async def test_a_watch_radius_outside_1_to_200_km_is_refused_as_a_radius(
    alice: Person, running_bot: IncidentBotApp, radius: str
) -> None:
    await alice.says("/watch Ain al-Asad 30 km")
    before = await stored(running_bot, alice.chat_id)
    refused = await alice.says(f"/watch Ain al-Asad {radius}")
    assert refused.text == "Give a radius from 1 to 200 km, e.g. /watch Ain al-Asad 30 km"
    assert await stored(running_bot, alice.chat_id) == before
    smallest = await alice.says("/watch Ain al-Asad 1 km")
    assert "Watching: Ain al-Asad Air Base (1 km)" in smallest.text
