"""/stats: how delivery has gone, from the outbox's record."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.record.stats import delivery_stats
from bot.render.stats import stats_text
from handlers.replies import reply_html


async def stats(update: Update, context: BotContext) -> None:
    services = context.services
    figures = await delivery_stats(services.db, services.clock, services.timezone)
    await reply_html(update, stats_text(figures, services.timezone))
