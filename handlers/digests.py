"""/digest, and the job that wakes the digest dispatcher."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from handlers.replies import UsageError


async def digest_now(update: Update, context: BotContext) -> None:
    assert update.effective_chat is not None
    if not await context.services.digests.send_now(update.effective_chat.id):
        raise UsageError("You are not subscribed. /subscribe first, then /digest.")
    context.delivery.wake()


async def dispatch_digests(context: BotContext) -> None:
    """Runs every `delivery.digest_check_seconds`; the database says who is due."""
    report = await context.services.digests.dispatch_due()
    if report.queued:
        context.delivery.wake()
