"""Fetching a feed politely: conditional GET, a timeout, a size cap, our User-Agent.

A fetch either returns the body (or "not modified") or raises FetchError with a
one-line reason that /feeds shows; nothing else escapes, so one bad feed cannot
disturb the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata, resources

import aiohttp

# The bundled example feed, for the sandbox and first tries: `/feeds add example`.
EXAMPLE_FEED_URL = "bundled:example-feed.xml"
_BUNDLED = "bundled:"
_CHUNK = 64 * 1024
_HTML_TYPES = ("text/html", "application/xhtml+xml")


class FetchError(Exception):
    """Why a feed could not be read, worded for /feeds."""


@dataclass(frozen=True)
class Fetched:
    """A feed's body, or None when the server said it has not changed (304)."""

    body: bytes | None
    etag: str | None
    last_modified: str | None


def user_agent() -> str:
    return f"incident-bot/{metadata.version('incident-bot')}"


def client_session(timeout_seconds: float) -> aiohttp.ClientSession:
    """The intake's one session: every feed is fetched through it, with our User-Agent."""
    return aiohttp.ClientSession(
        headers={"User-Agent": user_agent()},
        timeout=aiohttp.ClientTimeout(total=timeout_seconds),
    )


async def fetch_feed(
    session: aiohttp.ClientSession,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
) -> Fetched:
    if url.startswith(_BUNDLED):
        return Fetched(_bundled(url), None, None)
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return await _get(session, url, headers, max_bytes, previous=(etag, last_modified))


async def fetch_page(session: aiohttp.ClientSession, url: str, *, max_bytes: int) -> bytes:
    """A web page (a feed item's link), HTML only, read as a feed is."""
    fetched = await _get(
        session, url, {"Accept": ", ".join(_HTML_TYPES)}, max_bytes, html_only=True
    )
    assert fetched.body is not None  # no conditional headers were sent, so no 304
    return fetched.body


async def _get(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    max_bytes: int,
    *,
    previous: tuple[str | None, str | None] = (None, None),
    html_only: bool = False,
) -> Fetched:
    try:
        async with session.get(url, headers=headers, allow_redirects=True) as response:
            if response.status == 304:
                return Fetched(None, *previous)
            if response.status != 200:
                raise FetchError(f"HTTP {response.status} {response.reason or ''}".rstrip())
            if html_only and response.content_type not in _HTML_TYPES:
                raise FetchError(f"not a web page but {response.content_type}")
            body = await _read_capped(response, max_bytes)
            return Fetched(
                body,
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
            )
    except TimeoutError:
        raise FetchError("no answer within the timeout") from None
    except aiohttp.ClientError as error:
        raise FetchError(f"could not be fetched: {error or type(error).__name__}") from None


async def _read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    too_big = FetchError(f"larger than the {max_bytes:,}-byte limit")
    if response.content_length is not None and response.content_length > max_bytes:
        raise too_big
    body = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        body.extend(chunk)
        if len(body) > max_bytes:
            raise too_big
    return bytes(body)


def _bundled(url: str) -> bytes:
    name = url.removeprefix(_BUNDLED)
    try:
        return resources.files("bot.data").joinpath(name).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise FetchError(f"there is no bundled feed called {name}") from None
