"""Sending replies and rewriting pressed messages: long HTML split into valid pieces,
usage errors worded the same way."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update

from bot.errors import UserError
from bot.outgoing import edit_html, send_html
from handlers.incoming import chat_of


class UsageError(UserError):
    """A command was used wrongly; the message says what would work."""


async def reply_html(
    update: Update, html: str, reply_markup: InlineKeyboardMarkup | None = None
) -> list[Message]:
    """Reply in the update's chat, split at line boundaries; buttons go on the last piece."""
    return await send_html(update.get_bot(), chat_of(update).id, html, reply_markup=reply_markup)


async def edit_pressed_html(
    update: Update, html: str, reply_markup: InlineKeyboardMarkup | None = None
) -> list[Message]:
    """Rewrite the message whose button was pressed; what does not fit in it follows as
    new messages, the buttons on the last."""
    query = update.callback_query
    assert query is not None and query.message is not None
    message = query.message
    return await edit_html(
        update.get_bot(), message.chat.id, message.message_id, html, reply_markup=reply_markup
    )
