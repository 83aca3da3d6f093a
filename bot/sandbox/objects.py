"""The people, chats and bot messages that live inside the fake Telegram."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from bot.render.telegram_html import Entity

__all__ = [
    "ChatType",
    "FakeChat",
    "FakeUser",
    "MemberStatus",
    "SentMessage",
    "WebhookInfo",
    "member_json",
]

ChatType = Literal["private", "group", "supergroup", "channel"]
MemberStatus = Literal["creator", "administrator", "member", "left", "kicked"]


@dataclass(frozen=True)
class FakeUser:
    """A human Telegram user; their private chat with the bot has the same id."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str = "en"
    last_name: str | None = None

    @property
    def chat_id(self) -> int:
        return self.id

    def to_api(self) -> dict[str, Any]:
        api: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            api["last_name"] = self.last_name
        if self.username is not None:
            api["username"] = self.username
        api["language_code"] = self.language_code
        return api


@dataclass(eq=False)
class FakeChat:
    """A chat the bot can see. ``members`` maps user ids (the bot's too) to statuses."""

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    user: FakeUser | None = None
    members: dict[int, MemberStatus] = field(default_factory=dict)
    migrated_to: int | None = None

    def status_of(self, user_id: int) -> MemberStatus:
        return self.members.get(user_id, "left")

    def is_member(self, user_id: int) -> bool:
        return self.status_of(user_id) in ("creator", "administrator", "member")

    def is_admin(self, user_id: int) -> bool:
        return self.status_of(user_id) in ("creator", "administrator")

    def to_api(self) -> dict[str, Any]:
        api: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            assert self.user is not None
            api["first_name"] = self.user.first_name
            if self.user.last_name is not None:
                api["last_name"] = self.user.last_name
            if self.user.username is not None:
                api["username"] = self.user.username
        else:
            api["title"] = self.title
            if self.username is not None:
                api["username"] = self.username
        return api


@dataclass(frozen=True)
class SentMessage:
    """One thing the bot did in a chat (a send or an edit), as the fake recorded it.

    ``html`` is the text or caption exactly as the bot sent it; ``text`` is the
    plain text Telegram stores after parsing (for photos, the plain caption, or
    "" without one) and ``entities`` format it. ``method`` is the call that
    produced this state of the message.
    """

    chat_id: int
    message_id: int
    method: str
    html: str | None
    text: str
    entities: tuple[Entity, ...]
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    photo: bytes | None
    caption: str | None
    date: int
    edit_date: int | None = None
    reply_to_message_id: int | None = None
    photo_file_id: str | None = None

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """Inline keyboard rows as (text, callback_data or url) pairs."""
        if self.reply_markup is None:
            return []
        rows: list[list[tuple[str, str]]] = []
        for row in self.reply_markup.get("inline_keyboard", []):
            rows.append([(button["text"], _button_target(button)) for button in row])
        return rows

    @property
    def button_texts(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]


def _button_target(button: dict[str, Any]) -> str:
    for key in ("callback_data", "url"):
        value = button.get(key)
        if isinstance(value, str):
            return value
    return ""


@dataclass
class WebhookInfo:
    """The webhook set with setWebhook, and how delivery to it is going."""

    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None
    delivered: int = 0


def member_json(chat: FakeChat, user: dict[str, Any], status: MemberStatus) -> dict[str, Any]:
    """ChatMember JSON carrying every field PTB requires for ``status``."""
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
            }
        )
        if chat.type == "channel":
            member.update({"can_post_messages": True, "can_edit_messages": True})
        else:
            member["can_pin_messages"] = True
    elif status == "kicked":
        member["until_date"] = 0
    return member
