"""/count [place] [since DATE] [until DATE] [attacks|strikes|other]: tallies and a chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from telegram import Update

from bot.context import BotContext
from bot.models import EARLIEST, Direction
from bot.outgoing import send_photo_html
from bot.places import PlaceQuery
from bot.render.counts import count_chart, count_text
from bot.render.drawing import draw_png
from handlers.incidents import DIRECTION_FILTERS, place_query
from handlers.incoming import chat_of
from handlers.replies import UsageError

# Dates a count may name: as far back as an incident may lie, and far enough ahead that a
# span's end plus a day stays a date the database can store.
FIRST_DAY = EARLIEST.date()
LAST_DAY = date(2999, 12, 31)
USAGE = (
    "Count like this: /count Iraq since 2023-10-17 until 2024-02-01 — every part is "
    "optional; add attacks, strikes or other to count one direction."
)


@dataclass(frozen=True)
class CountQuery:
    place: PlaceQuery | None
    since: date | None
    until: date | None
    direction: Direction | None


def parse_count_args(args: list[str]) -> CountQuery:
    words: list[str] = []
    dates: dict[str, date] = {}
    directions: list[Direction] = []
    rest = list(args)
    while rest:
        word = rest.pop(0)
        keyword = word.casefold()
        if keyword in ("since", "until", "from", "to"):
            if not rest:
                raise UsageError(f"Give a date after “{word}”, e.g. {keyword} 2023-10-17. {USAGE}")
            key = "since" if keyword in ("since", "from") else "until"
            if key in dates:
                raise UsageError(f"Give “{key}” once. {USAGE}")
            dates[key] = _date(rest.pop(0))
        elif keyword in DIRECTION_FILTERS:
            directions.append(DIRECTION_FILTERS[keyword])
        else:
            words.append(word)
    if len(set(directions)) > 1:
        raise UsageError(f"Count one direction at a time, or all of them. {USAGE}")
    place = " ".join(words).strip()
    return CountQuery(
        place_query(place) if place else None,
        dates.get("since"),
        dates.get("until"),
        directions[0] if directions else None,
    )


def _date(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"“{text[:20]}” is not a date; write it as 2023-10-17.") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise UsageError(
            f"{text} is out of range: give a date from {FIRST_DAY} to {LAST_DAY}, e.g. 2023-10-17."
        )
    return day


async def count(update: Update, context: BotContext) -> None:
    query = parse_count_args(context.args or [])
    services = context.services
    report = await services.counts.count(query.place, query.since, query.until, query.direction)
    text = count_text(report, services.timezone)
    png = await draw_png(count_chart, report)
    await send_photo_html(context.bot, chat_of(update).id, png, text)
