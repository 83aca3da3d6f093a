"""Application assembly: read this file to see what the bot is made of."""

from __future__ import annotations

import logging

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults

from bot.clock import Clock, SystemClock
from bot.commands import PUBLIC_COMMANDS
from bot.config import Settings
from bot.context import BotContext, IncidentBotApp, attach_services, services_of
from bot.services import Services
from handlers import register_handlers

log = logging.getLogger(__name__)


def build_application(settings: Settings, clock: Clock | None = None) -> IncidentBotApp:
    services = Services.create(settings, clock or SystemClock())
    api_root = settings.telegram.api_root
    app: IncidentBotApp = (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(f"{api_root}/bot")
        .base_file_url(f"{api_root}/file/bot")
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=settings.bot.tzinfo,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .context_types(ContextTypes(context=BotContext))
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .build()
    )
    attach_services(app, services)
    register_handlers(app)
    return app


async def on_startup(app: IncidentBotApp) -> None:
    services = services_of(app)
    await services.db.open()
    await app.bot.set_my_commands([command.as_bot_command() for command in PUBLIC_COMMANDS])
    log.info("started as @%s", app.bot.username)


async def on_shutdown(app: IncidentBotApp) -> None:
    await services_of(app).db.close()
