"""Broadcasts keep to Telegram's limits, and the bot keeps answering while they run."""

from __future__ import annotations

import pytest

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import Settings
from bot.context import services_of
from bot.lifecycle import polling
from bot.sandbox.fake_api import FakeBotApi, RateLimits
from storage.outbox import depth
from tests.conftest import NOW
from tests.delivery_helpers import eventually, publish, subscribe
from tests.people import Person


@pytest.fixture(params=["aiohttp", "httpx"])
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Every test here runs on both HTTP backends: the engine posts through either."""
    settings.telegram.http_backend = request.param
    return settings


def alerts_sent(telegram: FakeBotApi) -> int:
    return sum(1 for method, _ in telegram.requests if method == "sendMessage")


async def test_a_broadcast_at_the_overall_limit_meets_no_flood_control(
    settings: Settings, clock: ManualClock, telegram: FakeBotApi
) -> None:
    telegram.rate_limits = RateLimits(global_per_second=20)
    settings.delivery.global_per_second = 20
    readers = [telegram.add_user(f"Reader {n}").id for n in range(60)]

    async with polling(build_application(settings, clock), poll_timeout=1) as app:
        await subscribe(services_of(app).db, readers, NOW)
        await publish(app)

        async def everyone_has_it() -> bool:
            return all(telegram.pending_replies(reader) for reader in readers)

        await eventually(everyone_has_it, timeout=10)

    assert telegram.rate_limited == 0
    assert all(len(telegram.pending_replies(reader)) == 1 for reader in readers)


async def test_a_command_is_answered_while_a_large_broadcast_goes_out(
    settings: Settings, clock: ManualClock, telegram: FakeBotApi, alice: Person
) -> None:
    """At Telegram's 30 messages a second, 2,000 alerts take more than a minute."""
    readers = [telegram.add_user(f"Reader {n}").id for n in range(2000)]

    async with polling(build_application(settings, clock), poll_timeout=1) as app:
        db = services_of(app).db
        await subscribe(db, readers, NOW)
        incident = await publish(app, title="Drone strike on Tower 22")

        async def broadcast_under_way() -> bool:
            return alerts_sent(telegram) >= 20

        await eventually(broadcast_under_way)

        reply = await alice.says("/latest 1")
        assert incident.title in reply.text
        assert await depth(db.reader) > len(readers) // 2
