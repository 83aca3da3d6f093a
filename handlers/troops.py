"""/troops (reading the figures) and /settroops (adding one)."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.newsroom.forms import TROOP_KEYS, FormError, parse_form, troop_figure_from_fields
from bot.render.incidents import esc, troop_report
from handlers.incoming import (
    acting_user_id,
    message_of,
    text_after_command,
    words_after_command,
)
from handlers.replies import UsageError, reply_html


async def troops(update: Update, context: BotContext) -> None:
    country = words_after_command(context) or None
    summaries = await context.services.troops.summaries(country)
    if not summaries:
        where = f" for {country}" if country else ""
        await reply_html(update, esc(f"No troop figures recorded{where}.") + " Try /troops alone.")
        return
    await reply_html(update, troop_report(summaries))


async def settroops(update: Update, context: BotContext) -> None:
    parsed = parse_form(text_after_command(message_of(update)), TROOP_KEYS)
    if not parsed.fields and not parsed.problems:
        raise UsageError(
            "Send the figure as lines after /settroops:\nforce: United States\nhost: Iraq\n"
            "count: nearly 2,500\nkind: official\nas_of: 2024-08-06\nsource: Reuters https://www.reuters.com/…"
        )
    if parsed.problems:
        raise FormError(parsed.problems)
    figure = troop_figure_from_fields(parsed.fields, context.services.clock.now())
    await context.services.newsroom.add_troop_figure(figure, acting_user_id(update))
    summaries = await context.services.troops.summaries(figure.host_country)
    await reply_html(update, f"Added.\n\n{troop_report(summaries)}")
