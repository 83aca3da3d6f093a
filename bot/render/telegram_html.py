"""Telegram Bot API "HTML" parse mode: parsing into text and entities, and splitting.

The parser follows tdlib's `parse_html` (the code behind the Bot API) closely, including its
error wording, so that the fake Bot API server rejects what real Telegram rejects. Where
Telegram is lenient it is stricter: a bare "&" or ">" and unknown or unterminated character
references are errors, because the bot must escape them anyway and a lenient fake would hide
the missing escape. The same tokens drive `split_html`, so a piece can never be cut inside a
tag or a character reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias

__all__ = [
    "Entity",
    "HtmlError",
    "ParsedHtml",
    "parse_html",
    "split_html",
    "utf16_length",
]

_PREFIX = "Bad Request: can't parse entities: "

# tdlib's is_space() also counts NUL: its tag scanning stops at the end of a C string that way.
_SPACES = frozenset(" \t\r\n\v\f\0")

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

_PLAIN_RUN = re.compile(r"[^&<>]+")
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

# tdlib orders entities sharing a span by type priority; copying it keeps our output
# comparable with what real Telegram returns.
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}

_MAX_CUSTOM_EMOJI_ID = 2**63 - 1
_LANGUAGE_CLASS = "language-"

# Breaking a line at one of these would glue words the writer meant to keep together.
_NON_BREAKING_SPACES = frozenset("\u00a0\u2007\u202f")


class HtmlError(ValueError):
    """Raised for text Telegram would refuse; str(err) is Telegram's description, e.g.
    "Bad Request: can't parse entities: Unsupported start tag \"div\" at byte offset 5"."""


@dataclass(frozen=True)
class Entity:
    """One Bot API MessageEntity; offset and length count UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None

    def to_api(self) -> dict[str, object]:
        """The entity as Bot API JSON, leaving out fields that do not apply."""
        api: dict[str, object] = {"type": self.type, "offset": self.offset, "length": self.length}
        for key, value in (
            ("url", self.url),
            ("language", self.language),
            ("custom_emoji_id", self.custom_emoji_id),
        ):
            if value is not None:
                api[key] = value
        return api


@dataclass(frozen=True)
class ParsedHtml:
    """The plain text Telegram would store and the entities that format it."""

    text: str
    entities: tuple[Entity, ...]

    @property
    def length(self) -> int:
        """Length of the text as Telegram counts it, in UTF-16 code units."""
        return utf16_length(self.text)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units: characters outside the BMP count twice."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# A named tuple, not a dataclass: there is one per character of every message, so it must be
# cheap to make.
class _Char(NamedTuple):
    """One character of plain text and the markup it was written as."""

    source: str
    char: str


@dataclass(frozen=True)
class _Open:
    source: str
    name: str
    entity_type: str
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None


@dataclass(frozen=True)
class _Close:
    source: str


_Token: TypeAlias = _Char | _Open | _Close


def _error(detail: str) -> HtmlError:
    return HtmlError(_PREFIX + detail)


def _char_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


class _Lexer:
    """Splits HTML into tokens, raising HtmlError exactly where Telegram would give up."""

    def __init__(self, html: str) -> None:
        self.html = html
        self.pos = 0
        self.tokens: list[_Token] = []
        self.open_tags: list[_Open] = []

    def byte_offset(self, pos: int) -> int:
        return len(self.html[:pos].encode("utf-8", "surrogatepass"))

    def peek(self) -> str:
        return self.html[self.pos] if self.pos < len(self.html) else ""

    def skip_spaces(self) -> None:
        while self.pos < len(self.html) and self.html[self.pos] in _SPACES:
            self.pos += 1

    def skip_until(self, stops: str) -> None:
        while self.pos < len(self.html) and (
            self.html[self.pos] not in _SPACES and self.html[self.pos] not in stops
        ):
            self.pos += 1

    def run(self) -> list[_Token]:
        while self.pos < len(self.html):
            char = self.html[self.pos]
            if char == "&":
                begin = self.pos
                decoded = self.reference()
                self.tokens.append(_Char(self.html[begin : self.pos], decoded))
            elif char == "<":
                if self.html.startswith("</", self.pos):
                    self.end_tag()
                else:
                    self.start_tag()
            elif char == ">":
                raise self.unescaped(char)
            else:
                plain = _PLAIN_RUN.match(self.html, self.pos)
                assert plain is not None, "a character other than & < > starts a plain run"
                self.tokens.extend(_Char(char, char) for char in plain.group())
                self.pos = plain.end()
        if self.open_tags:
            name = self.open_tags[-1].name
            raise _error(f'Can\'t find end tag corresponding to start tag "{name}"')
        return self.tokens

    def unescaped(self, char: str) -> HtmlError:
        escape = {"<": "&lt;", ">": "&gt;"}[char]
        return _error(
            f'Character "{char}" at byte offset {self.byte_offset(self.pos)}'
            f' must be escaped as "{escape}"'
        )

    def reference(self) -> str:
        """Decode the character reference at pos, which holds "&", and move past it."""
        begin = self.pos
        html = self.html
        end = begin + 1
        decoded = ""
        if html.startswith("#", end):
            end += 1
            is_hex = html.startswith("x", end)
            digits = "0123456789abcdefABCDEF" if is_hex else "0123456789"
            if is_hex:
                end += 1
            digits_begin = end
            while end < len(html) and html[end] in digits:
                end += 1
            # tdlib's limits: at most 9 characters before ";", nothing from U+10FFFF up.
            if digits_begin < end and end - begin < 10:
                code = int(html[digits_begin:end], 16 if is_hex else 10)
                if 0xD800 <= code <= 0xDFFF:
                    raise _error(
                        "Text contains invalid Unicode characters after decoding HTML entities,"
                        " check for unmatched surrogate code units"
                    )
                if 0 < code < 0x10FFFF:
                    decoded = chr(code)
        else:
            while end < len(html) and html[end].isascii() and html[end].isalpha():
                end += 1
            decoded = _NAMED_REFERENCES.get(html[begin + 1 : end], "")
        if not decoded or not html.startswith(";", end):
            raise _error(
                f'Character "&" at byte offset {self.byte_offset(begin)} must be escaped as "&amp;"'
            )
        self.pos = end + 1
        return decoded

    def at(self, pos: int) -> str:
        return f"at byte offset {self.byte_offset(pos)}"

    def start_tag(self) -> None:
        begin = self.pos
        self.pos += 1
        self.skip_until(">")
        if self.pos == len(self.html):
            raise _error(f"Unclosed start tag {self.at(begin)}")
        name = self.html[begin + 1 : self.pos].lower()
        if name not in _ENTITY_TYPES:
            raise _error(f'Unsupported start tag "{name}" {self.at(begin)}')

        attributes: dict[str, str] = {}
        expandable = False
        while True:
            self.skip_spaces()
            if self.pos == len(self.html):
                raise _error(f'Unclosed start tag "{name}" {self.at(begin)}')
            if self.peek() == ">":
                self.pos += 1
                break
            name_begin = self.pos
            self.skip_until("=>")
            attribute = self.html[name_begin : self.pos]
            if not attribute:
                raise _error(f'Empty attribute name in the tag "{name}" {self.at(begin)}')
            self.skip_spaces()
            if self.peek() != "=":
                if name == "blockquote" and attribute == "expandable":
                    expandable = True
                    continue
                raise _error(
                    "Expected equal sign in declaration of an attribute of the tag"
                    f' "{name}" {self.at(begin)}'
                )
            self.pos += 1
            self.skip_spaces()
            attributes[attribute] = self.attribute_value(begin, name)

        self.open_tags.append(self.make_open_tag(begin, name, attributes, expandable))
        self.tokens.append(self.open_tags[-1])

    def attribute_value(self, tag_begin: int, tag_name: str) -> str:
        value = self.quoted_value() if self.peek() in ("'", '"') else self.name_token()
        if self.pos == len(self.html):
            raise _error(f'Unclosed start tag "{tag_name}" {self.at(tag_begin)}')
        return value

    def name_token(self) -> str:
        # An unquoted value is an SGML name token, which HTML treats case-insensitively.
        html = self.html
        begin = self.pos
        while self.pos < len(html) and (
            (html[self.pos].isascii() and html[self.pos].isalnum()) or html[self.pos] in ".-"
        ):
            self.pos += 1
        if self.pos < len(html) and html[self.pos] not in _SPACES and html[self.pos] != ">":
            raise _error(f"Unexpected end of name token {self.at(begin)}")
        return html[begin : self.pos].lower()

    def quoted_value(self) -> str:
        html = self.html
        quote = html[self.pos]
        self.pos += 1
        value: list[str] = []
        while self.pos < len(html) and html[self.pos] != quote:
            char = html[self.pos]
            if char == "&":
                value.append(self.reference())
            elif char in "<>":
                raise self.unescaped(char)
            else:
                value.append(char)
                self.pos += 1
        if self.pos < len(html):
            self.pos += 1
        return "".join(value)

    def make_open_tag(
        self, begin: int, name: str, attributes: dict[str, str], expandable: bool
    ) -> _Open:
        source = self.html[begin : self.pos]
        entity_type = _ENTITY_TYPES[name]
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise _error(f'Tag "span" must have class "tg-spoiler" {self.at(begin)}')
        if name == "a":
            # Telegram falls back to the link text for a missing href and silently drops
            # the link if that is no URL; demanding href turns that silent loss into an error.
            url = attributes.get("href")
            if not url:
                raise _error(f'Tag "a" must have a non-empty attribute "href" {self.at(begin)}')
            return _Open(source, name, entity_type, url=url)
        if name == "tg-emoji":
            emoji_id = attributes.get("emoji-id", "")
            if not (emoji_id.isascii() and emoji_id.isdigit()) or not (
                0 < int(emoji_id) <= _MAX_CUSTOM_EMOJI_ID
            ):
                raise _error("Invalid custom emoji identifier specified")
            return _Open(source, name, entity_type, custom_emoji_id=emoji_id)
        if name == "code":
            css_class = attributes.get("class", "")
            has_language = css_class.startswith(_LANGUAGE_CLASS)
            language = css_class.removeprefix(_LANGUAGE_CLASS) if has_language else ""
            return _Open(source, name, entity_type, language=language or None)
        if name == "blockquote" and expandable:
            return _Open(source, name, "expandable_blockquote")
        return _Open(source, name, entity_type)

    def end_tag(self) -> None:
        begin = self.pos
        if not self.open_tags:
            raise _error(f"Unexpected end tag {self.at(begin)}")
        self.pos += 2
        self.skip_until(">")
        name = self.html[begin + 2 : self.pos].lower()
        self.skip_spaces()
        if self.peek() != ">":
            raise _error(f"Unclosed end tag {self.at(begin)}")
        self.pos += 1
        expected = self.open_tags[-1].name
        # Like Telegram, "</>" closes whatever is open.
        if name and name != expected:
            raise _error(
                f'Unmatched end tag {self.at(begin)}, expected "</{expected}>", found "</{name}>"'
            )
        self.open_tags.pop()
        self.tokens.append(_Close(self.html[begin : self.pos]))


def _tokenize(html: str) -> list[_Token]:
    return _Lexer(html).run()


@dataclass
class _Frame:
    tag: _Open
    offset: int
    # Telegram drops entities inside code or pre, and blockquotes inside blockquotes.
    in_code: bool
    in_quote: bool
    suppressed: bool
    # The last non-empty child, to recognise <pre><code class="language-x"> as one entity.
    last_child: tuple[_Open, int, int] | None = None


def _frame_entity(frame: _Frame, length: int) -> Entity:
    tag = frame.tag
    child = frame.last_child
    if tag.name in ("pre", "code") and child is not None and child[1:] == (frame.offset, length):
        inner = child[0]
        if tag.name == "pre" and inner.name == "code" and inner.language:
            return Entity("pre", frame.offset, length, language=inner.language)
        if tag.name == "code" and inner.name == "pre" and tag.language:
            return Entity("pre", frame.offset, length, language=tag.language)
    return Entity(
        tag.entity_type,
        frame.offset,
        length,
        url=tag.url,
        custom_emoji_id=tag.custom_emoji_id,
    )


def _parse_tokens(tokens: list[_Token]) -> ParsedHtml:
    text: list[str] = []
    entities: list[Entity] = []
    frames: list[_Frame] = []
    offset = 0
    for token in tokens:
        if isinstance(token, _Char):
            text.append(token.char)
            offset += _char_units(token.char)
        elif isinstance(token, _Open):
            parent_code = bool(frames) and frames[-1].in_code
            parent_quote = bool(frames) and frames[-1].in_quote
            is_quote = token.name == "blockquote"
            frames.append(
                _Frame(
                    tag=token,
                    offset=offset,
                    in_code=parent_code or token.name in ("code", "pre"),
                    in_quote=parent_quote or is_quote,
                    suppressed=parent_code or (is_quote and parent_quote),
                )
            )
        else:
            frame = frames.pop()
            length = offset - frame.offset
            # Telegram creates no entity for an empty element.
            if length == 0:
                continue
            if not frame.suppressed:
                entities.append(_frame_entity(frame, length))
            if frames:
                frames[-1].last_child = (frame.tag, frame.offset, length)
    entities.sort(key=lambda entity: (entity.offset, -entity.length, _PRIORITY[entity.type]))
    return ParsedHtml("".join(text), tuple(entities))


def parse_html(html: str) -> ParsedHtml:
    """Parse Telegram HTML into plain text and entities; raise HtmlError where Telegram would.

    Empty text is not an error here: whether an empty message is acceptable is the caller's
    decision.
    """
    return _parse_tokens(_tokenize(html))


def _is_breakable_space(char: str) -> bool:
    return char.isspace() and char not in _NON_BREAKING_SPACES


def _next_break(tokens: list[_Token], start: int, limit: int) -> tuple[int, int]:
    """Where the piece starting at `start` ends, and where the next one starts.

    The two differ by one when the piece ends at a newline or space, which is dropped.
    """
    used = 0
    newline: int | None = None
    space: int | None = None
    after_last_fitting = start
    for index in range(start, len(tokens)):
        token = tokens[index]
        if not isinstance(token, _Char):
            continue
        if token.char == "\n":
            newline = index
        elif _is_breakable_space(token.char):
            space = index
        used += _char_units(token.char)
        if used > limit:
            at = newline if newline is not None else space
            if at is not None:
                return at, at + 1
            # Closing tags right after the last character that fits belong to this piece;
            # moving them on would leave empty elements at the start of the next one.
            end = after_last_fitting
            while isinstance(tokens[end], _Close):
                end += 1
            return end, end
        after_last_fitting = index + 1
    return len(tokens), len(tokens)


def _closing_tags(open_tags: list[_Open]) -> str:
    return "".join(f"</{tag.name}>" for tag in reversed(open_tags))


def split_html(html: str, limit: int = 4096) -> list[str]:
    """Split valid Telegram HTML into pieces that each parse and hold at most `limit` UTF-16
    code units of text.

    Pieces end at the last newline that fits, else at the last space, else mid-word; the
    newline or space at a break is dropped. Formatting open at a break is closed at the end
    of the piece and reopened, with the same attributes, at the start of the next. Pieces
    that would hold only whitespace are left out. HTML that already fits comes back as is.
    """
    if limit < 2:
        # Below two units a character outside the BMP could never fit in any piece.
        raise ValueError(f"limit must be at least 2, not {limit}")
    tokens = _tokenize(html)
    if _parse_tokens(tokens).length <= limit:
        return [html]
    pieces: list[str] = []
    open_tags: list[_Open] = []
    start = 0
    while start < len(tokens):
        end, resume = _next_break(tokens, start, limit)
        body = tokens[start:end]
        reopened = "".join(tag.source for tag in open_tags)
        for token in body:
            if isinstance(token, _Open):
                open_tags.append(token)
            elif isinstance(token, _Close):
                open_tags.pop()
        if any(isinstance(token, _Char) and not token.char.isspace() for token in body):
            pieces.append(
                reopened + "".join(token.source for token in body) + _closing_tags(open_tags)
            )
        start = resume
    return pieces
