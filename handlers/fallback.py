"""Answers for commands the bot does not know and for plain text in private chats."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.render.incidents import esc
from handlers.incoming import command_of, message_of
from handlers.replies import reply_html


async def unknown_command(update: Update, context: BotContext) -> None:
    message = message_of(update)
    command = command_of(message)
    _, _, addressee = (message.text or "").split(maxsplit=1)[0].partition("@")
    if addressee and addressee.lower() != (context.bot.username or "").lower():
        # Only a private chat gets here: in groups Telegram keeps other bots' commands away.
        await reply_html(
            update,
            f"{esc(command)}@{esc(addressee)} is addressed to another bot. "
            f"To ask me, send {esc(command)}.",
        )
        return
    await reply_html(update, f"I don't know {esc(command)}. /help lists what I can do.")


async def plain_text(update: Update, context: BotContext) -> None:
    await reply_html(update, "I answer commands. Try /latest, or /help for the full list.")
