"""The Atom feed of the record: valid Atom 1.0, stable entry ids, corrections and retractions
as updated entries; served at /feed.atom in webhook mode and written by export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import feedparser
import pytest

from bot import cli
from bot.app import build_application
from bot.clock import ManualClock
from bot.config import AtomFeedSettings, Settings, WebhookSettings
from bot.models import IncidentChange
from bot.newsroom.admins import AdminService
from bot.newsroom.changes import Newsroom
from bot.record.atom import ATOM_PATH, atom_of_record
from bot.record.sample import load_sample
from bot.subscriptions.escalation import EscalationNotices
from bot.webhook import WebhookServer, serving_webhook
from storage.db import Database
from tests.test_e2e_webhook import SECRET, free_port

EDITOR = 1001


async def feed_of(db: Database, clock: ManualClock, entries: int = 50) -> Any:
    body = await atom_of_record(
        db,
        AtomFeedSettings(entries=entries),
        self_url="https://bot.example.org/feed.atom",
        now=clock.now(),
        zone=Settings().bot.tzinfo,
    )
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


async def test_the_feed_is_valid_atom_with_one_stable_entry_per_incident(
    sample_db: Database, clock: ManualClock
) -> None:
    parsed = await feed_of(sample_db, clock)
    assert parsed.feed.title == "incident-bot: security incidents"
    assert parsed.feed.id == "https://bot.example.org/feed.atom"
    assert parsed.feed.author == "incident-bot"
    ids = [entry.id for entry in parsed.entries]
    assert len(ids) == len(set(ids)) == 18
    assert all(entry_id.startswith("tag:incident-bot,2024:incident:") for entry_id in ids)
    for entry in parsed.entries:
        assert entry.title and entry.updated_parsed and entry.content[0].type == "text/html"
    assert [entry.id for entry in (await feed_of(sample_db, clock)).entries] == ids
    assert len((await feed_of(sample_db, clock, entries=5)).entries) == 5


async def test_a_correction_and_a_retraction_are_updated_entries(
    sample_db: Database, clock: ManualClock
) -> None:
    settings = Settings()
    zone = settings.bot.tzinfo
    newsroom = Newsroom(
        sample_db, clock, zone, escalation=EscalationNotices(settings.escalation, zone),
        admins=AdminService(sample_db, clock, [EDITOR]),
    )  # fmt: skip
    before = {entry.id: entry for entry in (await feed_of(sample_db, clock)).entries}
    clock.advance(timedelta(days=1))
    change = await newsroom.edit(17, {"injured": ["at least 8"]}, EDITOR, "Eddie")
    assert isinstance(change, IncidentChange)  # one approval is enough by default
    clock.advance(timedelta(hours=1))
    await newsroom.retract(16, "Duplicate of #17.", EDITOR, "Eddie")

    after = (await feed_of(sample_db, clock)).entries
    retracted, corrected = after[0], after[1]
    assert corrected.id in before and corrected.title == change.after.title
    assert corrected.updated != before[corrected.id].updated
    assert "at least 8 injured" in corrected.content[0].value
    assert retracted.id in before and retracted.title.startswith("Retracted: ")
    assert "Retracted: Duplicate of #17." in retracted.summary
    assert {entry.id for entry in after} == set(before)


@pytest.fixture
async def webhook_bot(
    settings: Settings, clock: ManualClock
) -> AsyncIterator[tuple[WebhookServer, str]]:
    port = free_port()
    settings.webhook = WebhookSettings.model_validate(
        {"public_url": f"http://127.0.0.1:{port}", "port": port, "secret_token": SECRET}
    )
    async with Database(settings.storage.path) as database:
        await load_sample(database, clock)
    async with serving_webhook(build_application(settings, clock), settings.webhook) as server:
        yield server, f"http://127.0.0.1:{port}{ATOM_PATH}"


async def test_webhook_mode_serves_the_feed(webhook_bot: tuple[WebhookServer, str]) -> None:
    _, url = webhook_bot
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("application/atom+xml")
        parsed = feedparser.parse(await response.read())
    assert not parsed.bozo and len(parsed.entries) == 18
    assert parsed.feed.links[0].href == url and parsed.feed.links[0].rel == "self"


async def test_the_feed_can_be_turned_off(settings: Settings, clock: ManualClock) -> None:
    settings.atom_feed = AtomFeedSettings(enabled=False)
    port = free_port()
    settings.webhook = WebhookSettings.model_validate(
        {"public_url": f"http://127.0.0.1:{port}", "port": port, "secret_token": SECRET}
    )
    async with (
        serving_webhook(build_application(settings, clock), settings.webhook),
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{ATOM_PATH}") as response,
    ):
        assert response.status == 404


def test_export_writes_the_feed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    # The command line's logging set-up would outlive the test and quieten httpx for others.
    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)
    monkeypatch.setenv("INCIDENT_BOT_STORAGE__PATH", str(tmp_path / "bot.sqlite3"))
    assert cli.main(["sample", "load"]) == 0
    capsys.readouterr()
    assert cli.main(["export", "--format", "atom", "--output", str(tmp_path / "feed.atom")]) == 0
    parsed = feedparser.parse((tmp_path / "feed.atom").read_bytes())
    assert not parsed.bozo and len(parsed.entries) == 18
    assert cli.main(["export", "--format", "atom", "--since", "2024-01-01"]) == 2
    assert "--since does not apply to --format atom" in capsys.readouterr().err
