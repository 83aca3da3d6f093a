"""A news site on 127.0.0.1 for the intake's tests: feeds it can change, break or stall."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Served:
    """One path's answer: a body with its ETag, or a failure."""

    body: bytes = b""
    content_type: str = "application/rss+xml"
    etag: str | None = None
    status: int = 200
    stall: bool = False  # never answer (until the server stops)
    conditional: bool = True  # honour If-None-Match with a 304
    requests: list[dict[str, str]] = field(default_factory=list)


class FeedServer:
    def __init__(self) -> None:
        self.paths: dict[str, Served] = {}
        self._runner: web.AppRunner | None = None
        self._stop = asyncio.Event()
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, served: Served) -> str:
        self.paths[path] = served
        return self.url(path)

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        served = self.paths.get(request.path)
        if served is None:
            return web.Response(status=404)
        served.requests.append(dict(request.headers))
        if served.stall:
            await self._stop.wait()
        if served.status != 200:
            return web.Response(status=served.status, text="server error")
        if (
            served.conditional
            and served.etag is not None
            and request.headers.get("If-None-Match") == served.etag
        ):
            return web.Response(status=304)
        headers = {"ETag": served.etag} if served.etag else {}
        return web.Response(body=served.body, content_type=served.content_type, headers=headers)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._stop.set()
        if self._runner is not None:
            await self._runner.cleanup()


@asynccontextmanager
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def rss(title: str, items: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://news.example.org/</link>"
        f"<description>Test feed</description>{''.join(items)}</channel></rss>"
    ).encode()


def rss_item(guid: str, title: str, published: str, text: str, link: str | None = None) -> str:
    link_element = f"<link>{link}</link>" if link else ""
    return (
        f'<item><title>{title}</title>{link_element}<guid isPermaLink="false">{guid}</guid>'
        f"<pubDate>{published}</pubDate><description>{text}</description></item>"
    )


def atom(title: str, entries: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{title}</title><id>urn:example:feed</id><updated>2025-01-15T09:00:00Z</updated>"
        f"{''.join(entries)}</feed>"
    ).encode()


def atom_entry(entry_id: str, title: str, updated: str, text: str, link: str) -> str:
    return (
        f"<entry><id>{entry_id}</id><title>{title}</title><updated>{updated}</updated>"
        f'<link href="{link}"/><summary>{text}</summary></entry>'
    )
