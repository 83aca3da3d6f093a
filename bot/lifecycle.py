"""Running the application inside another program's event loop.

`incident-bot run` uses PTB's own `run_polling`, which owns the loop and the
signals. Webhook mode, the test suite and the sandbox console need the same
start-up and shut-down sequence without giving up their loop, so it lives here,
once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from telegram.ext import Application

AnyApp = TypeVar("AnyApp", bound=Application[Any, Any, Any, Any, Any, Any])

ALLOWED_UPDATES = ["message", "callback_query"]


@asynccontextmanager
async def running(app: AnyApp) -> AsyncIterator[AnyApp]:
    """Start the application (no update source); stop it cleanly however the block ends."""
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        try:
            yield app
        finally:
            await app.stop()
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


@asynccontextmanager
async def polling(app: AnyApp, *, poll_timeout: int = 10) -> AsyncIterator[AnyApp]:
    """Run the application with long polling, as `run_polling` would."""
    async with running(app):
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
        )
        try:
            yield app
        finally:
            await app.updater.stop()
