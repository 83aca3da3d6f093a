"""Who may do what: the guard in front of every admin command, /grant, /revoke, /audit."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommandScopeChat, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ApplicationHandlerStop

from bot.commands import GUARDED_COMMANDS, menu_for
from bot.context import BotContext, IncidentBotApp, services_of
from bot.newsroom.admins import Role
from bot.numbers import TELEGRAM_USER_ID_MAX, bounded_int
from bot.render.newsroom import audit_log
from handlers.incoming import acting_user_id, command_of, message_of
from handlers.replies import UsageError, reply_html

log = logging.getLogger(__name__)

NOT_AUTHORISED = "Not authorised: {command} is for the bot's {who}. Nothing was changed."
DEFAULT_AUDIT = 10
MAX_AUDIT = 50


async def guard_command(update: Update, context: BotContext) -> None:
    """Runs before the admin commands; stops the update for anyone not allowed."""
    command = command_of(message_of(update)).lstrip("/").lower()
    await _require(update, context, GUARDED_COMMANDS[command], f"/{command}")


async def guard_button(update: Update, context: BotContext) -> None:
    await _require(update, context, Role.EDITOR, "a draft button")


async def _require(update: Update, context: BotContext, needed: Role, attempted: str) -> None:
    user_id = acting_user_id(update)
    if await context.services.admins.role_of(user_id) >= needed:
        return
    await context.services.admins.record_refusal(user_id, attempted)
    who = "owners" if needed is Role.OWNER else "editors"
    if update.callback_query is not None:
        await update.callback_query.answer(NOT_AUTHORISED.format(command=attempted, who=who))
    else:
        await reply_html(update, NOT_AUTHORISED.format(command=attempted, who=who))
    raise ApplicationHandlerStop


async def grant(update: Update, context: BotContext) -> None:
    user_id = _user_id_argument(context.args or [], "/grant")
    added = await context.services.admins.grant(acting_user_id(update), user_id)
    await _show_menu(context, user_id, Role.EDITOR)
    state = "is now an editor" if added else "was already an editor"
    await reply_html(update, f"User <code>{user_id}</code> {state}.")


async def revoke(update: Update, context: BotContext) -> None:
    user_id = _user_id_argument(context.args or [], "/revoke")
    removed = await context.services.admins.revoke(acting_user_id(update), user_id)
    await _show_menu(context, user_id, Role.NOBODY)
    state = "is no longer an editor" if removed else "was not an editor"
    await reply_html(update, f"User <code>{user_id}</code> {state}.")


async def audit(update: Update, context: BotContext) -> None:
    args = context.args or []
    limit = DEFAULT_AUDIT if not args else bounded_int(args[0], 1, MAX_AUDIT)
    if limit is None or len(args) > 1:
        raise UsageError(f"Give how many actions to show, 1 to {MAX_AUDIT}, e.g. /audit 20")
    entries = await context.services.admins.recent_actions(limit)
    await reply_html(update, audit_log(entries, context.services.timezone))


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    """/cancel outside the guided /post: it still drops an unfinished draft kept from before
    (a resumed one), so that the next /post starts afresh."""
    newsroom = context.services.newsroom
    if await newsroom.drop_guided_draft(acting_user_id(update)):
        await reply_html(update, "Your unfinished draft is dropped. Nothing was published.")
        return
    await reply_html(update, "There is nothing to cancel.")


async def show_admin_menus(app: IncidentBotApp) -> None:
    """Give every admin the menu of their role; run at start-up."""
    for user_id, role in (await services_of(app).admins.roles()).items():
        await _set_menu(app.bot, user_id, role)


async def _show_menu(context: BotContext, user_id: int, role: Role) -> None:
    await _set_menu(context.bot, user_id, role)


async def _set_menu(bot: Bot, user_id: int, role: Role) -> None:
    scope = BotCommandScopeChat(user_id)
    try:
        if role is Role.NOBODY:
            await bot.delete_my_commands(scope=scope)
        else:
            await bot.set_my_commands(menu_for(role), scope=scope)
    except (BadRequest, Forbidden) as error:
        # Telegram knows no chat with a user who has never opened the bot; the menu
        # is set the next time the bot starts after they have.
        log.warning("could not set the command menu of user %s: %s", user_id, error)


def _user_id_argument(args: list[str], command: str) -> int:
    user_id = bounded_int(args[0], 1, TELEGRAM_USER_ID_MAX) if len(args) == 1 else None
    if user_id is None:
        raise UsageError(
            f"Give the numeric user id, e.g. {command} 123456789 (usernames can change; "
            "ids cannot — the user can get theirs from @userinfobot)."
        )
    return user_id
