"""The tension index against cases worked out by hand."""

from __future__ import annotations

import gc
import io
import math
import weakref
from datetime import UTC, datetime, timedelta

import pytest
from matplotlib.figure import Figure
from PIL import Image

from bot.clock import ManualClock
from bot.config import TensionSettings
from bot.models import Direction
from bot.render.drawing import draw_png
from bot.tension.charts import chart_size, tension_chart
from bot.tension.index import (
    Level,
    TensionIndex,
    Trend,
    decayed,
    incident_weight,
    level_for,
    with_evidence,
)
from storage.db import Database
from storage.incidents import insert_incident, mark_retracted
from storage.tension import WeighedIncident
from tests.factories import incident_content

SETTINGS = TensionSettings()
NEW_YEAR = datetime(2025, 1, 1, tzinfo=UTC)


def weighed(
    severity: int,
    killed: int = 0,
    injured: int = 0,
    direction: Direction = Direction.ON_COALITION,
    event_type: str = "Explosions/Remote violence",
) -> WeighedIncident:
    return WeighedIncident(
        1, "Iraq", NEW_YEAR, severity, killed, injured, "t", event_type, direction
    )


def test_weight_is_severity_plus_casualties_up_to_the_cap() -> None:
    assert incident_weight(weighed(3, killed=2, injured=4), SETTINGS) == 4 + 2 * 1.0 + 4 * 0.25
    assert incident_weight(weighed(5, killed=30), SETTINGS) == 16 + 20  # capped
    assert incident_weight(weighed(1), SETTINGS) == 1


def test_a_us_strike_weighs_half_an_attack_and_a_protest_nothing() -> None:
    attack = incident_weight(weighed(4, injured=4), SETTINGS)
    assert attack == 9
    strike = incident_weight(weighed(4, injured=4, direction=Direction.BY_COALITION), SETTINGS)
    assert strike == 0.5 * attack
    assert incident_weight(weighed(4, direction=Direction.OTHER), SETTINGS) == 8
    assert incident_weight(weighed(3, event_type="Protests"), SETTINGS) == 0
    stronger = TensionSettings(strike_weight=0.25)
    assert incident_weight(weighed(4, direction=Direction.BY_COALITION), stronger) == 2


def test_a_level_above_elevated_needs_two_incidents_or_a_death() -> None:
    assert with_evidence(Level.SEVERE, incidents=1, deaths=False, needed=2) is Level.ELEVATED
    assert with_evidence(Level.HIGH, incidents=1, deaths=True, needed=2) is Level.HIGH
    assert with_evidence(Level.SEVERE, incidents=2, deaths=False, needed=2) is Level.SEVERE
    assert with_evidence(Level.GUARDED, incidents=1, deaths=False, needed=2) is Level.GUARDED


def test_weight_halves_every_half_life() -> None:
    assert decayed(8, timedelta(days=7), 7) == pytest.approx(4)
    assert decayed(8, timedelta(days=14), 7) == pytest.approx(2)
    assert decayed(8, timedelta(0), 7) == 8


def test_levels_follow_the_ratio_thresholds() -> None:
    ratios = SETTINGS.level_ratios
    assert [level_for(r, ratios) for r in (0, 0.74, 0.75, 1.3, 2.0, 3.49, 3.5, 100)] == [
        Level.LOW, Level.LOW, Level.GUARDED, Level.ELEVATED, Level.HIGH, Level.HIGH,
        Level.SEVERE, Level.SEVERE,
    ]  # fmt: skip


async def add(db: Database, at: datetime, severity: int, **fields: object) -> int:
    draft = incident_content(**{"occurred_at": at, "severity": severity, "injured": None, **fields})
    async with db.transaction() as conn:
        incident_id = await insert_incident(conn, draft, at)
    assert incident_id is not None
    return incident_id


async def test_a_quiet_regions_first_attack_registers_against_the_floor(db: Database) -> None:
    await add(db, NEW_YEAR, severity=4)  # weight 8, in Iraq
    clock = ManualClock(NEW_YEAR + timedelta(days=6, hours=12))  # today is 7 January
    (iraq,) = await TensionIndex(db, clock, SETTINGS).regions(["Iraq"])
    # At the end of 7 January the attack is 7 days old: one half-life.
    assert iraq.index == pytest.approx(4)
    # Baseline: the 90 days before today; only 1-6 January carry weight, too little.
    daily = sum(8 * 0.5 ** (k / 7) for k in range(1, 7))
    assert daily / 90 < SETTINGS.baseline_floor
    assert iraq.baseline == SETTINGS.baseline_floor
    # 4× the floor would be severe, but one attack without deaths is not enough evidence.
    assert iraq.level is Level.ELEVATED and iraq.held_back and iraq.evidence == 1
    assert iraq.trend is Trend.RISING
    assert [driver.severity for driver in iraq.drivers] == [4]

    await add(db, NEW_YEAR + timedelta(days=6), severity=1)
    (iraq,) = await TensionIndex(db, clock, SETTINGS).regions(["Iraq"])
    assert iraq.level is Level.SEVERE and not iraq.held_back
    assert [driver.severity for driver in iraq.drivers] == [4, 1]


async def test_one_deadly_attack_is_evidence_enough(db: Database) -> None:
    await add(db, NEW_YEAR, severity=4, killed={"value": 1})
    clock = ManualClock(NEW_YEAR + timedelta(hours=12))
    (iraq,) = await TensionIndex(db, clock, SETTINGS).regions(["Iraq"])
    assert iraq.level is Level.SEVERE and not iraq.held_back


async def test_a_us_strike_raises_the_index_half_as_much_as_an_attack(db: Database) -> None:
    await add(db, NEW_YEAR, severity=4, country="Syria", perpetrator="US forces", target="ISIS")
    await add(db, NEW_YEAR, severity=4, country="Jordan", target="US and coalition forces")
    clock = ManualClock(NEW_YEAR + timedelta(hours=12))
    syria, jordan = await TensionIndex(db, clock, SETTINGS).regions(["Syria", "Jordan"])
    assert syria.index == pytest.approx(0.5 * jordan.index)
    assert syria.drivers[0].direction is Direction.BY_COALITION


async def test_a_steady_region_is_judged_against_its_own_normal(db: Database) -> None:
    # One severity-2 attack every day for 120 days: the index settles near its mean.
    for day in range(120):
        await add(db, NEW_YEAR + timedelta(days=day, hours=12), severity=2, country="Syria")
    clock = ManualClock(NEW_YEAR + timedelta(days=119, hours=18))
    (syria,) = await TensionIndex(db, clock, SETTINGS).regions(["Syria"])
    steady_state = 2 * 0.5 ** (0.5 / 7) / (1 - 0.5 ** (1 / 7))
    assert syria.index == pytest.approx(steady_state, rel=0.01)
    assert syria.level is Level.GUARDED
    assert syria.trend is Trend.STEADY


async def test_groupings_sum_their_countries_and_retraction_removes_weight(
    db: Database,
) -> None:
    jordan = await add(db, NEW_YEAR, severity=5, country="Jordan")
    await add(db, NEW_YEAR, severity=3, country="Lebanon")
    clock = ManualClock(NEW_YEAR + timedelta(hours=12))
    index = TensionIndex(db, clock, SETTINGS)
    (levant,) = await index.regions(["levant"])
    assert levant.name == "Levant"
    assert levant.index == pytest.approx((16 + 4) * 0.5 ** (1 / 7))

    async with db.transaction() as conn:
        await mark_retracted(conn, jordan, "wrong", clock.now())
    (levant,) = await index.regions(["Levant"])  # the cache saw the new revision
    assert levant.index == pytest.approx(4 * 0.5 ** (1 / 7))


async def test_old_incidents_fade_and_a_lull_shows_a_falling_trend(db: Database) -> None:
    await add(db, NEW_YEAR, severity=5)
    clock = ManualClock(NEW_YEAR + timedelta(days=12))
    (iraq,) = await TensionIndex(db, clock, SETTINGS).regions(["Iraq"])
    assert iraq.trend is Trend.FALLING
    # 13 days old and fading, but still all there is: the level lists it as its driver.
    assert [driver.severity for driver in iraq.drivers] == [5]
    assert math.isclose(iraq.index, 16 * 0.5 ** (13 / 7))


async def test_a_region_long_quiet_is_steady_not_falling(db: Database) -> None:
    """Its index still fades by half a week, but by less than the one decimal shown."""
    await add(db, NEW_YEAR, severity=5)
    clock = ManualClock(NEW_YEAR + timedelta(days=120))
    (iraq,) = await TensionIndex(db, clock, SETTINGS).regions(["Iraq"])
    assert 0 < iraq.index < 0.05
    assert iraq.trend is Trend.STEADY


async def test_the_chart_is_a_decodable_png_of_the_promised_size(db: Database) -> None:
    await add(db, NEW_YEAR, severity=4)
    await add(db, NEW_YEAR + timedelta(days=3), severity=2, country="Syria")
    clock = ManualClock(NEW_YEAR + timedelta(days=10))
    regions = await TensionIndex(db, clock, SETTINGS).regions()
    png = tension_chart(regions, "Tension index, last 30 days", SETTINGS.level_ratios)
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.format == "PNG" and image.size == chart_size(len(regions)) == (1600, 1230)


async def test_a_chart_drawn_off_the_loop_is_freed_as_soon_as_it_is_drawn(
    db: Database,
) -> None:
    """A Figure is held by its own reference cycles: without a collection right after
    drawing it, it would stay until the garbage collector's next run (none here)."""
    await add(db, NEW_YEAR, severity=4)
    regions = await TensionIndex(db, ManualClock(NEW_YEAR + timedelta(days=2)), SETTINGS).regions(
        ["Iraq"]
    )
    drawn: list[weakref.ref[Figure]] = []

    def draw(title: str) -> bytes:
        png = tension_chart(regions, title, SETTINGS.level_ratios)
        drawn.append(weakref.ref(next(o for o in gc.get_objects() if isinstance(o, Figure))))
        return png

    gc.collect()
    gc.disable()
    try:
        png = await draw_png(draw, "Tension index, last 30 days")
        assert drawn and drawn[0]() is None
    finally:
        gc.enable()
    assert Image.open(io.BytesIO(png)).format == "PNG"


async def test_the_readme_worked_example(db: Database) -> None:
    may_1 = datetime(2025, 5, 1, tzinfo=UTC)
    attacked = {"target": "US and coalition forces", "country": "Syria"}
    await add(db, may_1, severity=4, injured={"value": 5}, **attacked)
    index = TensionIndex(db, ManualClock(may_1 + timedelta(hours=12)), SETTINGS)
    (syria,) = await index.regions(["Syria"])
    assert syria.index == pytest.approx(8.38, abs=0.005)
    assert syria.level is Level.ELEVATED and syria.held_back and syria.trend is Trend.RISING

    strike = {"perpetrator": "US forces", "target": "Kataib Hezbollah", "country": "Syria"}
    await add(db, may_1 + timedelta(days=1), severity=4, **strike)
    index = TensionIndex(db, ManualClock(may_1 + timedelta(days=1, hours=12)), SETTINGS)
    (syria,) = await index.regions(["Syria"])
    assert syria.index == pytest.approx(11.2, abs=0.05)
    assert syria.level is Level.ELEVATED and syria.held_back

    await add(db, may_1 + timedelta(days=2), severity=3, **attacked)
    index = TensionIndex(db, ManualClock(may_1 + timedelta(days=2, hours=12)), SETTINGS)
    (syria,) = await index.regions(["Syria"])
    assert syria.index == pytest.approx(13.8, abs=0.05)
    assert syria.level is Level.SEVERE and not syria.held_back
    assert [d.direction for d in syria.drivers] == [
        Direction.ON_COALITION,
        Direction.ON_COALITION,
        Direction.BY_COALITION,
    ]
