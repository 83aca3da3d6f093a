"""/start and /help."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from bot.commands import ADMIN_COMMANDS, PUBLIC_COMMANDS, CommandInfo
from bot.context import BotContext
from bot.newsroom.admins import Role
from bot.render.incidents import esc
from bot.render.subscriptions import subscription_summary
from bot.subscriptions.service import DEEP_LINK_PREFIX
from handlers.incoming import acting_user_id
from handlers.replies import reply_html
from handlers.subscriptions import subscribe_from_link

WELCOME = (
    "<b>Incident bot</b>\n\n"
    "I keep a careful record of security incidents — rocket and drone attacks on bases, "
    "strikes and clashes — in Iraq, Syria and the wider Middle East, each with its "
    "sources, and the troop figures behind them.\n\n"
    "Try /latest for the newest incidents, /latest 10 Syria for one country, "
    "/troops for deployments, or /help for everything I can do.\n\n"
    "/subscribe sends you alerts and a daily digest for the places you follow."
)
RESUMED = (
    "Welcome back: your alerts and digests, stopped while I could not reach you, are on again."
)


async def start(update: Update, context: BotContext) -> None:
    """/start, or /start sub_iraq from a t.me/<bot>?start=sub_iraq link."""
    payload = context.args[0] if context.args else ""
    if payload.startswith(DEEP_LINK_PREFIX):
        await subscribe_from_link(update, context, payload)
        return
    chat = update.effective_chat
    # Telegram sends /start when someone who blocked the bot unblocks it (Restart).
    resumed = (
        await context.services.subscriptions.resume_if_paused(chat.id)
        if chat is not None and chat.type == ChatType.PRIVATE
        else None
    )
    if resumed is None:
        await reply_html(update, WELCOME)
    else:
        await reply_html(update, subscription_summary(resumed, RESUMED))


async def help_command(update: Update, context: BotContext) -> None:
    lines = ["<b>Commands</b>", ""]
    lines.extend(_usage(command) for command in PUBLIC_COMMANDS)
    role = await context.services.admins.role_of(acting_user_id(update))
    # Admins see their own commands too; nobody else learns of them here.
    admin = [command for command in ADMIN_COMMANDS if Role.NOBODY < command.role <= role]
    if admin:
        lines.extend(["", "<b>For you as an admin</b>"])
        lines.extend(_usage(command) for command in admin)
    lines.extend(
        [
            "",
            "Places can be a country (Iraq), a province (Anbar), a base or town "
            "(Ain al-Asad), or a region: Levant, Red Sea/Yemen, Gulf/Iran.",
        ]
    )
    await reply_html(update, "\n".join(lines))


def _usage(command: CommandInfo) -> str:
    usage = f"/{command.name} {esc(command.arguments)}".rstrip()
    return f"{usage} — {esc(command.description)}"
