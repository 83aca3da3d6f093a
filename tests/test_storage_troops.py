from __future__ import annotations

from datetime import date

from bot.clock import ManualClock
from bot.models import TroopFigureContent
from storage.db import Database
from storage.troops import insert_troop_figure, latest_troop_summaries


def figure(count: int, as_of: date, qualifier: str = "exact") -> TroopFigureContent:
    return TroopFigureContent.model_validate(
        {
            "force": "United States",
            "host_country": "Syria",
            "count": {"value": count, "qualifier": qualifier},
            "as_of": as_of,
            "source": {"name": "DoD", "url": "https://defense.example/briefing"},
        }
    )


async def test_history_is_kept_and_summary_shows_the_change(
    db: Database, clock: ManualClock
) -> None:
    async with db.transaction() as conn:
        await insert_troop_figure(conn, figure(900, date(2023, 10, 1)), clock.now())
        await insert_troop_figure(conn, figure(2000, date(2024, 12, 19)), clock.now())
        await insert_troop_figure(conn, figure(800, date(2022, 1, 1)), clock.now())
    (summary,) = await latest_troop_summaries(db.reader, "syria")
    assert summary.latest.count.value == 2000
    assert summary.previous is not None and summary.previous.count.value == 900
    assert summary.change == 1100


async def test_the_same_figure_twice_is_stored_once(db: Database, clock: ManualClock) -> None:
    async with db.transaction() as conn:
        assert await insert_troop_figure(conn, figure(900, date(2023, 10, 1)), clock.now())
        assert await insert_troop_figure(conn, figure(900, date(2023, 10, 1)), clock.now()) is None


async def test_sample_has_us_figures_for_iraq_and_syria(sample_db: Database) -> None:
    hosts = {s.latest.host_country for s in await latest_troop_summaries(sample_db.reader)}
    assert {"Iraq", "Syria"} <= hosts
