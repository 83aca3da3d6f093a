"""Fetching a feed politely: conditional GET, a timeout, a size cap, our User-Agent.

A fetch either returns the body (or "not modified") or raises FetchError with a
one-line reason that /feeds shows; nothing else escapes, so one bad feed cannot
disturb the others.

Unless `[intake] allow_private_addresses` is set, a feed is read only from the public
internet: an admin must not be able to make the bot fetch from the machine it runs on
or its private network (a cloud's metadata service at 169.254.169.254, a database on
10.0.0.5). The addresses are checked where they cannot be dodged, in the HTTP client
itself: the ones DNS gives (`_PublicOnlyResolver`) and the ones written in the URL
(`_public_socket`), for every redirect and every later read, so a name that resolved
to a public address when the feed was added and to 127.0.0.1 later (DNS rebinding) is
refused too. `internal_address` checks a feed's address up front, so that /feeds add
can refuse it in plain words.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from importlib import metadata, resources
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

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


class InternalAddress(OSError):
    """A feed's server is on this machine or a private network, and that is not allowed."""


ALLOW_PRIVATE_HINT = (
    "feeds on your own network need [intake] allow_private_addresses = true in the config file"
)


def is_public(address: str) -> bool:
    """Whether an IP address is on the public internet: not loopback, private, link-local
    (169.254.x.x), shared, reserved, multicast, nor an IPv4 one of those in IPv6 form."""
    ip = ipaddress.ip_address(address.partition("%")[0])  # fe80::1%eth0: drop the zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _PublicOnlyResolver(AbstractResolver):
    """DNS as usual, but a name with an internal address among its answers is refused."""

    def __init__(self) -> None:
        self._resolver = aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._resolver.resolve(host, port, family)
        for result in found:
            if not is_public(result["host"]):
                raise InternalAddress(f"{host} resolves to {result['host']}, an internal address")
        return found

    async def close(self) -> None:
        await self._resolver.close()


def _public_socket(addr_info: aiohttp.AddrInfoType) -> socket.socket:
    """The socket for an address given as such (http://10.0.0.5/), which aiohttp does not
    ask the resolver about: refused unless public."""
    family, type_, proto, _, address = addr_info
    if not is_public(str(address[0])):
        raise InternalAddress(f"{address[0]} is an internal address")
    return socket.socket(family, type_, proto)


def client_session(
    timeout_seconds: float, *, allow_private_addresses: bool
) -> aiohttp.ClientSession:
    """The intake's one session: every feed is fetched through it, with our User-Agent."""
    connector = (
        None
        if allow_private_addresses
        else aiohttp.TCPConnector(resolver=_PublicOnlyResolver(), socket_factory=_public_socket)
    )
    return aiohttp.ClientSession(
        headers={"User-Agent": user_agent()},
        timeout=aiohttp.ClientTimeout(total=timeout_seconds),
        connector=connector,
    )


async def internal_address(url: str, timeout_seconds: float) -> str | None:
    """What makes `url`'s host internal ("10.0.0.5 is an internal address", "localhost
    resolves to 127.0.0.1, an internal address"), or None when it is public.

    A host that does not resolve (or not in time) gives None: reading the feed then
    says why it cannot be read.
    """
    host = urlsplit(url).hostname
    if host is None or url.startswith(_BUNDLED):
        return None
    try:
        return None if is_public(host) else f"{host} is an internal address"
    except ValueError:
        pass  # a name, not an address
    resolver = _PublicOnlyResolver()
    try:
        async with asyncio.timeout(timeout_seconds):
            await resolver.resolve(host, family=socket.AF_UNSPEC)
    except InternalAddress as internal:
        return str(internal)
    except (OSError, TimeoutError):
        return None
    finally:
        await resolver.close()
    return None


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
    except aiohttp.ClientConnectorError as error:
        if isinstance(error.os_error, InternalAddress):
            raise FetchError(f"refused: {error.os_error}; {ALLOW_PRIVATE_HINT}") from None
        raise FetchError(f"could not be fetched: {error}") from None
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
