"""/troops."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.render.incidents import esc, troop_report
from handlers.replies import reply_html


async def troops(update: Update, context: BotContext) -> None:
    country = " ".join(context.args or []).strip() or None
    summaries = await context.services.troops.summaries(country)
    if not summaries:
        where = f" for {country}" if country else ""
        await reply_html(update, esc(f"No troop figures recorded{where}.") + " Try /troops alone.")
        return
    await reply_html(update, troop_report(summaries))
