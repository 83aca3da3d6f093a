"""/subscribe, /settings, /unsubscribe and their buttons. (Being written.)"""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return []
