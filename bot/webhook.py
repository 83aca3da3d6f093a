"""Webhook mode: Telegram POSTs updates to us instead of us polling for them.

PTB's built-in webhook server cannot also answer health checks, so, as PTB's
customwebhookbot example does, the bot runs its own small aiohttp server and
feeds what it receives to `application.update_queue`. The server:

- accepts updates only with the right `X-Telegram-Bot-Api-Secret-Token` (403
  otherwise, compared in constant time);
- answers `GET /healthz` with the database's reachability, the outbox depth and
  the time of the last update, for load balancers, and `GET /metrics` for Prometheus
  (bot/monitoring.py);
- answers `GET /feed.atom` with the Atom feed of the record, unless `atom_feed.enabled`
  is false.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from telegram import Update

from bot.config import WebhookSettings
from bot.context import IncidentBotApp, services_of
from bot.lifecycle import ALLOWED_UPDATES, running
from bot.monitoring import add_monitoring_routes
from bot.record.atom import ATOM_PATH, atom_of_record, public_atom_url
from bot.render.atom import ATOM_CONTENT_TYPE

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer:
    def __init__(self, app: IncidentBotApp, settings: WebhookSettings) -> None:
        self._app = app
        self._settings = settings
        self._secret = settings.secret.encode()
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        server = web.Application()
        server.router.add_post(self._settings.path, self._receive)
        services = services_of(self._app)
        add_monitoring_routes(server, services.metrics, services.db, services.settings.monitoring)
        if services.settings.atom_feed.enabled:
            server.router.add_get(ATOM_PATH, self._atom)
        self._runner = web.AppRunner(server, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._settings.listen, self._settings.port)
        await site.start()
        log.info(
            "webhook server listening on %s:%s%s",
            self._settings.listen, self._settings.port, self._settings.path,
        )  # fmt: skip

    async def _atom(self, request: web.Request) -> web.Response:
        services = services_of(self._app)
        body = await atom_of_record(
            services.db,
            services.settings.atom_feed,
            self_url=public_atom_url(services.settings),
            now=services.clock.now(),
            zone=services.timezone,
        )
        return web.Response(body=body, headers={"Content-Type": ATOM_CONTENT_TYPE})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        """The port actually bound (useful when configured as 0)."""
        assert self._runner is not None
        for address in self._runner.addresses:
            return int(address[1])
        raise RuntimeError("the webhook server is not listening")

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403, text="wrong or missing secret token")
        try:
            update = Update.de_json(await request.json(), self._app.bot)
        except (json.JSONDecodeError, ValueError, TypeError, KeyError):
            return web.Response(status=400, text="not an update")
        await self._app.update_queue.put(update)
        return web.Response(text="ok")


@asynccontextmanager
async def serving_webhook(
    app: IncidentBotApp, settings: WebhookSettings
) -> AsyncIterator[WebhookServer]:
    """Run the bot on a webhook: register it with Telegram, serve, and stop cleanly.

    On the way out the server stops first, so no update is accepted that the
    bot could no longer handle.
    """
    server = WebhookServer(app, settings)
    async with running(app):
        await server.start()
        try:
            await app.bot.set_webhook(
                url=settings.public_url_with_path,
                secret_token=settings.secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            yield server
        finally:
            await server.stop()
