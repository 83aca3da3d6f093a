"""Application assembly: read this file to see what the bot is made of."""

from __future__ import annotations

import logging

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults

from bot.clock import Clock, SystemClock
from bot.commands import menu_for
from bot.config import Settings
from bot.context import (
    BotContext,
    IncidentBotApp,
    attach_delivery,
    attach_services,
    delivery_of,
    services_of,
)
from bot.delivery.decide import OutboxDecider
from bot.delivery.engine import DeliveryEngine
from bot.delivery.rate_limiter import ChatRateLimiter
from bot.http_backend import api_request, polling_request
from bot.monitoring import MeasuredUpdateProcessor
from bot.newsroom.admins import Role
from bot.newsroom.channel import ChannelFeed
from bot.persistence import SqliteConversationPersistence
from bot.services import Services
from handlers import register_handlers
from handlers.admin import show_admin_menus
from handlers.digests import dispatch_digests
from handlers.intake import FEED_READER, read_feeds

DIGEST_DISPATCHER = "digest-dispatcher"

log = logging.getLogger(__name__)


def build_application(settings: Settings, clock: Clock | None = None) -> IncidentBotApp:
    services = Services.create(settings, clock or SystemClock())
    api_root = settings.telegram.api_root
    app: IncidentBotApp = (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(f"{api_root}/bot")
        .base_file_url(f"{api_root}/file/bot")
        .request(api_request(settings.telegram))
        .get_updates_request(polling_request(settings.telegram))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=settings.bot.tzinfo,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .context_types(ContextTypes(context=BotContext))
        .rate_limiter(ChatRateLimiter.from_settings(settings.delivery))
        .persistence(SqliteConversationPersistence(services.db))
        .concurrent_updates(MeasuredUpdateProcessor(services.metrics))
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .build()
    )
    attach_services(app, services)
    delivery = DeliveryEngine(
        app.bot, services.db, services.clock, settings.delivery,
        OutboxDecider(services.db, services.clock), services.metrics,
    )  # fmt: skip
    attach_delivery(app, delivery)
    services.newsroom.listeners.append(delivery)
    if settings.telegram.channel_id is not None:
        services.newsroom.listeners.append(
            ChannelFeed(app.bot, services.db, settings.telegram.channel_id, services.timezone)
        )
    register_handlers(app)
    assert app.job_queue is not None
    app.job_queue.run_repeating(
        dispatch_digests,
        interval=settings.delivery.digest_check_seconds,
        first=1,
        name=DIGEST_DISPATCHER,
    )
    app.job_queue.run_repeating(
        read_feeds, interval=settings.intake.poll_seconds, first=1, name=FEED_READER
    )
    return app


async def on_startup(app: IncidentBotApp) -> None:
    services = services_of(app)
    await services.db.open()
    await services.intake.start()
    await app.bot.set_my_commands(menu_for(Role.NOBODY))
    await show_admin_menus(app)
    await delivery_of(app).start()
    await services.monitoring.start()
    log.info("started as @%s", app.bot.username)


async def on_shutdown(app: IncidentBotApp) -> None:
    await services_of(app).monitoring.stop()
    await delivery_of(app).stop()
    await services_of(app).intake.stop()
    await services_of(app).db.close()
    # When start-up failed (a refused token, an unreachable API), PTB never shut the bot
    # down, and its HTTP sessions would be reported unclosed at exit; this closes them
    # (and does nothing after a normal shutdown).
    await app.bot.shutdown()
