"""Sending replies: long HTML split into valid pieces, usage errors worded the same way."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update

from bot.errors import UserError
from bot.outgoing import send_html
from handlers.incoming import chat_of


class UsageError(UserError):
    """A command was used wrongly; the message says what would work."""


async def reply_html(
    update: Update, html: str, reply_markup: InlineKeyboardMarkup | None = None
) -> list[Message]:
    """Reply in the update's chat, split at line boundaries; buttons go on the last piece."""
    return await send_html(update.get_bot(), chat_of(update).id, html, reply_markup=reply_markup)
