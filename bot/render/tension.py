"""The /tension message and the tension lines of digests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from bot.render.incidents import esc, format_date
from bot.tension.index import Level, RegionTension

LEVEL_MARK = {
    Level.LOW: "🟢",
    Level.GUARDED: "🔵",
    Level.ELEVATED: "🟡",
    Level.HIGH: "🟠",
    Level.SEVERE: "🔴",
}
CAPTION_LIMIT = 1024


def region_line(region: RegionTension) -> str:
    return (
        f"{LEVEL_MARK[region.level]} <b>{esc(region.name)}</b>: {region.level.value} "
        f"{region.trend.value} (index {region.index:.1f}, {region.ratio:.1f}× its normal)"
    )


def tension_text(regions: Sequence[RegionTension], zone: tzinfo, *, drivers: bool) -> str:
    lines = ["<b>Regional tension</b> (▲ rising, ▶ steady, ▼ falling over 7 days)", ""]
    for region in regions:
        lines.append(region_line(region))
        if drivers:
            for driver in region.drivers:
                lines.append(
                    f"   #{driver.incident_id} {esc(driver.title)} "
                    f"({format_date(driver.occurred_at, zone)})"
                )
    return "\n".join(lines)
