"""The one place failures end up: a UserError is answered with its text, anything else is a bug."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, RetryAfter

from bot.context import BotContext
from bot.errors import UserError
from bot.newsroom.forms import FormError
from bot.render.incidents import esc
from bot.render.newsroom import form_problems
from handlers.replies import reply_html

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on my side and I could not answer that. "
    "It has been logged; please try again in a moment."
)


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    if not isinstance(update, Update) or update.effective_chat is None:
        log.error("error outside any chat", exc_info=error)
        return
    if isinstance(error, UserError):
        await reply_html(update, _refusal(error))
        return
    log.error("error while handling update %s", update.update_id, exc_info=error)
    if isinstance(error, Forbidden):
        return  # the chat does not accept our messages, so there is no one to tell
    if isinstance(error, RetryAfter):
        return  # a reply into Telegram's flood control would only meet it again
    await reply_html(update, esc(SOMETHING_WENT_WRONG))


def _refusal(error: UserError) -> str:
    # A form's problems come as a list, one per line under a heading; other refusals are
    # one plain-text message.
    if isinstance(error, FormError):
        return form_problems(error.problems)
    return esc(str(error))
