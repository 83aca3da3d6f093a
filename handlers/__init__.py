"""Every handler the bot has, built and registered here in one readable list.

The modules export their callbacks and the patterns of their buttons; the handler
objects, and so the order in which they are tried, are all in this file.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.commands import GUARDED_COMMANDS
from bot.context import IncidentBotApp
from handlers import (
    admin,
    corrections,
    counts,
    digests,
    errors,
    fallback,
    flood,
    incidents,
    intake,
    posting,
    start,
    stats,
    subscriptions,
    tension,
    troops,
)

FLOOD_GROUP = -2  # runs first; stops everything from someone sending too fast
GUARD_GROUP = -1  # raises ApplicationHandlerStop for anyone not allowed


def register_handlers(app: IncidentBotApp) -> None:
    app.add_handler(TypeHandler(Update, flood.flood_guard), group=FLOOD_GROUP)
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
            CommandHandler("subscribe", subscriptions.subscribe),
            CommandHandler("settings", subscriptions.settings),
            CommandHandler("unsubscribe", subscriptions.unsubscribe),
            CommandHandler("watch", subscriptions.watch),
            CommandHandler("unwatch", subscriptions.unwatch),
            CallbackQueryHandler(subscriptions.menu_button, pattern=subscriptions.MENU_PATTERN),
            MessageHandler(filters.StatusUpdate.MIGRATE, subscriptions.chat_migrated),
            CommandHandler("digest", digests.digest_now),
            CommandHandler("stats", stats.stats),
            CallbackQueryHandler(incidents.older, pattern=incidents.OLDER_PATTERN),
            # Admin commands: the guard above has already let only admins through.
            ConversationHandler(
                entry_points=[CommandHandler("post", posting.post)],
                states={
                    posting.ASKING: [
                        MessageHandler(filters.TEXT & ~filters.COMMAND, posting.guided_answer)
                    ]
                },
                fallbacks=[
                    CommandHandler("cancel", posting.cancel),
                    CommandHandler("post", posting.post),
                ],
                name=posting.CONVERSATION,
                persistent=True,
            ),
            CallbackQueryHandler(posting.draft_button, pattern=posting.BUTTON_PATTERN),
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
            CallbackQueryHandler(intake.proposal_button, pattern=intake.BUTTON_PATTERN),
            CommandHandler("cancel", admin.nothing_to_cancel),
            # Last in the group: only what nothing above claimed reaches these.
            MessageHandler(filters.COMMAND, fallback.unknown_command),
            MessageHandler(filters.TEXT & filters.ChatType.PRIVATE, fallback.plain_text),
        ]
    )
    app.add_error_handler(errors.on_error)
