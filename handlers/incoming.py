"""Reading an incoming update: who acts, in which chat, the command and what follows it."""

from __future__ import annotations

import re
from html import escape

from telegram import CallbackQuery, Chat, Message, MessageEntity, Update, User

from bot.commands import typed_command
from bot.context import BotContext
from bot.errors import UserError
from bot.numbers import bounded_int

_WRITTEN_LINK = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]]")


def acting_user(update: Update) -> User:
    assert update.effective_user is not None
    return update.effective_user


def acting_user_id(update: Update) -> int:
    """The numeric id of the user behind the update (admins are known by id only)."""
    return acting_user(update).id


def chat_of(update: Update) -> Chat:
    assert update.effective_chat is not None
    return update.effective_chat


def message_of(update: Update) -> Message:
    assert update.effective_message is not None
    return update.effective_message


def shown_html(message: Message) -> str | None:
    """The message's text as HTML that Telegram reads back into the same message.

    PTB's Message.text_html leaves a link's address unescaped, so any address with an
    "&" in its query string would make the edited message fail to parse.
    """
    if message.text is None:
        return None
    entities = tuple(
        MessageEntity(entity.type, entity.offset, entity.length, url=escape(entity.url))
        if entity.url
        else entity
        for entity in message.entities
    )
    return Message(
        message.message_id, message.date, message.chat, text=message.text, entities=entities
    ).text_html


def links_in(message: Message) -> list[str]:
    """The web links a message carries, in order, once each: those written out and those
    behind a text (a forwarded report's "read more")."""
    found = message.parse_entities([MessageEntity.URL, MessageEntity.TEXT_LINK])
    links = [entity.url if entity.url else text for entity, text in found.items()]
    links += _WRITTEN_LINK.findall(message.text or "")  # entities are not always sent
    return [link for link in dict.fromkeys(links) if link.startswith(("http://", "https://"))]


def command_of(message: Message) -> str:
    """The command as typed, e.g. "/latest", without a "@botname" suffix."""
    assert message.text is not None
    return typed_command(message.text)


def text_after_command(message: Message) -> str:
    """The raw text after the command, newlines kept (context.args loses them)."""
    text = message.text or ""
    first_line, _, rest = text.partition("\n")
    _, _, after_command = first_line.partition(" ")
    return "\n".join(part for part in (after_command.strip(), rest) if part).strip()


def words_after_command(context: BotContext) -> str:
    """The words after the command on one line, single-spaced: for names and search terms."""
    return " ".join(context.args or [])


def pressed(update: Update) -> tuple[CallbackQuery, str, int]:
    """A pressed "prefix:action:number" button: the query, the action and the number."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _, action, number = query.data.split(":")
    # Button data can be forged: the number must be one storage can hold.
    value = bounded_int(number)
    if value is None:
        raise UserError("That button does not name anything I know.")
    return query, action, value


def carries_button(message: Message, data: str | None) -> bool:
    """Whether `message` has a button sending `data`: a pressed button's data can be
    forged, and pressed on a message that has no such button."""
    markup = message.reply_markup
    return markup is not None and any(
        button.callback_data == data for row in markup.inline_keyboard for button in row
    )
