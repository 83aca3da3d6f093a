"""Subscriptions: which chats hear about which places, how soon and how often.

A subscriber is a chat. Its places are kept as chosen (regions or single
countries, so they can be shown back as the user named them) together with the
countries they cover, which is what alerts are matched on. A change that moves
the digest schedule recomputes when the next digest is due; nothing here touches
what the previous digest covered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import time
from functools import cache
from typing import Any
from zoneinfo import available_timezones

import aiosqlite

from bot.clock import Clock
from bot.errors import UserError
from bot.models import (
    DEFAULT_SITE_RADIUS_KM,
    MAX_WATCH_RADIUS_KM,
    MIN_WATCH_RADIUS_KM,
    DigestFrequency,
    Direction,
    Subscription,
    Watch,
)
from bot.places import UnknownPlace, did_you_mean, gazetteer
from bot.regions import REGIONS
from bot.subscriptions.areas import (
    coverage,
    longest_name_words,
    order_key,
    place_named,
    site_named,
    suggestions,
)
from bot.subscriptions.migration import follow_migration
from bot.subscriptions.schedule import next_digest_time
from storage.db import Database
from storage.outbox import release_held
from storage.subscribers import delete_subscription, get_subscription, save_subscription

DEEP_LINK_PREFIX = "sub_"
EVERYWHERE_LINK = f"{DEEP_LINK_PREFIX}all"
EVERYWHERE_WORDS = frozenset({"everywhere", "all"})

_COUNTRIES: tuple[str, ...] = tuple(
    dict.fromkeys(country for countries in REGIONS.values() for country in countries)
)
_LONGEST_NAME = longest_name_words()
_CLOCK_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_DASHES = str.maketrans({"–": "-", "—": "-"})
_SHOWN_CHARS = 40

PLACES_HELP = (
    f"Choose from {', '.join(REGIONS)} or everywhere, one of their countries "
    f"({', '.join(country for country in _COUNTRIES if country not in REGIONS)}), "
    "a province such as Anbar, or a base or town such as Ain al-Asad."
)
RADIUS_USAGE = (
    f"Give a radius from {MIN_WATCH_RADIUS_KM:g} to {MAX_WATCH_RADIUS_KM:g} km, "
    "e.g. /watch Ain al-Asad 30 km"
)
NOT_SUBSCRIBED = "Not subscribed yet: /subscribe starts alerts and digests."
DIGEST_TIME_USAGE = "Give the time as HH:MM on a 24-hour clock, e.g. /settings digest_time 07:30"
QUIET_USAGE = (
    "Give quiet hours as start-end on a 24-hour clock, e.g. /settings quiet 22:00-07:00, "
    "or /settings quiet off"
)


class SubscriptionError(UserError, ValueError):
    """A choice that cannot be saved, worded to say what would work."""


class NotSubscribedError(SubscriptionError):
    def __init__(self) -> None:
        super().__init__(NOT_SUBSCRIBED)


@dataclass(frozen=True)
class SubscriberChat:
    """The chat a subscription belongs to, as Telegram describes it."""

    id: int
    type: str


# ---------------------------------------------------------------- places


def resolve_places(text: str) -> list[str]:
    """The places named in `text` ("Iraq Syria", "Red Sea/Yemen, Saudi Arabia", "Anbar",
    "Ain al-Asad"): regions, countries, provinces or sites.

    [] means everywhere, which is named alone: everywhere already holds any place named
    with it. Names may run over several words, so each comma-separated part is read
    greedily, longest name first; words that name nothing are reported together, with
    the names they come close to.
    """
    chosen: list[str] = []
    unknown: list[str] = []
    everywhere = False
    for part in text.split(","):
        words = part.split()
        start = 0
        run: list[str] = []
        while start < len(words):
            if words[start].casefold() in EVERYWHERE_WORDS:
                everywhere, start = True, start + 1
                continue
            place, start_next = _longest_place_at(words, start)
            if place is None:
                run.append(words[start])
            else:
                chosen.append(place)
                unknown.extend([" ".join(run)] if run else [])
                run = []
            start = start_next
        unknown.extend([" ".join(run)] if run else [])
    if unknown:
        raise SubscriptionError(_unknown_places(unknown))
    if not chosen and not everywhere:
        raise SubscriptionError(
            "Name the places, e.g. /subscribe Iraq Syria, or send /subscribe alone for the menu."
        )
    if chosen and everywhere:
        places = ", ".join(normalise_places(chosen))
        raise SubscriptionError(
            f"Everywhere already holds {places}: /subscribe everywhere follows every place, "
            f"/subscribe {places} only {'that' if len(chosen) == 1 else 'those'}."
        )
    return [] if everywhere else normalise_places(chosen)


def _not_a_site(text: str) -> str:
    other = place_named(text)
    if other is not None:
        return (
            f"/watch follows one base or town, and {other} is wider than that. "
            f"/subscribe {other} follows it."
        )
    hint = did_you_mean(suggestions(text, sites_only=True))
    return (
        f"I don't know the base or town “{_shown(text)}”{hint or '. e.g. /watch Ain al-Asad 30 km'}"
    )


def _unknown_places(names: list[str]) -> str:
    """ "I don't know the place Anbr — did you mean Anbar?", a line for each, and the choices
    when nothing comes close."""
    unknown = [UnknownPlace(_shown(name), suggestions(name)) for name in names]
    lines = [str(place) for place in unknown]
    if not any(place.suggestions for place in unknown):
        lines.append(PLACES_HELP)
    return "\n".join(lines)


def normalise_places(places: Iterable[str]) -> list[str]:
    """Each place once, in the menu's order, dropping countries a chosen region covers."""
    chosen = set(places)
    covered = {
        country
        for name in chosen
        for country in REGIONS.get(name, ())
        if country != name  # the region Iraq covers the country Iraq: keep the name
    }
    return sorted(chosen - covered, key=order_key)


def places_for_link(payload: str) -> list[str]:
    """The places a /start deep link (sub_iraq, sub_red_sea_yemen, sub_all) stands for."""
    places = _DEEP_LINKS.get(payload.casefold())
    if places is None:
        raise SubscriptionError("That link names no place I know. /subscribe shows the choices.")
    return places


def deep_link_payload(place: str) -> str:
    """sub_iraq, sub_anbar, sub_ain_al_asad_air_base: a /start link for any place."""
    return DEEP_LINK_PREFIX + re.sub(r"[^a-z0-9]+", "_", place.casefold()).strip("_")


_DEEP_LINKS: dict[str, list[str]] = {
    deep_link_payload(name): [name]
    for name in [*REGIONS, *(place_named(p.name) or p.name for p in gazetteer().places)]
} | {EVERYWHERE_LINK: []}


def _longest_place_at(words: list[str], start: int) -> tuple[str | None, int]:
    for end in range(min(len(words), start + _LONGEST_NAME), start, -1):
        place = place_named(" ".join(words[start:end]))
        if place is not None:
            return place, end
    return None, start + 1


# ---------------------------------------------------------------- typed values


def parse_clock_time(text: str) -> time:
    at = _clock_time(text)
    if at is None:
        raise SubscriptionError(DIGEST_TIME_USAGE)
    return at


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """Quiet hours from "22:00-07:00" (they may run past midnight); None for "off"."""
    if text.strip().casefold() == "off":
        return None
    start_text, dash, end_text = text.translate(_DASHES).partition("-")
    start, end = _clock_time(start_text), _clock_time(end_text)
    if not dash or start is None or end is None:
        raise SubscriptionError(QUIET_USAGE)
    if start == end:
        raise SubscriptionError("Quiet hours need to start and end at different times.")
    return start, end


def parse_timezone(text: str) -> str:
    """The IANA name a user means, whatever its case; the error suggests one for a city.

    Only the zones of a place (Area/Location, such as Asia/Baghdad) and UTC: not the
    server's own (localtime), nor Factory or the old abbreviations (EST), nor the POSIX
    fixed offsets Etc/GMT+3, whose sign is the reverse of what it seems (UTC-3).
    """
    wanted = text.strip()
    if wanted.casefold() in _UTC_NAMES:
        return "UTC"
    found = _zone_names().get(wanted.casefold())
    if found is not None:
        return found
    offset = _FIXED_OFFSET.fullmatch(wanted.replace(_MINUS, "-"))
    if offset is not None:
        raise SubscriptionError(_fixed_offset_refused(wanted, offset))
    city = wanted.replace(" ", "_").casefold()
    guesses = sorted(
        name for name in _zone_names().values() if name.rpartition("/")[2].casefold() == city
    )
    hint = f" Did you mean {' or '.join(guesses[:3])}?" if guesses else ""
    raise SubscriptionError(
        f"I don't know the time zone “{_shown(wanted)}”.{hint} Use the IANA name of a "
        "place (Area/City), e.g. /settings timezone Europe/London, or UTC"
    )


def parse_empty_digest(text: str) -> bool:
    """True when digests with nothing in them are to be skipped."""
    return _one_of(text, {"skip": True, "send": False}, "/settings empty_digest skip")


# What /settings alerts_on takes: the directions of incident that bring an instant alert.
_DIRECTION_WORDS = {
    "attacks": (Direction.ON_COALITION,),
    "on": (Direction.ON_COALITION,),
    "strikes": (Direction.BY_COALITION,),
    "by": (Direction.BY_COALITION,),
    "other": (Direction.OTHER,),
    "all": tuple(Direction),
}
DIRECTIONS_USAGE = (
    "Say which incidents alert: attacks (on US/coalition forces), strikes (by them), other, "
    "or all — e.g. /settings alerts_on attacks strikes other"
)


def parse_directions(text: str) -> list[Direction]:
    """The directions named in "attacks, strikes" (any order, commas or spaces)."""
    words = text.replace(",", " ").casefold().split()
    unknown = [word for word in words if word not in _DIRECTION_WORDS]
    if unknown or not words:
        raise SubscriptionError(DIRECTIONS_USAGE)
    return normalise_directions(d for word in words for d in _DIRECTION_WORDS[word])


def normalise_directions(directions: Iterable[Direction]) -> list[Direction]:
    chosen = set(directions)
    return [direction for direction in Direction if direction in chosen]


def parse_chart(text: str) -> bool:
    return _one_of(text, {"on": True, "off": False}, "/settings chart off")


def _clock_time(text: str) -> time | None:
    match = _CLOCK_TIME.fullmatch(text.strip())
    return time(int(match.group(1)), int(match.group(2))) if match else None


def _one_of(text: str, choices: dict[str, bool], example: str) -> bool:
    choice = choices.get(text.strip().casefold())
    if choice is None:
        raise SubscriptionError(f"Say {' or '.join(choices)}, e.g. {example}")
    return choice


# The areas of the IANA database's place zones: Asia/Baghdad, America/Argentina/Salta.
_ZONE_AREAS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe",
     "Indian", "Pacific"}
)  # fmt: skip
_MINUS = "\N{MINUS SIGN}"
_UTC_NAMES = frozenset({"utc", "etc/utc", "gmt", "etc/gmt", "z", "zulu", "universal"})
# Etc/GMT+3, GMT-5, UTC+3:30: an offset rather than a place.
_FIXED_OFFSET = re.compile(
    r"(?P<name>(?:etc/)?(?:gmt|utc))\s*(?P<sign>[+-])\s*(?P<hours>\d{1,2})(?::?(?P<minutes>\d\d))?",
    re.IGNORECASE,
)


def _fixed_offset_refused(wanted: str, offset: re.Match[str]) -> str:
    """Why a fixed offset is refused, with the offset it really stands for."""
    hours = int(offset.group("hours"))
    minutes = f":{offset.group('minutes')}" if offset.group("minutes") else ""
    sign = offset.group("sign")
    is_posix = offset.group("name").casefold().startswith("etc/")
    if is_posix:
        # POSIX counts west of Greenwich as positive: Etc/GMT+3 is three hours behind UTC.
        sign = "-" if sign == "+" else "+"
        meaning = (
            f"“{_shown(wanted)}” is UTC{_MINUS if sign == '-' else '+'}{hours}{minutes}: "
            "in these Etc names the sign is the reverse of what it seems. "
        )
    else:
        meaning = f"“{_shown(wanted)}” is a fixed offset, not a time zone. "
    return (
        meaning + "Name a place in your zone, which also follows its daylight-saving changes, e.g. "
        "/settings timezone Asia/Baghdad (UTC+3), or /settings timezone UTC."
    )


@cache
def _zone_names() -> dict[str, str]:
    """The place zones by their case-folded names (see parse_timezone)."""
    return {
        name.casefold(): name
        for name in available_timezones()
        if name.partition("/")[0] in _ZONE_AREAS and "/" in name
    }


def _shown(text: str) -> str:
    """User text echoed back in an error, cut short so a paste cannot swamp the reply."""
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


# ---------------------------------------------------------------- the service


class SubscriptionService:
    def __init__(self, db: Database, clock: Clock, default_timezone: str) -> None:
        self._db = db
        self._clock = clock
        self._default_timezone = default_timezone

    async def get(self, chat_id: int) -> Subscription | None:
        return await get_subscription(self._db.reader, chat_id)

    async def current(self, chat_id: int) -> Subscription:
        subscription = await self.get(chat_id)
        if subscription is None:
            raise NotSubscribedError()
        return subscription

    async def ensure_subscribed(self, chat: SubscriberChat) -> Subscription:
        """The chat's subscription, begun with the defaults if it has none (or resumed)."""
        async with self._db.transaction() as conn:
            before = await get_subscription(conn, chat.id)
            if before is not None and before.active:
                return before
            return await self._save(conn, before, before or self._new(chat))

    async def resume_if_paused(self, chat_id: int) -> Subscription | None:
        """The chat's subscription resumed, if it was paused because Telegram said the
        chat could not be reached (a user who blocked the bot, then pressed Restart);
        None when there was nothing paused to resume."""
        async with self._db.transaction() as conn:
            before = await get_subscription(conn, chat_id)
            if before is None or before.active or before.inactive_reason is None:
                return None
            return await self._save(conn, before, before)

    async def subscribe(self, chat: SubscriberChat, places: list[str]) -> Subscription:
        """Follow exactly `places` ([] = everywhere), keeping the chat's other choices
        (its watched sites too: with everywhere they bring only their escalation notices).

        `places` are names as resolve_places and places_for_link give them.
        """
        unknown = [place for place in places if place_named(place) != place]
        if unknown:
            raise SubscriptionError(f"I don't know {', '.join(unknown)}. {PLACES_HELP}")
        async with self._db.transaction() as conn:
            before = await get_subscription(conn, chat.id)
            places_chosen = {"regions": normalise_places(places), "everywhere": not places}
            after = _changed(before or self._new(chat), places_chosen)
            return await self._save(conn, before, after)

    async def toggle_place(self, chat_id: int, place: str) -> Subscription:
        named = place_named(place)
        if named is None:
            raise SubscriptionError(_unknown_places([place]))

        def toggle(subscription: Subscription) -> dict[str, Any]:
            places = subscription.regions
            toggled = [p for p in places if p != named] if named in places else [*places, named]
            # A place tapped while everywhere is chosen narrows the chat to that place.
            return {"regions": normalise_places(toggled), "everywhere": False}

        return await self._change(chat_id, toggle)

    async def watch(
        self, chat: SubscriberChat, site_text: str, radius_km: float | None
    ) -> Subscription:
        """Watch a base or town: incidents there or within `radius_km` of it alert. A chat
        that was not subscribed is subscribed for its watched sites only."""
        place = site_named(site_text)
        if place is None:
            raise SubscriptionError(_not_a_site(site_text))
        radius = DEFAULT_SITE_RADIUS_KM if radius_km is None else radius_km
        if not MIN_WATCH_RADIUS_KM <= radius <= MAX_WATCH_RADIUS_KM:
            raise SubscriptionError(RADIUS_USAGE)
        async with self._db.transaction() as conn:
            before = await get_subscription(conn, chat.id)
            base = before or self._new(chat, everywhere=False)
            others = [watch for watch in base.watches if watch.site != place.name]
            watches = [*others, Watch(site=place.name, radius_km=radius)]
            after = _changed(base, {"watches": watches})
            return await self._save(conn, before, after)

    async def unwatch(self, chat_id: int, site_text: str) -> Subscription:
        """Stop watching a site. The last one gone from a chat that chose no region and not
        everywhere leaves it following no place (Subscription.follows_nothing), never
        everywhere."""
        place = site_named(site_text)
        name = place.name if place else site_text

        def without(subscription: Subscription) -> dict[str, Any]:
            kept = [watch for watch in subscription.watches if watch.site != name]
            if len(kept) == len(subscription.watches):
                raise SubscriptionError(
                    f"This chat does not watch “{_shown(name)}”. /settings lists what it watches."
                )
            return {"watches": kept}

        return await self._change(chat_id, without)

    async def choose_everywhere(self, chat_id: int) -> Subscription:
        return await self._set(chat_id, regions=[], everywhere=True)

    async def set_min_severity(self, chat_id: int, severity: int | None) -> Subscription:
        """Instant alerts from `severity` up; None turns them off."""
        if severity is not None and not 1 <= severity <= 5:
            raise SubscriptionError("Severity goes from 1 (minor) to 5 (severe).")
        return await self._set(chat_id, min_severity=severity)

    async def set_directions(self, chat_id: int, directions: list[Direction]) -> Subscription:
        if not directions:
            raise SubscriptionError(DIRECTIONS_USAGE)
        return await self._set(chat_id, directions=normalise_directions(directions))

    async def toggle_direction(self, chat_id: int, direction: Direction) -> Subscription:
        def toggle(subscription: Subscription) -> dict[str, Any]:
            chosen = set(subscription.directions) ^ {direction}
            if not chosen:
                raise SubscriptionError(
                    "At least one kind of incident must alert; to stop instant alerts, "
                    "tap 🔕 No instant alerts."
                )
            return {"directions": normalise_directions(chosen)}

        return await self._change(chat_id, toggle)

    async def set_digest(self, chat_id: int, frequency: DigestFrequency) -> Subscription:
        return await self._set(chat_id, digest=frequency)

    async def set_digest_weekday(self, chat_id: int, weekday: int) -> Subscription:
        """The weekly digest's day, Monday 0 to Sunday 6."""
        if not 0 <= weekday <= 6:
            raise SubscriptionError("Weekdays go from 0 (Monday) to 6 (Sunday).")
        return await self._set(chat_id, digest_weekday=weekday)

    async def set_digest_time(self, chat_id: int, at: time) -> Subscription:
        return await self._set(chat_id, digest_time=at)

    async def set_timezone(self, chat_id: int, name: str) -> Subscription:
        # Checked here as well as where it is typed: an unknown zone stored would break
        # every later schedule computation for this chat.
        return await self._set(chat_id, timezone=parse_timezone(name))

    async def set_quiet_hours(self, chat_id: int, hours: tuple[time, time] | None) -> Subscription:
        start, end = hours or (None, None)
        return await self._set(chat_id, quiet_start=start, quiet_end=end)

    async def set_skip_empty_digest(self, chat_id: int, skip: bool) -> Subscription:
        return await self._set(chat_id, skip_empty_digest=skip)

    async def set_digest_chart(self, chat_id: int, chart: bool) -> Subscription:
        return await self._set(chat_id, digest_chart=chart)

    async def unsubscribe(self, chat_id: int) -> Subscription | None:
        """Stop everything for the chat; the subscription it had, or None if it had none.

        Messages already in the outbox are dropped when their turn comes, because the
        subscription they were for is gone.
        """
        async with self._db.transaction() as conn:
            before = await get_subscription(conn, chat_id)
            if before is not None:
                await delete_subscription(conn, chat_id)
        return before

    async def follow_migration(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group `old_chat_id` became the supergroup `new_chat_id` (Telegram said so)."""
        async with self._db.transaction() as conn:
            await follow_migration(conn, old_chat_id, new_chat_id, self._clock.now())

    def _new(self, chat: SubscriberChat, *, everywhere: bool = True) -> Subscription:
        return Subscription(
            chat_id=chat.id,
            chat_type=chat.type,
            timezone=self._default_timezone,
            everywhere=everywhere,
        )

    async def _set(self, chat_id: int, **fields: Any) -> Subscription:
        return await self._change(chat_id, lambda _: fields)

    async def _change(
        self, chat_id: int, change: Callable[[Subscription], dict[str, Any]]
    ) -> Subscription:
        async with self._db.transaction() as conn:
            before = await get_subscription(conn, chat_id)
            if before is None:
                raise NotSubscribedError()
            return await self._save(conn, before, _changed(before, change(before)))

    async def _save(
        self, conn: aiosqlite.Connection, before: Subscription | None, after: Subscription
    ) -> Subscription:
        now = self._clock.now()
        # The chat is talking to us, so it can be reached again: whatever paused it is over.
        after = after.model_copy(update={"active": True, "inactive_reason": None})
        if before is None or _schedule(before) != _schedule(after):
            after = after.model_copy(update={"next_digest_at": next_digest_time(after, now)})
        # Everywhere is matched on the subscriber's own row; watches still follow their
        # sites for escalation notices.
        covered = coverage(after.regions, after.watches)
        await save_subscription(
            conn, after, covered.countries, now, provinces=covered.provinces, sites=covered.sites
        )
        if before is not None:
            # Alerts waiting for quiet hours are decided again on the new choices: shorter
            # quiet hours may have ended, other places or a higher minimum left them out.
            await release_held(conn, now, chat_id=after.chat_id)
        return after


def _changed(subscription: Subscription, fields: dict[str, Any]) -> Subscription:
    # Validated afresh (model_copy would not), so a bad value fails here, not in storage.
    return Subscription.model_validate(subscription.model_dump() | fields)


def _schedule(subscription: Subscription) -> tuple[object, ...]:
    """What next_digest_at depends on."""
    s = subscription
    return (s.active, s.digest, s.digest_weekday, s.digest_time, s.timezone)
