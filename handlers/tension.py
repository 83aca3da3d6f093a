"""/tension: every region's level, trend and drivers, with a chart."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.outgoing import send_photo_html
from bot.places import UnknownPlace, gazetteer
from bot.regions import REGIONS
from bot.render.incidents import esc
from bot.render.tension import tension_text
from handlers.incoming import chat_of, words_after_command
from handlers.replies import UsageError

ALL_REGIONS_DAYS = 30
ONE_REGION_DAYS = 90


def country_of(text: str) -> str | None:
    """The country of the province or site a user names, or None."""
    found = gazetteer().find(text)
    return found[0].country if found else None


async def tension(update: Update, context: BotContext) -> None:
    services = context.services
    place = words_after_command(context)
    note = ""
    if place:
        name = await services.tension.resolve(place)
        if name is None:
            # A province or a site: the index is kept per country, so show its country's.
            within = country_of(place)
            name = await services.tension.resolve(within) if within else None
            if name is None:
                suggestions = gazetteer().suggest(place, extra=REGIONS)
                raise UsageError(
                    f"{UnknownPlace(place, suggestions)} The tension index is kept for "
                    f"{', '.join(REGIONS)} and each of their countries, and shown for a "
                    "province or base through its country, e.g. /tension Lebanon"
                )
            note = f"\n<i>{esc(place)} is in {esc(name)}: the index is kept per country.</i>"
        days = ONE_REGION_DAYS
        regions = await services.tension.regions([name], chart_days=days)
    else:
        days = ALL_REGIONS_DAYS
        regions = await services.tension.regions(chart_days=days)
    text = tension_text(regions, services.timezone, drivers=True) + note
    chart = await services.tension_charts.chart(regions, days)
    photo, *_ = await send_photo_html(
        context.bot, chat_of(update).id, chart.file_id or chart.png, text
    )
    if chart.file_id is None:
        await services.tension_charts.remember_upload(chart.key, photo)
