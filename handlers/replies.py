"""Sending replies: long HTML split into valid pieces, usage errors worded the same way."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update

from bot.errors import UserError
from bot.render.telegram_html import split_html
from handlers.incoming import chat_of

MESSAGE_LIMIT = 4096


class UsageError(UserError):
    """A command was used wrongly; the message says what would work."""


async def reply_html(
    update: Update, html: str, reply_markup: InlineKeyboardMarkup | None = None
) -> list[Message]:
    """Reply in the update's chat, split at line boundaries; buttons go on the last piece."""
    chat = chat_of(update)
    pieces = split_html(html, MESSAGE_LIMIT)
    sent = []
    for index, piece in enumerate(pieces):
        is_last = index == len(pieces) - 1
        sent.append(await chat.send_message(piece, reply_markup=reply_markup if is_last else None))
    return sent
