"""Per-user flood control, in front of every other handler."""

from __future__ import annotations

import time

from telegram import Update
from telegram.ext import ApplicationHandlerStop, filters

from bot.context import BotContext
from bot.flood import SLOW_DOWN, Verdict
from bot.render.incidents import esc
from handlers.replies import reply_html


async def flood_guard(update: Update, context: BotContext) -> None:
    """Count each message and button press; stop the update of someone over the limit."""
    user = update.effective_user
    if user is None or (update.message is None and update.callback_query is None):
        return
    if filters.StatusUpdate.MIGRATE.check_update(update):
        return  # Telegram's notice of a group's new id, not the user's doing: never dropped
    flood = context.services.flood
    # A button press carries no time of its own; it is counted when handled.
    sent = update.message.date.timestamp() if update.message is not None else time.time()
    verdict = flood.judge(user.id, sent)
    if verdict is Verdict.ANSWER:
        return
    if verdict is Verdict.WARN:
        notice = SLOW_DOWN.format(seconds=flood.cooldown_seconds)
        if update.callback_query is not None:
            await update.callback_query.answer(notice, show_alert=True)
        else:
            await reply_html(update, esc(notice))
    raise ApplicationHandlerStop
