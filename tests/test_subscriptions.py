"""The subscription rules: what places mean, which values are accepted, what a change stores."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.clock import ManualClock
from bot.models import DigestFrequency, Subscription
from bot.render.subscriptions import Section, subscription_menu
from bot.subscriptions.areas import countries_covered
from bot.subscriptions.service import (
    NotSubscribedError,
    SubscriberChat,
    SubscriptionError,
    SubscriptionService,
    parse_chart,
    parse_clock_time,
    parse_empty_digest,
    parse_quiet_hours,
    parse_timezone,
    places_for_link,
    resolve_places,
)
from handlers.subscriptions import menu_keyboard
from storage.db import Database
from storage.outbox import AlertPlace, matching_subscribers
from storage.subscribers import deactivate, get_subscription, set_digest_times

ALICE = SubscriberChat(id=2001, type="private")
# The conftest clock's "now", Wednesday 15 January 2025 12:00 UTC, is 15:00 in Baghdad.
THURSDAY_EIGHT_BAGHDAD = datetime(2025, 1, 16, 5, 0, tzinfo=UTC)


@pytest.fixture
def service(db: Database, clock: ManualClock) -> SubscriptionService:
    return SubscriptionService(db, clock, "Asia/Baghdad")


# ---------------------------------------------------------------- places


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("Iraq Syria", ["Iraq", "Syria"]),
        ("syria IRAQ", ["Iraq", "Syria"]),
        ("Red Sea/Yemen, saudi arabia", ["Red Sea/Yemen", "Saudi Arabia"]),
        ("red sea gulf", ["Gulf/Iran", "Red Sea"]),  # the sea area, and a region
        ("United Arab Emirates Jordan", ["Jordan", "United Arab Emirates"]),
        ("Jordan Levant", ["Levant"]),
        ("Iraq Iraq", ["Iraq"]),
        ("everywhere", []),
        ("All", []),
    ],
)
def test_places_are_read_whatever_their_case_and_length(text: str, places: list[str]) -> None:
    assert resolve_places(text) == places


def test_unknown_places_are_named_with_the_valid_ones() -> None:
    with pytest.raises(SubscriptionError) as refused:
        resolve_places("Iraq Atlantis, Narnia")
    message = str(refused.value)
    assert message.startswith(
        "I don't know the place Atlantis. Try a region, country, province or base"
    )
    assert "\nI don't know the place Narnia." in message
    for valid in ("Iraq", "Syria", "Levant", "Red Sea/Yemen", "Gulf/Iran", "everywhere", "Oman"):
        assert valid in message


@pytest.mark.parametrize("text", ["everywhere Iraq", "Iraq all", "Anbar, everywhere"])
def test_everywhere_is_named_alone(text: str) -> None:
    # Everywhere holds any place named with it: saying both is asking one of two things.
    with pytest.raises(SubscriptionError, match="Everywhere already holds"):
        resolve_places(text)


def test_only_commas_is_not_a_list_of_places() -> None:
    with pytest.raises(SubscriptionError, match="Name the places"):
        resolve_places(" , ")


def test_regions_expand_to_their_countries_and_countries_stand_for_themselves() -> None:
    assert countries_covered(["Iraq", "Levant"]) == [
        "Iraq",
        "Lebanon",
        "Israel",
        "Palestine",
        "Jordan",
    ]
    assert countries_covered(["Red Sea/Yemen", "Qatar"]) == ["Yemen", "Qatar"]
    assert countries_covered([]) == []


@pytest.mark.parametrize(
    ("payload", "places"),
    [
        ("sub_iraq", ["Iraq"]),
        ("sub_syria", ["Syria"]),
        ("sub_levant", ["Levant"]),
        ("sub_red_sea_yemen", ["Red Sea/Yemen"]),
        ("sub_gulf_iran", ["Gulf/Iran"]),
        ("sub_all", []),
    ],
)
def test_deep_links(payload: str, places: list[str]) -> None:
    assert places_for_link(payload) == places


def test_an_unknown_deep_link_is_refused() -> None:
    with pytest.raises(SubscriptionError, match="That link names no place I know"):
        places_for_link("sub_narnia")


# ---------------------------------------------------------------- typed values


def test_times_of_day() -> None:
    assert parse_clock_time("07:30") == time(7, 30)
    assert parse_clock_time(" 7:05 ") == time(7, 5)
    for bad in ("24:00", "0730", "7.30", "7:5", "noon", ""):
        with pytest.raises(SubscriptionError, match=r"e\.g\. /settings digest_time 07:30"):
            parse_clock_time(bad)


def test_quiet_hours() -> None:
    assert parse_quiet_hours("22:00-07:00") == (time(22), time(7))
    assert parse_quiet_hours("22:30 – 6:00") == (time(22, 30), time(6))
    assert parse_quiet_hours("OFF") is None
    for bad in ("22-7", "22:00", "22:00-25:00", "tonight"):
        with pytest.raises(SubscriptionError, match=r"e\.g\. /settings quiet 22:00-07:00"):
            parse_quiet_hours(bad)
    with pytest.raises(SubscriptionError, match="different times"):
        parse_quiet_hours("10:00-10:00")


def test_timezones_are_iana_names_in_any_case() -> None:
    assert parse_timezone("europe/london") == "Europe/London"
    assert parse_timezone("UTC") == "UTC"
    with pytest.raises(SubscriptionError, match=r"Did you mean Asia/Baghdad\?"):
        parse_timezone("Baghdad")
    with pytest.raises(SubscriptionError, match=r"e\.g\. /settings timezone Europe/London"):
        parse_timezone("Nowhere/Land")


def test_switches() -> None:
    assert parse_empty_digest("skip") is True
    assert parse_empty_digest("Send") is False
    assert parse_chart("on") is True
    assert parse_chart("off") is False
    with pytest.raises(SubscriptionError, match="Say skip or send"):
        parse_empty_digest("maybe")
    with pytest.raises(SubscriptionError, match="Say on or off"):
        parse_chart("yes")


# ---------------------------------------------------------------- the service


async def test_a_new_subscription_has_the_defaults_in_the_bots_timezone(
    service: SubscriptionService, db: Database
) -> None:
    await service.subscribe(ALICE, ["Levant", "Iraq"])
    stored = await get_subscription(db.reader, ALICE.id)
    assert stored is not None
    assert stored.regions == ["Iraq", "Levant"]
    assert stored.min_severity == 3
    assert stored.digest is DigestFrequency.DAILY
    assert stored.digest_time == time(8, 0)
    assert stored.timezone == "Asia/Baghdad"
    assert stored.digest_chart is True
    assert stored.next_digest_at == THURSDAY_EIGHT_BAGHDAD
    assert await matching_subscribers(db.reader, "Jordan", 3) == [ALICE.id]
    assert await matching_subscribers(db.reader, "Iraq", 3) == [ALICE.id]
    assert await matching_subscribers(db.reader, "Syria", 5) == []
    assert await matching_subscribers(db.reader, "Jordan", 2) == []


async def test_everywhere_stores_no_countries_and_matches_all(
    service: SubscriptionService, db: Database
) -> None:
    await service.subscribe(ALICE, ["Iraq"])
    await service.choose_everywhere(ALICE.id)
    assert await matching_subscribers(db.reader, "Oman", 3) == [ALICE.id]


async def test_subscribing_again_changes_the_places_and_keeps_the_rest(
    service: SubscriptionService,
) -> None:
    await service.subscribe(ALICE, ["Iraq"])
    await service.set_min_severity(ALICE.id, 5)
    again = await service.subscribe(ALICE, ["Syria"])
    assert (again.regions, again.min_severity) == (["Syria"], 5)


async def test_only_resolved_place_names_are_stored(service: SubscriptionService) -> None:
    with pytest.raises(SubscriptionError):
        await service.subscribe(ALICE, ["iraq"])
    assert await service.get(ALICE.id) is None


async def test_toggling_places(service: SubscriptionService) -> None:
    await service.subscribe(ALICE, ["Jordan"])
    assert (await service.toggle_place(ALICE.id, "Iraq")).regions == ["Iraq", "Jordan"]
    # Levant covers Jordan, so Jordan on its own goes.
    assert (await service.toggle_place(ALICE.id, "Levant")).regions == ["Iraq", "Levant"]
    assert (await service.toggle_place(ALICE.id, "Iraq")).regions == ["Levant"]
    # The last place unticked leaves none, not everywhere: that is a choice of its own.
    none = await service.toggle_place(ALICE.id, "Levant")
    assert (none.regions, none.everywhere, none.follows_nothing) == ([], False, True)
    with pytest.raises(SubscriptionError):
        await service.toggle_place(ALICE.id, "Atlantis")
    everywhere = await service.choose_everywhere(ALICE.id)
    assert (everywhere.regions, everywhere.everywhere) == ([], True)
    # A place tapped while everywhere is chosen narrows the chat to it.
    iraq = await service.toggle_place(ALICE.id, "Iraq")
    assert (iraq.regions, iraq.everywhere) == (["Iraq"], False)


async def test_everywhere_and_watches_go_together_and_alerts_agree(
    service: SubscriptionService, db: Database
) -> None:
    """Every combination of everywhere, regions and watches: what is stored and shown is
    what alerts match."""
    ain_al_asad = AlertPlace("Iraq", "Anbar", "Ain al-Asad Air Base", 33.8, 42.44)
    baghdad = AlertPlace("Iraq", "Baghdad", "Baghdad", 33.31, 44.36)
    oman = AlertPlace("Oman")

    watching = await service.watch(ALICE, "Ain al-Asad", 30)
    assert (watching.everywhere, watching.regions) == (False, [])
    assert await matching_subscribers(db.reader, ain_al_asad, 3) == [ALICE.id]
    assert await matching_subscribers(db.reader, baghdad, 3) == []

    everywhere = await service.subscribe(ALICE, [])
    assert everywhere.everywhere and [w.site for w in everywhere.watches] == [
        "Ain al-Asad Air Base"
    ]
    for place in (ain_al_asad, baghdad, oman):
        assert await matching_subscribers(db.reader, place, 3) == [ALICE.id]

    iraq = await service.subscribe(ALICE, ["Iraq"])
    assert (iraq.everywhere, iraq.regions) == (False, ["Iraq"])
    assert await matching_subscribers(db.reader, baghdad, 3) == [ALICE.id]
    assert await matching_subscribers(db.reader, oman, 3) == []

    everywhere_again = await service.choose_everywhere(ALICE.id)
    assert (everywhere_again.everywhere, everywhere_again.regions) == (True, [])
    assert await matching_subscribers(db.reader, oman, 3) == [ALICE.id]
    # Everywhere stays when its watch goes.
    left = await service.unwatch(ALICE.id, "Ain al-Asad")
    assert (left.everywhere, left.watches) == (True, [])
    assert await matching_subscribers(db.reader, oman, 3) == [ALICE.id]


async def test_the_last_watch_gone_leaves_no_place_not_everywhere(
    service: SubscriptionService, db: Database
) -> None:
    await service.watch(ALICE, "Ain al-Asad", 30)
    left = await service.unwatch(ALICE.id, "Ain al-Asad")
    assert (left.everywhere, left.regions, left.watches, left.follows_nothing) == (
        False, [], [], True,
    )  # fmt: skip
    stored = await get_subscription(db.reader, ALICE.id)
    assert stored is not None and stored.follows_nothing
    for place in ("Iraq", "Oman"):
        assert await matching_subscribers(db.reader, place, 1) == []


async def test_a_schedule_change_recomputes_the_next_digest_and_keeps_the_last(
    service: SubscriptionService, db: Database
) -> None:
    await service.subscribe(ALICE, [])
    last = datetime(2025, 1, 15, 5, 0, tzinfo=UTC)
    async with db.transaction() as conn:
        await set_digest_times(conn, ALICE.id, last, THURSDAY_EIGHT_BAGHDAD)

    london = await service.set_timezone(ALICE.id, "europe/london")
    assert london.timezone == "Europe/London"
    assert london.next_digest_at == datetime(2025, 1, 16, 8, 0, tzinfo=UTC)
    assert london.last_digest_at == last

    weekly = await service.set_digest(ALICE.id, DigestFrequency.WEEKLY)  # Monday by default
    assert weekly.next_digest_at == datetime(2025, 1, 20, 8, 0, tzinfo=UTC)
    off = await service.set_digest(ALICE.id, DigestFrequency.OFF)
    assert off.next_digest_at is None
    stored = await get_subscription(db.reader, ALICE.id)
    assert stored is not None and stored.next_digest_at is None and stored.last_digest_at == last


async def test_other_changes_leave_the_next_digest_alone(
    service: SubscriptionService, db: Database
) -> None:
    await service.subscribe(ALICE, [])
    agreed = datetime(2025, 1, 16, 6, 0, tzinfo=UTC)  # as the digest dispatcher left it
    async with db.transaction() as conn:
        await set_digest_times(conn, ALICE.id, None, agreed)
    await service.set_min_severity(ALICE.id, None)
    await service.set_quiet_hours(ALICE.id, (time(22), time(7)))
    changed = await service.set_digest_chart(ALICE.id, False)
    assert changed.next_digest_at == agreed
    assert (changed.min_severity, changed.quiet_start, changed.quiet_end) == (
        None,
        time(22),
        time(7),
    )
    assert (await service.set_quiet_hours(ALICE.id, None)).quiet_start is None


async def test_a_chat_that_changes_its_settings_is_reachable_again(
    service: SubscriptionService, db: Database, clock: ManualClock
) -> None:
    await service.subscribe(ALICE, [])
    async with db.transaction() as conn:
        await deactivate(conn, ALICE.id, "bot was blocked by the user", clock.now())
    resumed = await service.set_digest_chart(ALICE.id, False)
    assert resumed.active and resumed.inactive_reason is None
    assert resumed.next_digest_at == THURSDAY_EIGHT_BAGHDAD


async def test_out_of_range_values_are_refused(service: SubscriptionService) -> None:
    await service.subscribe(ALICE, [])
    with pytest.raises(SubscriptionError):
        await service.set_min_severity(ALICE.id, 6)
    with pytest.raises(SubscriptionError):
        await service.set_digest_weekday(ALICE.id, 7)
    with pytest.raises(SubscriptionError):
        await service.set_timezone(ALICE.id, "Mars/Olympus")
    assert await service.get(ALICE.id) == await service.current(ALICE.id)


async def test_settings_need_a_subscription(service: SubscriptionService) -> None:
    with pytest.raises(NotSubscribedError):
        await service.set_digest_chart(ALICE.id, False)
    with pytest.raises(NotSubscribedError):
        await service.current(ALICE.id)
    assert await service.get(ALICE.id) is None


async def test_ensure_subscribed_begins_once(service: SubscriptionService) -> None:
    first = await service.ensure_subscribed(ALICE)
    await service.set_min_severity(ALICE.id, 4)
    again = await service.ensure_subscribed(ALICE)
    assert first.min_severity == 3 and again.min_severity == 4


async def test_unsubscribing_removes_the_subscription_and_its_countries(
    service: SubscriptionService, db: Database
) -> None:
    await service.subscribe(ALICE, ["Iraq"])
    removed = await service.unsubscribe(ALICE.id)
    assert removed is not None and removed.regions == ["Iraq"]
    assert await get_subscription(db.reader, ALICE.id) is None
    async with db.reader.execute("SELECT count(*) FROM subscriber_countries") as cursor:
        row = await cursor.fetchone()
    assert row is not None and row[0] == 0
    assert await service.unsubscribe(ALICE.id) is None


async def test_subscribing_again_resumes_a_paused_subscription(
    service: SubscriptionService, db: Database, clock: ManualClock
) -> None:
    await service.subscribe(ALICE, ["Iraq"])
    async with db.transaction() as conn:
        await deactivate(conn, ALICE.id, "bot was blocked by the user", clock.now())
    resumed = await service.ensure_subscribed(ALICE)
    assert resumed.active and resumed.regions == ["Iraq"]
    assert resumed.next_digest_at == THURSDAY_EIGHT_BAGHDAD


# ---------------------------------------------------------------- the menu


def test_every_button_fits_telegrams_64_bytes_of_callback_data() -> None:
    crowded = Subscription(
        chat_id=1,
        chat_type="supergroup",
        regions=["Red Sea/Yemen", "United Arab Emirates", "Saudi Arabia"],
        digest=DigestFrequency.WEEKLY,
        digest_time=time(7, 30),
        timezone="America/Argentina/ComodRivadavia",  # the longest IANA name
    )
    for section in (None, *Section):
        for row in menu_keyboard(subscription_menu(crowded, section)).inline_keyboard:
            for button in row:
                assert button.callback_data is not None
                assert len(str(button.callback_data).encode()) <= 64


def test_a_custom_time_and_timezone_show_among_the_buttons_ticked() -> None:
    custom = Subscription(
        chat_id=1, chat_type="private", digest_time=time(7, 30), timezone="Europe/Paris"
    )
    digest = subscription_menu(custom, Section.DIGEST)
    assert ("✅ 07:30", "at:07:30") in digest.buttons[-2]
    more = subscription_menu(custom, Section.MORE)
    assert ("✅ Europe/Paris", "tz:Europe/Paris") in [b for row in more.buttons for b in row]
