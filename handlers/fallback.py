"""Answers for commands the bot does not know and for plain text in private chats."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.render.incidents import esc
from handlers.replies import reply_html


async def unknown_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    command = message.text.split()[0].split("@")[0]
    await reply_html(update, f"I don't know {esc(command)}. /help lists what I can do.")


async def plain_text(update: Update, context: BotContext) -> None:
    await reply_html(update, "I answer commands. Try /latest, or /help for the full list.")
