"""Webhook mode end to end: the fake Bot API delivers updates by POSTing to the bot."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import Settings, WebhookSettings
from bot.lifecycle import polling
from bot.monitoring import HEALTH_PATH
from bot.record.sample import load_sample
from bot.sandbox.fake_api import FakeBotApi
from bot.webhook import SECRET_HEADER, WebhookServer, serving_webhook
from storage.db import Database
from tests.people import Person

SECRET = "s3cret-token_for-tests"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def webhook_settings(settings: Settings) -> WebhookSettings:
    port = free_port()
    settings.webhook = WebhookSettings.model_validate(
        {"public_url": f"http://127.0.0.1:{port}", "listen": "127.0.0.1", "port": port,
         "path": "/hook", "secret_token": SECRET}
    )  # fmt: skip
    return settings.webhook


@pytest.fixture
async def webhook_bot(
    settings: Settings, webhook_settings: WebhookSettings, clock: ManualClock, owner: Person
) -> AsyncIterator[WebhookServer]:
    async with Database(settings.storage.path) as database:
        await load_sample(database, clock)
    async with serving_webhook(build_application(settings, clock), webhook_settings) as server:
        yield server


async def test_updates_arrive_by_webhook_and_are_answered(
    webhook_bot: WebhookServer, telegram: FakeBotApi, alice: Person
) -> None:
    assert telegram.webhook is not None
    assert telegram.webhook.url.endswith("/hook")
    assert telegram.webhook.secret_token == SECRET
    reply = await alice.says("/latest 1")
    assert "Latest incidents" in reply.text


@pytest.mark.parametrize("header", [None, "wrong-secret"])
async def test_a_missing_or_wrong_secret_is_refused(
    webhook_bot: WebhookServer, webhook_settings: WebhookSettings, header: str | None
) -> None:
    headers = {SECRET_HEADER: header} if header else {}
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"http://127.0.0.1:{webhook_bot.port}/hook",
            json={"update_id": 1, "message": {"message_id": 1, "date": 0,
                                              "chat": {"id": 1, "type": "private"}}},
            headers=headers,
        )  # fmt: skip
        assert response.status == 403
        health = await session.get(f"http://127.0.0.1:{webhook_bot.port}{HEALTH_PATH}")
        assert (await health.json())["last_update_at"] is None


async def test_health_reports_database_outbox_and_last_update(
    webhook_bot: WebhookServer, alice: Person, clock: ManualClock
) -> None:
    async with aiohttp.ClientSession() as session:
        before = await (
            await session.get(f"http://127.0.0.1:{webhook_bot.port}{HEALTH_PATH}")
        ).json()
        assert before == {"status": "ok", "database": "reachable", "outbox_depth": 0,
                          "last_update_at": None}  # fmt: skip
        await alice.says("/start")
        after = await (
            await session.get(f"http://127.0.0.1:{webhook_bot.port}{HEALTH_PATH}")
        ).json()
        assert after["last_update_at"] == clock.now().isoformat()


async def test_polling_again_removes_the_webhook(
    settings: Settings,
    webhook_settings: WebhookSettings,
    clock: ManualClock,
    telegram: FakeBotApi,
    alice: Person,
) -> None:
    async with serving_webhook(build_application(settings, clock), webhook_settings):
        assert telegram.webhook is not None
    async with polling(build_application(settings, clock), poll_timeout=1):
        assert telegram.webhook is None
        assert "security incidents" in (await alice.says("/start")).text
