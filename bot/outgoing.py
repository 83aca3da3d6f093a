"""Every message the bot sends or rewrites, cut to Telegram's limits.

Telegram refuses a text longer than 4,096 characters and a photo caption longer than
1,024 ("Message is too long"), counted after the HTML is parsed. Every send of the bot —
replies, alerts, corrections, digests, channel posts and their edits, previews — goes
through these functions, which split valid HTML at line boundaries into pieces that
each parse (bot.render.telegram_html.split_html). Buttons go on the last piece.
"""

from __future__ import annotations

from collections.abc import Awaitable

from telegram import Bot, InputFile, Message
from telegram import InlineKeyboardMarkup as Buttons
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.render.telegram_html import split_html

TEXT_LIMIT = 4096
NOT_MODIFIED = "message is not modified"  # Telegram's answer to an edit that changes nothing
CAPTION_LIMIT = 1024

Photo = str | bytes | InputFile
ChatId = int | str


def fits_one_message(html: str, limit: int = TEXT_LIMIT) -> bool:
    return len(split_html(html, limit)) == 1


async def send_html(
    bot: Bot, chat_id: ChatId, html: str, *, reply_markup: Buttons | None = None
) -> list[Message]:
    """Send `html` as one message, or as several if it is longer than Telegram allows."""
    pieces = split_html(html, TEXT_LIMIT)
    sent = []
    for index, piece in enumerate(pieces):
        markup = reply_markup if index == len(pieces) - 1 else None
        sent.append(
            await bot.send_message(chat_id, piece, parse_mode=ParseMode.HTML, reply_markup=markup)
        )
    return sent


async def send_photo_html(
    bot: Bot,
    chat_id: ChatId,
    photo: Photo,
    caption_html: str,
    *,
    reply_markup: Buttons | None = None,
) -> list[Message]:
    """Send a photo captioned with `caption_html`; a caption too long for one goes on
    in text messages below the photo."""
    first, *rest = split_html(caption_html, CAPTION_LIMIT) if caption_html else [""]
    remainder = "\n".join(rest)
    photo_message = await bot.send_photo(
        chat_id, photo, caption=first or None, parse_mode=ParseMode.HTML,
        reply_markup=None if remainder else reply_markup,
    )  # fmt: skip
    if not remainder:
        return [photo_message]
    return [photo_message, *await send_html(bot, chat_id, remainder, reply_markup=reply_markup)]


async def edit_html(
    bot: Bot,
    chat_id: ChatId,
    message_id: int,
    html: str,
    *,
    reply_markup: Buttons | None = None,
) -> list[Message]:
    """Rewrite a message with `html`; what does not fit in it follows as new messages."""
    first, *rest = split_html(html, TEXT_LIMIT)
    edited = await _unless_unchanged(
        bot.edit_message_text(
            first, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML,
            reply_markup=None if rest else reply_markup,
        )
    )  # fmt: skip
    done = [edited] if isinstance(edited, Message) else []
    if rest:
        done += await send_html(bot, chat_id, "\n".join(rest), reply_markup=reply_markup)
    return done


async def drop_buttons(message: Message) -> None:
    """Take a message's buttons away, leaving its text."""
    await _unless_unchanged(message.edit_reply_markup(reply_markup=None))


async def _unless_unchanged(edit: Awaitable[Message | bool]) -> Message | bool | None:
    """An edit, where Telegram's "message is not modified" counts as done: the message
    already says it (a quick second press made the same edit first); None then."""
    try:
        return await edit
    except BadRequest as error:
        if NOT_MODIFIED in error.message.lower():
            return None
        raise
