"""Reading a feed's body into items, with feedparser (RSS 0.9x to 2.0, RSS 1.0, Atom)."""

from __future__ import annotations

import calendar
import hashlib
import re
import textwrap
import time
import xml.sax
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import feedparser

from bot.intake.fetch import FetchError

TITLE_LIMIT = 300


@dataclass(frozen=True)
class FeedItem:
    key: str  # the guid, else the link, else a hash of title and date
    title: str
    link: str | None
    published: datetime | None
    text: str  # the description or content, as plain text


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    items: list[FeedItem]


def parse_feed(body: bytes) -> ParsedFeed:
    """The feed's title and items; FetchError if the body is not a well-formed feed."""
    parsed: Any = feedparser.parse(body, sanitize_html=True, resolve_relative_uris=False)
    problem = parsed.get("bozo_exception")
    if isinstance(problem, xml.sax.SAXException):
        # A truncated or broken document: what feedparser salvages may be half an item.
        raise FetchError(f"not well-formed XML: {problem}")
    if not parsed.get("version"):
        raise FetchError("not an RSS or Atom feed")
    title = _plain(parsed.feed.get("title", ""))
    return ParsedFeed(title=title, items=[_item(entry) for entry in parsed.entries])


def _item(entry: Any) -> FeedItem:
    title = _title_within_limit(_plain(entry.get("title", "")))
    link = entry.get("link") or None
    published = _when(entry.get("published_parsed") or entry.get("updated_parsed"))
    key = entry.get("id") or link or _hash(title, published)
    return FeedItem(key=key, title=title, link=link, published=published, text=_body(entry))


def _title_within_limit(title: str) -> str:
    """A title longer than a form takes, cut at a word with "…" to show it was cut."""
    if len(title) <= TITLE_LIMIT:
        return title
    if " " not in title[: TITLE_LIMIT - 1]:
        return title[: TITLE_LIMIT - 1] + "…"
    return textwrap.shorten(title, TITLE_LIMIT, placeholder="…")


def _body(entry: Any) -> str:
    # Atom's content is the whole text where a feed gives it; the summary is often a teaser.
    contents = [part.get("value", "") for part in entry.get("content", [])]
    longest = max([*contents, entry.get("summary", "")], key=len)
    return _plain(longest)


def _when(parsed: time.struct_time | None) -> datetime | None:
    # feedparser normalises every date it understands to a UTC struct_time.
    if parsed is None:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC)


def _hash(title: str, published: datetime | None) -> str:
    stamp = published.isoformat() if published else ""
    return "sha256:" + hashlib.sha256(f"{title}\n{stamp}".encode()).hexdigest()


class _TextCollector(HTMLParser):
    """Text of an HTML fragment, paragraphs and line breaks kept as new lines."""

    _BREAKS = frozenset({"p", "br", "div", "li", "h1", "h2", "h3", "h4", "blockquote", "tr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        # As in a browser: a line break in the source is a space, only tags break lines.
        self.parts.append(re.sub(r"\s+", " ", data))


def _plain(fragment: str) -> str:
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    text = "".join(collector.parts)
    lines = (line.strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)
