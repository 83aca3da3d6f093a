"""Every handler the bot has, registered in one readable list."""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import IncidentBotApp
from handlers import errors, fallback, incidents, start, troops


def register_handlers(app: IncidentBotApp) -> None:
    app.add_handlers(
        [
            CommandHandler("start", start.start),
            CommandHandler("help", start.help_command),
            CommandHandler("latest", incidents.latest),
            CommandHandler("incident", incidents.incident),
            CommandHandler("search", incidents.search),
            CommandHandler("troops", troops.troops),
            CallbackQueryHandler(incidents.older, pattern=rf"^{incidents.OLDER_PREFIX}:\d+:\d+:"),
            # Last in the group: only what nothing above claimed reaches these.
            MessageHandler(filters.COMMAND, fallback.unknown_command),
            MessageHandler(filters.TEXT & filters.ChatType.PRIVATE, fallback.plain_text),
        ]
    )
    app.add_error_handler(errors.on_error)
