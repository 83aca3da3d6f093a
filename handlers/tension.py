"""/tension: every region's level, trend and drivers, with a chart."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.places import not_a_region_or_country
from bot.regions import REGIONS
from bot.render.incidents import esc
from bot.render.telegram_html import parse_html
from bot.render.tension import CAPTION_LIMIT, tension_text
from handlers.incoming import chat_of, words_after_command
from handlers.replies import UsageError, reply_html

ALL_REGIONS_DAYS = 30
ONE_REGION_DAYS = 90


async def tension(update: Update, context: BotContext) -> None:
    services = context.services
    place = words_after_command(context)
    if place:
        name = await services.tension.resolve(place)
        if name is None:
            raise UsageError(
                f"{not_a_region_or_country(place)} The tension index is kept for "
                f"{', '.join(REGIONS)} and each of their countries, e.g. /tension Lebanon"
            )
        days = ONE_REGION_DAYS
        regions = await services.tension.regions([name], chart_days=days)
    else:
        days = ALL_REGIONS_DAYS
        regions = await services.tension.regions(chart_days=days)
    text = tension_text(regions, services.timezone, drivers=True)
    chart = await services.tension_charts.chart(regions, days)
    fits = parse_html(text).length <= CAPTION_LIMIT
    caption = (
        text
        if fits
        else f"Tension index, last {days} days: {esc(', '.join(r.name for r in regions))}"
    )
    sent = await chat_of(update).send_photo(chart.file_id or chart.png, caption=caption)
    if chart.file_id is None:
        await services.tension_charts.remember_upload(chart.key, sent)
    if not fits:
        await reply_html(update, text)
