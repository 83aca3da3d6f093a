"""Checks Telegram applies to what a bot sends: text, markup, photos, commands, webhooks.

Every check answers with Telegram's own error description, so that the bot's
error handling is tested against the messages it will really see.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import struct
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from bot.render.telegram_html import Entity, HtmlError, parse_html, utf16_length
from bot.sandbox.faults import ApiError, bad_request

__all__ = [
    "ALL_UPDATE_TYPES",
    "DEFAULT_UPDATE_TYPES",
    "MAX_CAPTION_LENGTH",
    "MAX_TEXT_LENGTH",
    "FormattedText",
    "Image",
    "allowed_update_types",
    "caption_text",
    "check_text",
    "check_webhook_url",
    "formatted_text",
    "reply_markup_param",
    "sniff_image",
    "validate_commands",
    "validate_reply_markup",
]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_KEYBOARD_BUTTONS = 100
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_NON_BREAKING_SPACES = frozenset("\u00a0\u2007\u202f")

# Exactly one of these makes an inline button do something; a button with none
# is a "text button", which inline keyboards do not allow.
_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
    "web_app",
)


@dataclass(frozen=True)
class FormattedText:
    """Text as Telegram stores it: plain characters plus entities, trimmed."""

    text: str
    entities: tuple[Entity, ...]


def formatted_text(
    raw: str,
    parse_mode: Any,
    entities: Any,
    *,
    entities_name: str = "entities",
) -> FormattedText:
    """Parse ``raw`` as Telegram would for ``parse_mode``, or take explicit ``entities``."""
    if not isinstance(raw, str):
        raise bad_request("message text must be a string")
    if entities is not None:
        parsed = FormattedText(raw, _explicit_entities(raw, entities, entities_name))
    else:
        mode = parse_mode.strip().lower() if isinstance(parse_mode, str) else ""
        if mode == "":
            parsed = FormattedText(raw, ())
        elif mode == "html":
            try:
                result = parse_html(raw)
            except HtmlError as exc:
                raise ApiError(400, str(exc)) from exc
            parsed = FormattedText(result.text, result.entities)
        elif mode in ("markdown", "markdownv2"):
            raise bad_request("unsupported parse_mode in fake")
        else:
            raise bad_request("unsupported parse_mode")
    return _trim(parsed)


def _is_trimmable(char: str) -> bool:
    return char.isspace() and char not in _NON_BREAKING_SPACES


def _trim(value: FormattedText) -> FormattedText:
    # Telegram drops leading and trailing white space and clips entities to what is left;
    # limits and "text is empty" apply to the trimmed text.
    text = value.text
    start = 0
    while start < len(text) and _is_trimmable(text[start]):
        start += 1
    end = len(text)
    while end > start and _is_trimmable(text[end - 1]):
        end -= 1
    if start == 0 and end == len(text):
        return value
    lead = utf16_length(text[:start])
    kept = text[start:end]
    kept_units = utf16_length(kept)
    entities: list[Entity] = []
    for entity in value.entities:
        begin = max(entity.offset - lead, 0)
        finish = min(entity.offset + entity.length - lead, kept_units)
        if finish > begin:
            entities.append(replace(entity, offset=begin, length=finish - begin))
    return FormattedText(kept, tuple(entities))


def _explicit_entities(text: str, entities: Any, name: str) -> tuple[Entity, ...]:
    if not isinstance(entities, list):
        raise bad_request(f"can't parse {name.replace('_', ' ')} JSON object")
    total = utf16_length(text)
    result: list[Entity] = []
    for item in entities:
        if not isinstance(item, dict):
            raise bad_request(f"can't parse {name.replace('_', ' ')} JSON object")
        kind, offset, length = item.get("type"), item.get("offset"), item.get("length")
        if not isinstance(kind, str) or not isinstance(offset, int) or not isinstance(length, int):
            raise bad_request("can't parse entities: entity must have type, offset and length")
        if offset < 0 or length <= 0 or offset + length > total:
            raise bad_request(
                f"can't parse entities: entity beginning at UTF-16 offset {offset} "
                f"with length {length} is outside the text of length {total}"
            )
        result.append(
            Entity(
                type=kind,
                offset=offset,
                length=length,
                url=_optional_str(item.get("url")),
                language=_optional_str(item.get("language")),
                custom_emoji_id=_optional_str(item.get("custom_emoji_id")),
            )
        )
    return tuple(result)


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def validate_reply_markup(markup: Any, *, inline_only: bool = False) -> dict[str, Any]:
    """Check a reply_markup object; returns it unchanged when Telegram would accept it."""
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _validate_inline_keyboard(markup["inline_keyboard"])
        return markup
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        _validate_reply_keyboard(markup["keyboard"])
    elif "remove_keyboard" in markup:
        if markup["remove_keyboard"] is not True:
            raise bad_request("can't parse reply keyboard markup JSON object")
    elif "force_reply" in markup:
        if markup["force_reply"] is not True:
            raise bad_request("can't parse reply keyboard markup JSON object")
    else:
        raise bad_request('can\'t find field "inline_keyboard"')
    return markup


def _validate_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    count = 0
    for row in rows:
        if not isinstance(row, list):
            raise bad_request("can't parse inline keyboard button: row must be an Array")
        for button in row:
            _validate_inline_button(button)
            count += 1
    if count > MAX_KEYBOARD_BUTTONS:
        raise bad_request("reply markup is too long")


def _validate_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [name for name in _INLINE_ACTIONS if name in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used, "
            f"got {', '.join(actions)}"
        )
    action = actions[0]
    if action == "callback_data":
        data = button["callback_data"]
        if not isinstance(data, str):
            raise bad_request("BUTTON_DATA_INVALID")
        size = len(data.encode("utf-8"))
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    elif action == "url" and not _valid_button_url(button["url"]):
        raise bad_request("BUTTON_URL_INVALID")


def _valid_button_url(url: Any) -> bool:
    if not isinstance(url, str) or not url or any(ch.isspace() for ch in url):
        return False
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return bool(parts.hostname)
    return parts.scheme == "tg"


def _validate_reply_keyboard(rows: Any) -> None:
    if not isinstance(rows, list):
        raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
    for row in rows:
        if not isinstance(row, list):
            raise bad_request("can't parse keyboard button: row must be an Array")
        for button in row:
            text = (
                button
                if isinstance(button, str)
                else (button.get("text") if isinstance(button, dict) else None)
            )
            if not isinstance(text, str) or not text.strip():
                raise bad_request(
                    'can\'t parse keyboard button: Field "text" must be of type String'
                )


@dataclass(frozen=True)
class Image:
    kind: str
    width: int
    height: int


def sniff_image(data: bytes) -> Image:
    """The format and size of an uploaded photo, rejecting what Telegram could not process."""
    if not data:
        raise bad_request("file must be non-empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise bad_request("file is too big")
    image = _png(data) or _gif(data) or _jpeg(data) or _webp(data)
    if image is None or image.width <= 0 or image.height <= 0:
        raise bad_request("IMAGE_PROCESS_FAILED")
    longer, shorter = max(image.width, image.height), min(image.width, image.height)
    if image.width + image.height > 10000 or longer / shorter > 20:
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    return image


def _png(data: bytes) -> Image | None:
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return Image("png", width, height)


def _gif(data: bytes) -> Image | None:
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 10:
        return None
    width, height = struct.unpack("<HH", data[6:10])
    return Image("gif", width, height)


def _jpeg(data: bytes) -> Image | None:
    if not data.startswith(b"\xff\xd8"):
        return None
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (segment,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        is_frame = 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC)
        if is_frame and pos + 9 <= len(data):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return Image("jpg", width, height)
        pos += 2 + segment
    return None


def _webp(data: bytes) -> Image | None:
    if len(data) < 30 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return Image("webp", width, height)
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return Image("webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return Image("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    return None


_MAX_COMMANDS = 100


def validate_commands(commands: Any) -> list[dict[str, str]]:
    """A setMyCommands list, checked the way Telegram checks it."""
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > _MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    result: list[dict[str, str]] = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not _COMMAND_NAME.match(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not description.strip() or len(description) > 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        result.append({"command": command, "description": description})
    return result


ALL_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
# What Telegram sends when allowed_updates was never set or was set to [].
DEFAULT_UPDATE_TYPES = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}


def allowed_update_types(value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_request("can't parse allowed updates JSON object")
    # Telegram ignores names it does not know, and treats [] as "the default set".
    known = frozenset(value) & ALL_UPDATE_TYPES
    return known or DEFAULT_UPDATE_TYPES


def check_webhook_url(url: str) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host:
        raise bad_request("bad webhook: invalid webhook URL specified")
    loopback = host == "localhost"
    with contextlib.suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    # Telegram demands HTTPS on ports 80, 88, 443 or 8443. The fake also takes plain
    # HTTP on loopback, because that is where a test's webhook receiver listens.
    if loopback and parts.scheme in ("http", "https"):
        return
    if parts.scheme != "https":
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if (parts.port or 443) not in (80, 88, 443, 8443):
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")


def check_text(content: FormattedText) -> None:
    if not content.text:
        raise bad_request("message text is empty")
    if utf16_length(content.text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")


def caption_text(raw: Any, params: dict[str, Any]) -> FormattedText:
    if raw is None:
        return FormattedText("", ())
    caption = formatted_text(
        raw,
        params.get("parse_mode"),
        params.get("caption_entities"),
        entities_name="caption_entities",
    )
    if utf16_length(caption.text) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return caption


def reply_markup_param(
    params: dict[str, Any], *, inline_only: bool = False
) -> dict[str, Any] | None:
    markup = params.get("reply_markup")
    if markup is None:
        return None
    return validate_reply_markup(markup, inline_only=inline_only)
