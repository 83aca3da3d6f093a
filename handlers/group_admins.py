"""Who may act for a chat: anyone in a private chat, only administrators in a group."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType

from bot.context import BotContext
from handlers.incoming import acting_user_id, chat_of


async def is_chat_admin(update: Update, context: BotContext) -> bool:
    """Whether the sender may change or send the chat's subscription and digests."""
    chat = chat_of(update)
    if chat.type == ChatType.PRIVATE:
        return True
    message = update.message
    if message is not None and message.sender_chat is not None:
        # An anonymous administrator writes as the group itself.
        return message.sender_chat.id == chat.id
    member = await context.bot.get_chat_member(chat.id, acting_user_id(update))
    return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
