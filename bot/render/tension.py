"""The /tension message and the tension lines of digests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from bot.models import Direction
from bot.render.incidents import esc, format_date
from bot.tension.index import Driver, Level, RegionTension

LEVEL_MARK = {
    Level.LOW: "🟢",
    Level.GUARDED: "🔵",
    Level.ELEVATED: "🟡",
    Level.HIGH: "🟠",
    Level.SEVERE: "🔴",
}


def region_line(region: RegionTension, *, driver_ids: bool = False) -> str:
    """One region's level; with `driver_ids`, the ids of the incidents driving it."""
    line = (
        f"{LEVEL_MARK[region.level]} <b>{esc(region.name)}</b>: {region.level.value} "
        f"{region.trend.value} (index {region.index:.1f}, {region.ratio:.1f}× its normal"
    )
    if region.held_back:
        line += f"; {held_back_note(region)}"
    line += ")"
    if driver_ids and region.drivers:
        line += " · " + ", ".join(f"#{driver.incident_id}" for driver in region.drivers)
    return line


def held_back_note(region: RegionTension) -> str:
    """Why a level shows no higher than elevated although the index alone says more."""
    incidents = f"{region.evidence} incident{'' if region.evidence == 1 else 's'}"
    return f"held at elevated: {incidents} in {region.evidence_days} days, none fatal"


def tension_text(regions: Sequence[RegionTension], zone: tzinfo, *, drivers: bool) -> str:
    lines = ["<b>Regional tension</b> (▲ rising, ▶ steady, ▼ falling over 7 days)", ""]
    for region in regions:
        lines.append(region_line(region))
        if drivers:
            lines.extend(_driver_line(driver, zone) for driver in region.drivers)
            if not region.drivers:
                lines.append("   no incidents weigh on it now")
    return "\n".join(lines)


def _driver_line(driver: Driver, zone: tzinfo) -> str:
    strike = " · US/coalition strike" if driver.direction is Direction.BY_COALITION else ""
    return (
        f"   #{driver.incident_id} {esc(driver.title)} "
        f"({format_date(driver.occurred_at, zone)}{strike})"
    )
