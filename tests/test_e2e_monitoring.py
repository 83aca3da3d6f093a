"""Monitoring end to end: /metrics after real traffic, /healthz when things go wrong."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import MonitoringSettings, Settings, WebhookSettings
from bot.context import services_of
from bot.lifecycle import polling
from bot.monitoring import HEALTH_PATH, METRICS_PATH, HealthCheck, Metrics
from bot.sandbox.fake_api import FakeBotApi
from bot.webhook import serving_webhook
from storage.db import Database
from tests.delivery_helpers import drained, eventually, publish
from tests.people import Person
from tests.test_e2e_webhook import free_port

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(url: str) -> Samples:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = await response.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def get_health(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def test_metrics_after_commands_and_an_alert_in_webhook_mode(
    settings: Settings, clock: ManualClock, telegram: FakeBotApi, alice: Person
) -> None:
    port = free_port()
    settings.webhook = WebhookSettings.model_validate(
        {"public_url": f"http://127.0.0.1:{port}", "port": port, "secret_token": "s3cret"}
    )
    app = build_application(settings, clock)
    async with serving_webhook(app, settings.webhook) as server:
        base = f"http://127.0.0.1:{server.port}"
        assert "No published incidents" in (await alice.says("/latest")).text
        await alice.says("/subscribe Iraq")
        await alice.says("hello")
        await publish(app, country="Iraq", severity=4, title="Rockets hit Victory Base")
        assert "Rockets hit Victory Base" in (await alice.next_reply()).text
        await drained(services_of(app).db)
        clock.advance(timedelta(seconds=90))

        samples = await scrape(base + METRICS_PATH)

    assert value(samples, "incident_bot_updates_total", command="latest") == 1
    assert value(samples, "incident_bot_updates_total", command="subscribe") == 1
    assert value(samples, "incident_bot_updates_total", command="text") == 1
    assert value(samples, "incident_bot_update_handling_seconds_count", command="latest") == 1
    assert value(samples, "incident_bot_update_handling_seconds_sum", command="latest") > 0
    assert value(samples, "incident_bot_sends_total", kind="alert", result="ok") == 1
    assert value(samples, "incident_bot_sends_total", kind="alert", result="403") == 0
    assert value(samples, "incident_bot_outbox_depth", kind="alert") == 0
    assert value(samples, "incident_bot_last_update_age_seconds") == 90


async def test_metrics_count_refusals_and_digests(
    settings: Settings, clock: ManualClock, telegram: FakeBotApi, alice: Person, bob: Person
) -> None:
    settings.monitoring = MonitoringSettings(port=free_port())
    async with polling(build_application(settings, clock), poll_timeout=1) as app:
        base = f"http://127.0.0.1:{settings.monitoring.port}"
        before = await scrape(base + METRICS_PATH)
        assert math.isnan(value(before, "incident_bot_last_update_age_seconds"))
        await alice.says("/subscribe Iraq")
        await bob.says("/subscribe Iraq")
        telegram.block_bot(bob.user)
        await publish(app, country="Iraq", severity=4)
        await alice.next_reply()
        metrics = services_of(app).metrics

        async def refused() -> bool:
            samples = await scrape(base + METRICS_PATH)
            return value(samples, "incident_bot_sends_total", kind="alert", result="403") == 1

        await eventually(refused)
        metrics.digests_dispatched(queued=2, skipped_empty=1, skipped_late=0)
        samples = await scrape(base + METRICS_PATH)
    assert value(samples, "incident_bot_sends_total", kind="alert", result="ok") == 1
    assert value(samples, "incident_bot_digests_total", outcome="queued") == 2
    assert value(samples, "incident_bot_digests_total", outcome="skipped_empty") == 1


async def test_health_in_polling_mode_turns_unhealthy_after_a_silence(
    settings: Settings, clock: ManualClock, alice: Person
) -> None:
    settings.monitoring = MonitoringSettings(port=free_port(), max_update_silence_minutes=30)
    async with polling(build_application(settings, clock), poll_timeout=1):
        url = f"http://127.0.0.1:{settings.monitoring.port}{HEALTH_PATH}"
        status, body = await get_health(url)
        assert (status, body["status"], body["last_update_at"]) == (200, "ok", None)
        clock.advance(timedelta(minutes=31))
        status, body = await get_health(url)
        assert status == 503
        assert body == {
            "status": "unhealthy", "database": "reachable", "outbox_depth": 0,
            "last_update_at": None,
            "problems": ["no update for 31 minutes (monitoring.max_update_silence_minutes is 30)"],
        }  # fmt: skip
        await alice.says("/start")
        status, body = await get_health(url)
        assert (status, body["last_update_at"]) == (200, clock.now().isoformat())


async def test_health_is_unhealthy_when_the_database_cannot_be_read(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = Database(tmp_path / "never-opened.sqlite3")
    healthy, body = await HealthCheck(Metrics(clock), db, MonitoringSettings()).report()
    assert not healthy
    assert body["database"] == "unreachable" and body["outbox_depth"] is None
    assert body["problems"] == ["the database cannot be read"]
