"""/latest, /incident and /search, and the "Older" button under a /latest page."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import BotContext
from bot.models import IncidentPage
from bot.numbers import bounded_int, looks_numeric
from bot.places import PlaceQuery, UnknownPlace, resolve_place
from bot.record.incidents import DEFAULT_LATEST, MAX_LATEST
from bot.render.incidents import esc, incident_card, incident_list
from handlers.replies import UsageError, reply_html

OLDER_PREFIX = "older"
# callback_data is limited to 64 bytes; "older:20:<id>:" leaves this much for the place.
_MAX_PLACE_BYTES = 40
_MAX_SEARCH_CHARS = 100


def parse_latest_args(args: list[str]) -> tuple[int, PlaceQuery | None]:
    """`/latest [N] [place]` or `/latest [place] [N]`: the count may come either side."""
    count = DEFAULT_LATEST
    if args and looks_numeric(args[0]):
        asked, args = args[0], args[1:]
    elif args and looks_numeric(args[-1]):
        asked, args = args[-1], args[:-1]
    else:
        asked = None
    if asked is not None:
        parsed = bounded_int(asked, 1, MAX_LATEST)
        if parsed is None:
            raise UsageError(f"I can show 1 to {MAX_LATEST} incidents at a time, e.g. /latest 10")
        count = parsed
    place = " ".join(args).strip() or None
    if place and len(place.encode()) > _MAX_PLACE_BYTES:
        raise UsageError("That place name is too long. Try a country, province or base name.")
    return count, place_query(place) if place else None


def place_query(text: str) -> PlaceQuery:
    """The place someone asks about, or a usage error suggesting what they may mean."""
    try:
        return resolve_place(text)
    except UnknownPlace as unknown:
        raise UsageError(str(unknown)) from None


def parse_incident_id(args: list[str]) -> int:
    incident_id = bounded_int(args[0]) if len(args) == 1 else None
    if incident_id is None:
        raise UsageError("Give the number of one incident, e.g. /incident 12")
    return incident_id


def parse_older_data(data: str) -> tuple[int, int, str | None] | None:
    """Count, cursor and place from an "Older" button's data; None if it is not ours."""
    parts = data.split(":", 3)
    if len(parts) != 4:
        return None
    count, cursor = bounded_int(parts[1], 1, MAX_LATEST), bounded_int(parts[2])
    if count is None or cursor is None or len(parts[3].encode()) > _MAX_PLACE_BYTES:
        return None
    return count, cursor, parts[3] or None


async def latest(update: Update, context: BotContext) -> None:
    count, place = parse_latest_args(context.args or [])
    page = await context.services.incidents.latest(count, place)
    await _send_page(update, context, page, count, place)


async def older(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    parsed = parse_older_data(query.data)
    if parsed is None:
        await query.answer("This button no longer works. Send /latest again.")
        return
    count, cursor, place = parsed
    await query.answer()
    query_place = place_query(place) if place else None
    page = await context.services.incidents.latest(count, query_place, older_than=cursor)
    await _send_page(update, context, page, count, query_place)


async def _send_page(
    update: Update,
    context: BotContext,
    page: IncidentPage,
    count: int,
    place: PlaceQuery | None,
) -> None:
    where = f" in {place.label}" if place else ""
    if not page.incidents:
        await reply_html(update, esc(f"No published incidents{where} to show."))
        return
    heading = f"Latest incidents{where}"
    markup = None
    if page.older_cursor is not None:
        data = f"{OLDER_PREFIX}:{count}:{page.older_cursor}:{place.text if place else ''}"
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Older ▸", callback_data=data)]])
    await reply_html(
        update, incident_list(heading, page.incidents, context.services.timezone), markup
    )


async def incident(update: Update, context: BotContext) -> None:
    incident_id = parse_incident_id(context.args or [])
    found = await context.services.incidents.get(incident_id)
    if found is None:
        raise UsageError(f"There is no incident #{incident_id}. /latest lists recent ones.")
    await reply_html(update, incident_card(found, context.services.timezone))


async def search(update: Update, context: BotContext) -> None:
    text = " ".join(context.args or []).strip()
    if not text:
        raise UsageError("Tell me what to look for, e.g. /search Ain al-Asad")
    if len(text) > _MAX_SEARCH_CHARS:
        raise UsageError(f"Keep the search under {_MAX_SEARCH_CHARS} characters.")
    found = await context.services.incidents.search(text)
    if not found:
        await reply_html(update, f"Nothing matches “{esc(text)}”. Try fewer or other words.")
        return
    await reply_html(
        update, incident_list(f"Incidents matching “{text}”", found, context.services.timezone)
    )
