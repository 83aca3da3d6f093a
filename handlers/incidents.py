"""/latest, /incident and /search, and the "Older" button under a /latest page."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import BotContext
from bot.models import Direction, IncidentPage
from bot.numbers import bounded_int, looks_numeric
from bot.places import (
    PlaceQuery,
    UnknownPlace,
    gazetteer,
    place_key,
    place_of_key,
    resolve_place,
)
from bot.record.incidents import DEFAULT_LATEST, MAX_LATEST
from bot.regions import region_named
from bot.render.corrections import correction_lines
from bot.render.incidents import (
    DIRECTION_PLURALS,
    esc,
    incident_card,
    incident_list,
    search_results,
)
from handlers.incoming import words_after_command
from handlers.replies import UsageError, reply_html

OLDER_PREFIX = "older"
OLDER_PATTERN = rf"^{OLDER_PREFIX}:\d+:\d+:"
# callback_data is limited to 64 bytes; "older:20:<id>:by_coalition:" leaves this much
# for the place's key (bot.places.place_key).
_MAX_PLACE_KEY_BYTES = 30
_MAX_SEARCH_CHARS = 100


# /latest 5 Iraq attacks: the words that filter by direction.
DIRECTION_FILTERS = {
    "attacks": Direction.ON_COALITION,
    "strikes": Direction.BY_COALITION,
    "other": Direction.OTHER,
}


@dataclass(frozen=True)
class LatestQuery:
    count: int
    place: PlaceQuery | None
    direction: Direction | None
    older_than: int | None = None  # the last incident of the page before


def parse_latest_args(args: list[str]) -> LatestQuery:
    """`/latest [N] [place] [attacks|strikes|other]`; the count may also follow the place."""
    filters = [arg.casefold() for arg in args if arg.casefold() in DIRECTION_FILTERS]
    if len(set(filters)) > 1:
        raise UsageError("Filter by one of attacks, strikes or other, e.g. /latest 5 Iraq attacks")
    args = [arg for arg in args if arg.casefold() not in DIRECTION_FILTERS]
    count = DEFAULT_LATEST
    if args and looks_numeric(args[0]):
        asked, args = args[0], args[1:]
    elif args and looks_numeric(args[-1]) and not _names_a_place(args):
        # "Tower 22" keeps its number; "Iraq 3" is three incidents in Iraq.
        asked, args = args[-1], args[:-1]
    else:
        asked = None
    if asked is not None:
        parsed = bounded_int(asked, 1, MAX_LATEST)
        if parsed is None:
            raise UsageError(f"I can show 1 to {MAX_LATEST} incidents at a time, e.g. /latest 10")
        count = parsed
    if asked is not None and len(args) == 1 and looks_numeric(args[0]):
        raise UsageError("Give the number of incidents once, e.g. /latest 5 Iraq")
    place = " ".join(args).strip() or None
    direction = DIRECTION_FILTERS[filters[0]] if filters else None
    return LatestQuery(count, place_query(place) if place else None, direction)


def _names_a_place(words: list[str]) -> bool:
    text = " ".join(words)
    return region_named(text) is not None or bool(gazetteer().find(text))


def place_query(text: str) -> PlaceQuery:
    """The place someone asks about, or a usage error suggesting what they may mean."""
    try:
        return resolve_place(text)
    except UnknownPlace as unknown:
        raise UsageError(str(unknown)) from None


def parse_incident_id(args: list[str], command: str = "incident") -> int:
    incident_id = bounded_int(args[0]) if len(args) == 1 else None
    if incident_id is None:
        raise UsageError(f"Give the number of one incident, e.g. /{command} 12")
    return incident_id


def parse_older_data(data: str) -> LatestQuery | None:
    """The page an "Older" button asks for after its cursor, and the cursor; None if the
    data is not ours or names no place the bot knows (any more)."""
    parts = data.split(":", 4)
    if len(parts) != 5:
        return None
    count, cursor = bounded_int(parts[1], 1, MAX_LATEST), bounded_int(parts[2])
    directions = {direction.value: direction for direction in Direction}
    if count is None or cursor is None or len(parts[4].encode()) > _MAX_PLACE_KEY_BYTES:
        return None
    if parts[3] and parts[3] not in directions:
        return None
    place = place_of_key(parts[4]) if parts[4] else None
    if parts[4] and place is None:
        return None
    return LatestQuery(count, place, directions.get(parts[3]), cursor)


async def latest(update: Update, context: BotContext) -> None:
    query = parse_latest_args(context.args or [])
    page = await context.services.incidents.latest(query.count, query.place, query.direction)
    await _send_page(update, context, page, query)


async def older(update: Update, context: BotContext) -> None:
    callback = update.callback_query
    assert callback is not None and callback.data is not None
    query = parse_older_data(callback.data)
    if query is None:
        await callback.answer("This button no longer works. Send /latest again.")
        return
    await callback.answer()
    page = await context.services.incidents.latest(
        query.count, query.place, query.direction, older_than=query.older_than
    )
    await _send_page(update, context, page, query)


async def _send_page(
    update: Update, context: BotContext, page: IncidentPage, query: LatestQuery
) -> None:
    where = f" in {query.place.label}" if query.place else ""
    kind = DIRECTION_PLURALS[query.direction] if query.direction else "incidents"
    if not page.incidents:
        await reply_html(update, esc(f"No published {kind}{where} to show."))
        return
    heading = f"Latest {kind}{where}"
    markup = None
    place = place_key(query.place) if query.place else ""
    # A part of a name too long for the button's data ("Mission Support Site Green Vil")
    # pages no further: type it whole, or fewer words.
    if page.older_cursor is not None and len(place.encode()) <= _MAX_PLACE_KEY_BYTES:
        direction = query.direction.value if query.direction else ""
        data = f"{OLDER_PREFIX}:{query.count}:{page.older_cursor}:{direction}:{place}"
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Older ▸", callback_data=data)]])
    await reply_html(
        update, incident_list(heading, page.incidents, context.services.timezone), markup
    )


async def incident(update: Update, context: BotContext) -> None:
    incident_id = parse_incident_id(context.args or [])
    found = await context.services.incidents.get(incident_id)
    if found is None:
        raise UsageError(f"There is no incident #{incident_id}. /latest lists recent ones.")
    zone = context.services.timezone
    versions = await context.services.incidents.versions(incident_id)
    await reply_html(update, incident_card(found, zone, correction_lines(versions, zone)))


@dataclass(frozen=True)
class SearchQuery:
    words: str
    place: PlaceQuery | None
    # What the text names if it names a place the bot does not know ("rockets in Irak",
    # "Irak"): said only when nothing matches, as words after " in " are often no place
    # ("killed in action").
    unknown_place: UnknownPlace | None = None


def parse_search_args(text: str) -> SearchQuery:
    """ "rockets in Anbar" → the words and the place; without " in " and a known place after
    it → all of the text, as words."""
    words, found, place = text.rpartition(" in ")
    if found and words.strip() and place.strip():
        try:
            return SearchQuery(words.strip(), resolve_place(place.strip()))
        except UnknownPlace as unknown:
            return SearchQuery(text, None, unknown)
    return SearchQuery(text, None, _misspelt_place(text))


def _misspelt_place(text: str) -> UnknownPlace | None:
    try:
        resolve_place(text)
    except UnknownPlace as unknown:
        return unknown
    return None


async def search(update: Update, context: BotContext) -> None:
    text = words_after_command(context)
    if not text:
        raise UsageError("Tell me what to look for, e.g. /search rockets in Anbar")
    if len(text) > _MAX_SEARCH_CHARS:
        raise UsageError(f"Keep the search under {_MAX_SEARCH_CHARS} characters.")
    query = parse_search_args(text)
    found = await context.services.incidents.search(query.words, query.place)
    where = f" in {query.place.label}" if query.place else ""
    if not found.incidents:
        # A search for a misspelt place finds nothing: say so rather than imply quiet.
        unknown = query.unknown_place
        if unknown is not None and unknown.suggestions:
            raise UsageError(f"Nothing matches “{text}”. {unknown}")
        await reply_html(
            update, f"Nothing matches “{esc(query.words)}”{esc(where)}. Try fewer or other words."
        )
        return
    await reply_html(update, search_results(query.words, found, context.services.timezone, where))
