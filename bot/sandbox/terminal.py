"""Bot messages as a terminal shows them: formatting, links, inline buttons, summaries.

The input is what Telegram would store (plain text plus entities, as the fake Bot API
records it), not the bot's HTML, so the sandbox shows exactly what a Telegram client
would have to show. Formatting becomes ANSI escapes only for a terminal; for a script's
output, which ends up in files and documentation, it is left out, and only what carries
meaning without it stays visible: a link's address after its text.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.render.telegram_html import Entity
from bot.sandbox.objects import SentMessage

__all__ = [
    "Button",
    "button_lines",
    "buttons_of",
    "first_words",
    "format_text",
    "message_lines",
]

_RESET = "\x1b[0m"
_SGR = {
    "bold": "1",
    "italic": "3",
    "underline": "4",
    "strikethrough": "9",
    "spoiler": "7",
    "code": "36",
    "pre": "36",
    "text_link": "4;34",
    "link_address": "2",
}
# The order codes are written in, so that equal styles always give equal escapes.
_SGR_ORDER = tuple(_SGR)
_SUMMARY_WIDTH = 72
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Button:
    """An inline button as the console numbers it: [number] label."""

    number: int
    label: str
    callback_data: str | None
    url: str | None

    def shown(self) -> str:
        if self.url is not None:
            return f"[{self.number}] {self.label} ({self.url})"
        return f"[{self.number}] {self.label}"


def buttons_of(message: SentMessage) -> list[list[Button]]:
    """The message's inline keyboard, numbered from 1 row by row, left to right."""
    rows: list[list[Button]] = []
    number = 0
    keyboard: list[list[dict[str, Any]]] = (message.reply_markup or {}).get("inline_keyboard", [])
    for row in keyboard:
        shown_row = []
        for button in row:
            number += 1
            data, url = button.get("callback_data"), button.get("url")
            shown_row.append(
                Button(
                    number=number,
                    label=str(button.get("text", "")),
                    callback_data=data if isinstance(data, str) else None,
                    url=url if isinstance(url, str) else None,
                )
            )
        rows.append(shown_row)
    return rows


def button_lines(rows: Iterable[Sequence[Button]]) -> list[str]:
    """One line per keyboard row: `[1] Publish  [2] Edit  [3] Cancel`."""
    return ["  ".join(button.shown() for button in row) for row in rows if row]


def format_text(text: str, entities: Sequence[Entity], *, ansi: bool) -> str:
    """Text with its entities applied: ANSI styles if asked, link addresses in brackets."""
    if not text:
        return ""
    index_of = _python_index_of_utf16(text)
    styles: list[set[str]] = [set() for _ in text]
    addresses: dict[int, list[str]] = {}
    for entity in entities:
        start = index_of.get(entity.offset)
        end = index_of.get(entity.offset + entity.length)
        if start is None or end is None or start >= end:
            continue  # the fake validated the entities; nothing sensible to draw otherwise
        for index in range(start, end):
            styles[index].add(entity.type)
        if (
            entity.type == "text_link"
            and entity.url
            and not _shows_address(text[start:end], entity.url)
        ):
            addresses.setdefault(end, []).append(entity.url)

    pieces: list[tuple[str, frozenset[str]]] = []
    for index, char in enumerate(text):
        for url in addresses.get(index, ()):
            pieces.append((f" ({url})", frozenset({"link_address"})))
        pieces.append((char, frozenset(styles[index] & _SGR.keys())))
    for url in addresses.get(len(text), ()):
        pieces.append((f" ({url})", frozenset({"link_address"})))
    if not ansi:
        return "".join(piece for piece, _ in pieces)
    return _with_escapes(pieces)


def message_lines(
    message: SentMessage,
    *,
    ansi: bool,
    photo_path: str | None = None,
    previous: SentMessage | None = None,
) -> list[str]:
    """A bot message as lines for the console, before indentation.

    A photo is a line naming where it was saved, then its caption; the inline keyboard
    follows, numbered. An edit is marked `(edited)` and, when `previous` (the version
    shown before) is known, shows only the lines that changed, with `…` for the rest:
    menus and previews are edited in place, and printing them whole at every tap would
    bury the change.
    """
    text = _text_lines(message, ansi=ansi)
    keyboard = button_lines(buttons_of(message))
    if not message.method.startswith("editMessage"):
        photo = [f"[photo saved to {photo_path}]" if photo_path else _describe_photo(message)]
        lines = [*(photo if message.photo is not None else []), *text, *keyboard]
        return lines or ["(empty message)"]
    if previous is not None:
        text = _changed_lines(_text_lines(previous, ansi=ansi), text)
        if previous.reply_markup and not keyboard:
            keyboard = ["(buttons removed)"]
    lines = [*text, *keyboard] or ["(no visible change)"]
    return [f"(edited) {lines[0]}", *lines[1:]]


def _describe_photo(message: SentMessage) -> str:
    data = message.photo or b""
    if data.startswith(_PNG_SIGNATURE) and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return f"[photo, {width}×{height}]"
    return "[photo]"


def _text_lines(message: SentMessage, *, ansi: bool) -> list[str]:
    if not message.text:
        return []  # a photo without a caption
    return format_text(message.text, message.entities, ansi=ansi).split("\n")


def _changed_lines(before: list[str], after: list[str]) -> list[str]:
    """`after` with the lines it shares with `before` at either end replaced by `…`."""
    head = 0
    while head < min(len(before), len(after)) and before[head] == after[head]:
        head += 1
    tail = 0
    while (
        tail < min(len(before), len(after)) - head
        and before[len(before) - 1 - tail] == after[len(after) - 1 - tail]
    ):
        tail += 1
    if head + tail < 2:
        return after  # hardly anything in common: the whole text says more
    middle = after[head : len(after) - tail]
    # Blank lines at the edges of the change only separated it from what is left out.
    while middle and not middle[0].strip():
        middle.pop(0)
    while middle and not middle[-1].strip():
        middle.pop()
    return [*(["…"] if head else []), *middle, *(["…"] if tail else [])]


def first_words(message: SentMessage, width: int = _SUMMARY_WIDTH) -> str:
    """The gist of a message in one line: its first line, and the next if the first is short.

    Alerts and digests start with a heading ("🚨 New incident"), which alone would not
    say which incident.
    """
    lines = [line.strip() for line in message.text.split("\n") if line.strip()]
    if not lines:
        return "a photo" if message.photo is not None else "(empty message)"
    gist = lines[0]
    if len(lines) > 1 and len(gist) < width // 2:
        gist = f"{gist} — {lines[1]}"
    if message.photo is not None:
        gist = f"[photo] {gist}"
    return gist if len(gist) <= width else gist[: width - 1].rstrip() + "…"


def _python_index_of_utf16(text: str) -> dict[int, int]:
    """UTF-16 offset → index into the Python string, at every character boundary."""
    mapping: dict[int, int] = {}
    units = 0
    for index, char in enumerate(text):
        mapping[units] = index
        units += 2 if ord(char) > 0xFFFF else 1
    mapping[units] = len(text)
    return mapping


def _shows_address(label: str, url: str) -> bool:
    """Whether the link's text already is its address, so repeating it would be noise."""
    bare = url.removeprefix("https://").removeprefix("http://").rstrip("/")
    return label.strip().rstrip("/") in (url.rstrip("/"), bare)


def _with_escapes(pieces: list[tuple[str, frozenset[str]]]) -> str:
    out: list[str] = []
    current: frozenset[str] = frozenset()
    for piece, style in pieces:
        # A newline is drawn unstyled: a style left open would colour the indentation
        # the console puts in front of the next line.
        if piece == "\n":
            if current:
                out.append(_RESET)
                current = frozenset()
            out.append(piece)
            continue
        if style != current:
            if current:
                out.append(_RESET)
            codes = [_SGR[name] for name in _SGR_ORDER if name in style]
            if codes:
                out.append(f"\x1b[{';'.join(codes)}m")
            current = style
        out.append(piece)
    if current:
        out.append(_RESET)
    return "".join(out)
