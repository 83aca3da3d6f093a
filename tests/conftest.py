"""Fixtures shared by the whole suite: a real database on disk, a controlled clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import Settings
from bot.context import IncidentBotApp
from bot.lifecycle import polling
from bot.record.sample import load_sample
from bot.sandbox.fake_api import FakeBotApi
from storage.db import Database
from tests.people import Person

# A fixed "now" shortly after the newest sample incident.
NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "test.sqlite3") as database:
        yield database


@pytest.fixture
async def sample_db(db: Database, clock: ManualClock) -> Database:
    await load_sample(db, clock)
    return db


OWNER_ID = 1001


@pytest.fixture
async def telegram() -> AsyncIterator[FakeBotApi]:
    """A strict fake Bot API on 127.0.0.1; the bot reaches it through its real HTTP stack."""
    async with FakeBotApi() as api:
        yield api


# The bot paces its messages to Telegram's limits (bot/delivery/rate_limiter.py): one a
# second per private chat, 20 a minute per group, in real time. The fake Bot API enforces
# no limit unless a test sets one, so the tests that are not about pacing lift the bot's
# per-chat limits; otherwise each second reply in a chat waits a real second. The tests
# of pacing set Telegram's limits on both sides (test_flood_and_pacing.py).
UNPACED_CHATS = {"private_chat_per_second": 1000.0, "group_per_minute": 60_000.0}


@pytest.fixture
def settings(telegram: FakeBotApi, tmp_path: Path) -> Settings:
    return Settings(
        telegram={"token": telegram.token, "api_base_url": telegram.api_root, "admins": [OWNER_ID]},
        storage={"path": tmp_path / "bot.sqlite3"},
        bot={"timezone": "Asia/Baghdad"},
        delivery=UNPACED_CHATS,
    )


@pytest.fixture
async def running_bot(
    settings: Settings, clock: ManualClock, owner: Person
) -> AsyncIterator[IncidentBotApp]:
    """The real application, with the sample data, polling the fake Bot API.

    The owner has talked to the bot before it starts, as owners have.
    """
    async with Database(settings.storage.path) as database:
        await load_sample(database, clock)
    app = build_application(settings, clock)
    async with polling(app, poll_timeout=1):
        yield app


@pytest.fixture
def alice(telegram: FakeBotApi) -> Person:
    return Person(telegram, telegram.add_user("Alice", user_id=2001))


@pytest.fixture
def owner(telegram: FakeBotApi) -> Person:
    return Person(telegram, telegram.add_user("Olivia", user_id=OWNER_ID))


@pytest.fixture
def bob(telegram: FakeBotApi) -> Person:
    return Person(telegram, telegram.add_user("Bob", user_id=3001))
