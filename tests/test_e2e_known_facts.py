"""Saying only what is known, end to end: imports and exports as users then read them."""

from __future__ import annotations

from pathlib import Path

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import Settings
from bot.lifecycle import polling
from bot.newsroom.transfer import export_incidents, import_file
from bot.record.sample import load_sample
from bot.render.incidents import troop_report
from storage.db import Database
from storage.troops import latest_troop_summaries
from tests.people import Person

ACLED_CSV = Path(__file__).parent / "fixtures" / "acled_sample.csv"


async def test_an_acled_import_records_no_claim_rather_than_none(
    settings: Settings, clock: ManualClock, alice: Person
) -> None:
    async with Database(settings.storage.path) as db:
        report = await import_file(db, ACLED_CSV, skip_invalid=False, clock=clock, progress=False)
        assert report.imported == 3
    async with polling(build_application(settings, clock), poll_timeout=1):
        listing = await alice.says("/latest Ain al Asad Airbase")
        assert "Ain al-Asad Air Base, Anbar, Iraq" in listing.text
        incident_id = listing.text.split("#")[1].split()[0]
        card = await alice.says(f"/incident {incident_id}")
    assert "Claimed by: no claim recorded" in card.text
    assert "no one has claimed" not in card.text and "no group has claimed" not in card.text
    assert "Status: reported, not confirmed" in card.text


async def test_export_then_import_into_an_empty_database_reproduces_troops(
    settings: Settings, clock: ManualClock, alice: Person, tmp_path: Path
) -> None:
    export = tmp_path / "export.jsonl"
    async with Database(tmp_path / "original.sqlite3") as original:
        await load_sample(original, clock)
        with export.open("w", encoding="utf-8") as out:
            await export_incidents(original, out, "jsonl")
        expected = troop_report(await latest_troop_summaries(original.reader))
    async with Database(settings.storage.path) as empty:
        await import_file(empty, export, skip_invalid=False, clock=clock, progress=False)
    async with polling(build_application(settings, clock), poll_timeout=1):
        reply = await alice.says("/troops")
    assert reply.html == expected
    assert "about 900 (reported, Aug 2024) → about 2,000 (disclosure, Dec 2024)" in reply.text
