"""/subscribe, /settings, /unsubscribe, the subscription menu's buttons, /start sub_… links."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from hashlib import blake2b

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from bot.context import BotContext
from bot.models import DigestFrequency, Direction, Subscription
from bot.numbers import bounded_int
from bot.render.subscriptions import (
    NO_ALERTS,
    SECTION_OF,
    Menu,
    Section,
    Tap,
    subscription_menu,
    subscription_summary,
    unsubscribed_text,
)
from bot.subscriptions.areas import place_named
from bot.subscriptions.service import (
    EVERYWHERE_LINK,
    RADIUS_USAGE,
    SubscriberChat,
    SubscriptionError,
    SubscriptionService,
    parse_chart,
    parse_clock_time,
    parse_directions,
    parse_empty_digest,
    parse_quiet_hours,
    parse_timezone,
    places_for_link,
    resolve_places,
)
from handlers.group_admins import is_chat_admin
from handlers.incoming import chat_of, message_of, words_after_command
from handlers.intake import set_queue
from handlers.replies import UsageError, edit_pressed_html, reply_html

PREFIX = "subs"
MENU_PATTERN = rf"^{PREFIX}:"
NOT_ADMIN = "Only this group's administrators can change its subscription. Nothing was changed."
OUT_OF_DATE = "This menu is out of date. /settings opens a fresh one."
SUBSCRIBED = "✅ Subscribed."
SAVED = "✅ Saved."

_Setter = Callable[[SubscriptionService, int, str], Awaitable[Subscription]]

# /settings KEY VALUE: the example shown when the value is missing, and what sets it.
# Each setter parses the value before it calls the service, so a bad one changes nothing.
_TYPED_SETTINGS: dict[str, tuple[str, _Setter]] = {
    "timezone": ("Europe/London", lambda s, chat, v: s.set_timezone(chat, v)),
    "digest_time": ("07:30", lambda s, chat, v: s.set_digest_time(chat, parse_clock_time(v))),
    "quiet": ("22:00-07:00", lambda s, chat, v: s.set_quiet_hours(chat, parse_quiet_hours(v))),
    "empty_digest": (
        "skip",
        lambda s, chat, v: s.set_skip_empty_digest(chat, parse_empty_digest(v)),
    ),
    "chart": ("off", lambda s, chat, v: s.set_digest_chart(chat, parse_chart(v))),
    "alerts_on": (
        "attacks strikes other",
        lambda s, chat, v: s.set_directions(chat, parse_directions(v)),
    ),
}
_SETTINGS_USAGE = (
    f"I can change {', '.join(_TYPED_SETTINGS)}, e.g. /settings quiet 22:00-07:00. "
    "/settings alone shows everything, with buttons."
)


async def subscribe(update: Update, context: BotContext) -> None:
    """/subscribe opens the menu (subscribing with the defaults); /subscribe PLACES is quick."""
    await _require_admin(update, context)
    service = context.services.subscriptions
    text = words_after_command(context)
    if text:
        subscription = await service.subscribe(_subscriber(update), resolve_places(text))
        await reply_html(update, subscription_summary(subscription, SUBSCRIBED))
        return
    subscription = await service.ensure_subscribed(_subscriber(update))
    await _show_menu(update, subscription_menu(subscription, Section.PLACES))


async def subscribe_from_link(update: Update, context: BotContext, payload: str) -> None:
    """/start sub_iraq: what t.me/<bot>?start=sub_iraq sends, subscribing in one tap."""
    await _require_admin(update, context)
    places = places_for_link(payload)
    subscription = await context.services.subscriptions.subscribe(_subscriber(update), places)
    await reply_html(update, subscription_summary(subscription, SUBSCRIBED))


async def settings(update: Update, context: BotContext) -> None:
    """/settings shows the choices (to anyone); /settings KEY VALUE changes one."""
    service = context.services.subscriptions
    chat_id = _subscriber(update).id
    args = context.args or []
    if not args:
        subscription = await service.current(chat_id)
        await _show_menu(update, subscription_menu(subscription, None))
        return
    await _require_admin(update, context)
    key, value = args[0].casefold(), " ".join(args[1:])
    if key == "queue":
        await set_queue(update, context, value.casefold())
        return
    if key not in _TYPED_SETTINGS:
        raise UsageError(_SETTINGS_USAGE)
    example, setter = _TYPED_SETTINGS[key]
    if not value:
        raise UsageError(f"Give the new value, e.g. /settings {key} {example}")
    subscription = await setter(service, chat_id, value)
    await reply_html(update, subscription_summary(subscription, SAVED))


# A signed number is read as a radius, so that "-5 km" is refused as a radius rather than
# taken for part of the site's name; a radius in other units is refused the same way.
_RADIUS = re.compile(
    r"^(?P<site>.+?)\s+(?P<number>[-+\N{MINUS SIGN}]?\d+(?:\.\d+)?)\s*"
    r"(?P<unit>km|kms|kilometres?|kilometers?|m|metres?|meters?|mi|miles?)$",
    re.IGNORECASE,
)
_KM_UNITS = frozenset({"km", "kms", "kilometre", "kilometres", "kilometer", "kilometers"})
WATCH_USAGE = "Name a base or town, and a radius if you like, e.g. /watch Ain al-Asad 30 km"


def parse_watch_args(text: str) -> tuple[str, float | None]:
    """ "Ain al-Asad 30 km" → the site and the radius; "Tower 22" → the site alone."""
    text = " ".join(text.split())
    if not text:
        raise UsageError(WATCH_USAGE)
    match = _RADIUS.match(text)
    if match is None:
        return text, None
    if match.group("unit").casefold() not in _KM_UNITS:
        raise UsageError(RADIUS_USAGE)
    return match.group("site"), float(match.group("number").replace("\N{MINUS SIGN}", "-"))


async def watch(update: Update, context: BotContext) -> None:
    """/watch PLACE [N km]: alerts for one base or town and what happens around it."""
    await _require_admin(update, context)
    site, radius = parse_watch_args(" ".join(context.args or []))
    subscription = await context.services.subscriptions.watch(_subscriber(update), site, radius)
    await reply_html(update, subscription_summary(subscription, SAVED))


async def unwatch(update: Update, context: BotContext) -> None:
    await _require_admin(update, context)
    site = " ".join(context.args or []).strip()
    if not site:
        raise UsageError("Name the site to stop watching, e.g. /unwatch Ain al-Asad")
    service = context.services.subscriptions
    subscription = await service.unwatch(_subscriber(update).id, site)
    await reply_html(update, subscription_summary(subscription, SAVED))


async def unsubscribe(update: Update, context: BotContext) -> None:
    await _require_admin(update, context)
    chat = _subscriber(update)
    removed = await context.services.subscriptions.unsubscribe(chat.id)
    link = None
    if chat.type == ChatType.PRIVATE:
        link = f"https://t.me/{context.bot.username}?start={EVERYWHERE_LINK}"
    await reply_html(update, unsubscribed_text(removed, link))


async def chat_migrated(update: Update, context: BotContext) -> None:
    """Telegram's notice that a group became a supergroup, posted in both: whichever comes
    first moves the subscription and the queue, before any send to the old id fails."""
    message = message_of(update)
    if message.migrate_to_chat_id is not None:
        old_chat_id, new_chat_id = message.chat.id, message.migrate_to_chat_id
    else:
        assert message.migrate_from_chat_id is not None
        old_chat_id, new_chat_id = message.migrate_from_chat_id, message.chat.id
    await context.services.subscriptions.follow_migration(old_chat_id, new_chat_id)


async def menu_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    if not await is_chat_admin(update, context):
        await query.answer(NOT_ADMIN, show_alert=True)
        return
    service = context.services.subscriptions
    chat_id = _subscriber(update).id
    try:
        _, shown, action = query.data.split(":", 2)
        tap_name, _, value = action.partition(":")
        tap = Tap(tap_name)
        section = Section(value) if tap is Tap.SECTION else SECTION_OF.get(tap)
        saving = _tap_call(service, chat_id, tap, value)
    except ValueError:
        # Only buttons of an older version of the menu, or forged ones, fail to parse.
        await query.answer(OUT_OF_DATE, show_alert=True)
        return
    try:
        subscription = await saving
    except SubscriptionError as error:
        await query.answer(str(error), show_alert=True)
        return
    if tap is Tap.DONE:
        await query.answer()
        await edit_pressed_html(update, subscription_summary(subscription, SAVED))
        return
    menu = subscription_menu(subscription, section)
    if _fingerprint(menu) == shown:
        # Telegram refuses an edit that changes nothing. The tap chose what was already
        # chosen, or another menu had already made the change: the message is right as is.
        await query.answer()
        return
    await query.answer(None if tap is Tap.SECTION else "Saved")
    await edit_pressed_html(update, menu.html, menu_keyboard(menu))


def _tap_call(
    service: SubscriptionService, chat_id: int, tap: Tap, value: str
) -> Awaitable[Subscription]:
    """The service call a tap asks for. Building it parses the value: ValueError if bad."""
    match tap:
        case Tap.SECTION | Tap.DONE:
            return service.current(chat_id)
        case Tap.PLACE:
            place = place_named(value)
            if place is None:
                raise ValueError(value)
            return service.toggle_place(chat_id, place)
        case Tap.EVERYWHERE:
            return service.choose_everywhere(chat_id)
        case Tap.SEVERITY:
            severity = None if value == NO_ALERTS else bounded_int(value, 1, 5)
            if severity is None and value != NO_ALERTS:
                raise ValueError(value)
            return service.set_min_severity(chat_id, severity)
        case Tap.DIRECTION:
            return service.toggle_direction(chat_id, Direction(value))
        case Tap.FREQUENCY:
            return service.set_digest(chat_id, DigestFrequency(value))
        case Tap.WEEKDAY:
            weekday = bounded_int(value, 0, 6)
            if weekday is None:
                raise ValueError(value)
            return service.set_digest_weekday(chat_id, weekday)
        case Tap.TIME:
            return service.set_digest_time(chat_id, parse_clock_time(value))
        case Tap.TIMEZONE:
            return service.set_timezone(chat_id, parse_timezone(value))
        case Tap.EMPTY_DIGEST:
            return service.set_skip_empty_digest(chat_id, parse_empty_digest(value))
        case Tap.CHART:
            return service.set_digest_chart(chat_id, parse_chart(value))


async def _show_menu(update: Update, menu: Menu) -> None:
    await reply_html(update, menu.html, menu_keyboard(menu))


def menu_keyboard(menu: Menu) -> InlineKeyboardMarkup:
    # Each button carries the fingerprint of the menu it sits on, so a tap can tell
    # whether its result would look any different (see menu_button).
    fingerprint = _fingerprint(menu)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=f"{PREFIX}:{fingerprint}:{action}")
                for label, action in row
            ]
            for row in menu.buttons
        ]
    )


def _fingerprint(menu: Menu) -> str:
    return blake2b(f"{menu.html}\n{menu.buttons!r}".encode(), digest_size=4).hexdigest()


async def _require_admin(update: Update, context: BotContext) -> None:
    if not await is_chat_admin(update, context):
        raise UsageError(NOT_ADMIN)


def _subscriber(update: Update) -> SubscriberChat:
    chat = chat_of(update)
    return SubscriberChat(id=chat.id, type=chat.type)
