"""Reading Bot API parameters off the wire the way Telegram does.

Telegram accepts the same parameters as a query string, as form data, as
multipart form data and as a JSON body, and converts each value to the type the
method expects. PTB sends form data in which strings are raw but numbers,
booleans, lists and objects are JSON-encoded (``chat_id=42``,
``reply_markup={"inline_keyboard": ...}``), so decoding is driven by the
parameter's name, as on the real server, not by guessing from the value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from bot.sandbox.faults import bad_request

__all__ = ["Upload", "coerce_params", "read_params"]


@dataclass(frozen=True)
class Upload:
    """A file that arrived as a multipart part."""

    name: str
    filename: str | None
    content_type: str
    data: bytes = field(repr=False)


_INT_FIELDS = frozenset(
    {
        "message_id",
        "from_chat_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "reply_to_message_id",
        "max_connections",
        "message_thread_id",
        "cache_time",
        "until_date",
        "width",
        "height",
        "duration",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "disable_web_page_preview",
        "show_alert",
        "drop_pending_updates",
        "has_spoiler",
        "allow_sending_without_reply",
        "show_caption_above_media",
        "only_if_banned",
        "revoke_messages",
        "allow_paid_broadcast",
        "for_channels",
    }
)
_JSON_FIELDS: dict[str, str] = {
    # Field name -> what Telegram calls it in its "can't parse" error.
    "reply_markup": "reply keyboard markup",
    "entities": "entities",
    "caption_entities": "caption entities",
    "allowed_updates": "allowed updates",
    "commands": "commands",
    "scope": "BotCommandScope",
    "link_preview_options": "link preview options",
    "reply_parameters": "reply parameters",
    "media": "media",
    "rights": "rights",
}
_STR_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "language_code",
        "action",
        "file_id",
        "inline_message_id",
    }
)
_INTEGER = re.compile(r"^[+-]?\d+$")


async def read_params(request: web.Request) -> dict[str, Any]:
    """All parameters of one request, decoded to Python values; files become ``Upload``."""
    raw: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        content_type = request.content_type
        if content_type == "application/json":
            body = await request.read()
            if body.strip():
                try:
                    decoded = json.loads(body)
                except ValueError as exc:
                    raise bad_request("can't parse JSON encoded request body") from exc
                if not isinstance(decoded, dict):
                    raise bad_request("JSON encoded request body must be an object")
                raw.update(decoded)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, FileField):
                    raw[name] = Upload(
                        name=name,
                        filename=value.filename,
                        content_type=value.content_type,
                        data=value.file.read(),
                    )
                elif isinstance(value, bytes):
                    raw[name] = value.decode("utf-8", errors="replace")
                else:
                    raw[name] = value
    return coerce_params(raw)


def coerce_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Convert each known parameter to its Bot API type; unknown ones pass through unchanged."""
    params: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None:
            continue
        if isinstance(value, Upload):
            params[name] = value
        elif name == "chat_id":
            params[name] = _chat_id(value)
        elif name in _INT_FIELDS:
            params[name] = _integer(name, value)
        elif name in _BOOL_FIELDS:
            params[name] = _boolean(name, value)
        elif name in _JSON_FIELDS:
            params[name] = _json(name, value)
        elif name in _STR_FIELDS and isinstance(value, int | float | bool):
            params[name] = json.dumps(value) if isinstance(value, bool) else str(value)
        else:
            params[name] = value
    return params


def _chat_id(value: Any) -> int | str:
    # A chat is named by its numeric id or, for public chats, by "@username".
    if isinstance(value, bool):
        raise bad_request("chat not found")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.match(text):
            return int(text)
        if text.startswith("@") and len(text) > 1:
            return text
        if not text:
            raise bad_request("chat_id is empty")
    raise bad_request("chat not found")


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise bad_request(f"invalid {name} specified")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    raise bad_request(f"invalid {name} specified")


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "false", "0", ""):
        return value.strip().lower() in ("true", "1")
    raise bad_request(f"invalid {name} specified")


def _json(name: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise bad_request(f"can't parse {_JSON_FIELDS[name]} JSON object") from exc
    return value
