"""Where the bot leans on python-telegram-bot beyond its stable public API, in one file.

A PTB upgrade that moves or renames any of these breaks this module (mypy checks the
overrides that use the types), and nothing else needs reading. Each item says why the
public API does not suffice.
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

from telegram import Bot

# BaseRequest.do_request, the public extension point for an HTTP backend, types its
# timeouts as ODVInput and passes BaseRequest.DEFAULT_NONE (a DefaultValue) for "use
# your own default". PTB exports neither type, and an override must match the signature.
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import RetryAfter

# BasePersistence's abstract conversation methods are typed with these aliases, which
# telegram.ext does not export; spelling them out here would stop mypy from noticing
# if PTB changed them.
from telegram.ext._utils.types import ConversationDict, ConversationKey
from telegram.warnings import PTBDeprecationWarning

JsonResult = bool | dict[str, Any] | list[dict[str, Any]]

__all__ = [
    "ConversationDict",
    "ConversationKey",
    "DefaultValue",
    "ODVInput",
    "post_parameters",
    "retry_after_seconds",
]


def retry_after_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait, in seconds.

    The public `RetryAfter.retry_after` is an int (with a deprecation warning on every
    read) unless the PTB_TIMEDELTA environment variable is set, then a timedelta. The bot
    must not depend on that variable, so the two are told apart here, once.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def post_parameters(bot: Bot, endpoint: str, parameters: dict[str, Any]) -> JsonResult:
    """Call the Bot API with ready-made parameters; the ``result`` of its JSON answer.

    ``Bot._do_post`` is the layer under every ``send_*`` method: ``ExtBot`` passes it
    through the bot's rate limiter, and it posts through the bot's request backend,
    which raises the same ``TelegramError`` for each refusal. The public methods add
    per-call work a broadcast does not need — inserting defaults, checking arguments,
    building a ``Message`` from the answer — and offer no way to skip it.
    """
    return await bot._do_post(endpoint, parameters)
