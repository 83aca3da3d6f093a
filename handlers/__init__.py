"""Every handler the bot has, registered in one readable list."""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.commands import GUARDED_COMMANDS
from bot.context import IncidentBotApp
from handlers import (
    admin,
    corrections,
    counts,
    digests,
    errors,
    fallback,
    incidents,
    intake,
    posting,
    start,
    stats,
    subscriptions,
    tension,
    troops,
)

GUARD_GROUP = -1  # runs first; raises ApplicationHandlerStop for anyone not allowed


def register_handlers(app: IncidentBotApp) -> None:
    app.add_handlers(
        [
            CommandHandler(list(GUARDED_COMMANDS), admin.guard_command),
            CallbackQueryHandler(admin.guard_button, pattern=rf"^{posting.DRAFT_PREFIX}:"),
            CallbackQueryHandler(admin.guard_button, pattern=rf"^{intake.PROPOSAL_PREFIX}:"),
        ],
        group=GUARD_GROUP,
    )
    app.add_handlers(
        [
            CommandHandler("start", start.start),
            CommandHandler("help", start.help_command),
            CommandHandler("latest", incidents.latest),
            CommandHandler("incident", incidents.incident),
            CommandHandler("search", incidents.search),
            CommandHandler("count", counts.count),
            CommandHandler("troops", troops.troops),
            CommandHandler("tension", tension.tension),
            *subscriptions.handlers(),
            CommandHandler("digest", digests.digest_now),
            CommandHandler("stats", stats.stats),
            CallbackQueryHandler(incidents.older, pattern=rf"^{incidents.OLDER_PREFIX}:\d+:\d+:"),
            # Admin commands: the guard above has already let only admins through.
            posting.conversation(),
            posting.button_handler(),
            CommandHandler("draft", posting.propose_from_report),
            CommandHandler("edit", corrections.edit),
            CommandHandler("retract", corrections.retract),
            CommandHandler("history", corrections.history),
            CommandHandler("settroops", troops.settroops),
            CommandHandler("grant", admin.grant),
            CommandHandler("revoke", admin.revoke),
            CommandHandler("audit", admin.audit),
            CommandHandler("feeds", intake.feeds),
            CommandHandler("queue", intake.queue),
            intake.button_handler(),
            CommandHandler("cancel", admin.nothing_to_cancel),
            # Last in the group: only what nothing above claimed reaches these.
            MessageHandler(filters.COMMAND, fallback.unknown_command),
            MessageHandler(filters.TEXT & filters.ChatType.PRIVATE, fallback.plain_text),
        ]
    )
    app.add_error_handler(errors.on_error)
