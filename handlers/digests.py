"""/digest, and the job that wakes the digest dispatcher."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.render.subscriptions import FOLLOWS_NOTHING
from bot.subscriptions.digests import DIGEST_NOW_GAP, DigestNow
from handlers.group_admins import is_chat_admin
from handlers.incoming import chat_of
from handlers.replies import UsageError


async def digest_now(update: Update, context: BotContext) -> None:
    if not await is_chat_admin(update, context):
        raise UsageError("Only this group's administrators can send its digest.")
    match await context.services.digests.send_now(chat_of(update).id):
        case DigestNow.NOT_SUBSCRIBED:
            raise UsageError("You are not subscribed. /subscribe first, then /digest.")
        case DigestNow.NO_PLACES:
            raise UsageError(FOLLOWS_NOTHING)
        case DigestNow.TOO_SOON:
            minutes = int(DIGEST_NOW_GAP.total_seconds() // 60)
            raise UsageError(
                f"A digest went to this chat less than {minutes} minutes ago. "
                "Try /digest again later."
            )
    context.delivery.wake()


async def dispatch_digests(context: BotContext) -> None:
    """Runs every `delivery.digest_check_seconds`; the database says who is due."""
    report = await context.services.digests.dispatch_due()
    context.services.metrics.digests_dispatched(
        report.queued, report.empty_skipped, report.late_skipped
    )
    if report.queued:
        context.delivery.wake()
