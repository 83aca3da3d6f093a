"""Tension charts as PNG, drawn with matplotlib.

A bare `Figure` (no pyplot) saves through the Agg renderer: no display and no
global pyplot state, so charts can be drawn in a worker thread.

Made to be read on a phone: one small panel per region (so no line hides another),
each with its level bands drawn behind the line — they start at the level ratios times
the region's own baseline, which is drawn as a dashed line — large type, dates with the
year, and each incident marked on the line: a dot, bigger the more severe, for attacks
and other incidents, a hollow triangle for strikes by US/coalition forces. A region
without incidents in the window gets a one-line note instead of a flat line.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.models import Direction
from bot.render.tension import held_back_note
from bot.tension.index import Level, RegionTension

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# matplotlib is imported where a chart is drawn: it takes a third of a second, which
# every command-line run that imports the bot (import, export, db upgrade) would pay.

_DPI = 100
_WIDTH_ONE_COLUMN = 1200
_WIDTH_TWO_COLUMNS = 1600
_PANEL_HEIGHT = 360
_HEADER_HEIGHT = 150
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000")
LEVEL_COLOURS = {
    Level.LOW: "#2ca02c",
    Level.GUARDED: "#1f77b4",
    Level.ELEVATED: "#e6c300",
    Level.HIGH: "#ff7f0e",
    Level.SEVERE: "#d62728",
}
_BAND_ALPHA = 0.13
# Below this the line would sit flat on the axis: a note says so instead.
_NEGLIGIBLE = 0.05


def chart_size(regions: int) -> tuple[int, int]:
    """Width and height in pixels of a chart of this many regions."""
    columns = _columns(regions)
    rows = math.ceil(max(1, regions) / columns)
    width = _WIDTH_ONE_COLUMN if columns == 1 else _WIDTH_TWO_COLUMNS
    return width, _HEADER_HEIGHT + _PANEL_HEIGHT * rows


def tension_chart(
    regions: Sequence[RegionTension], title: str, level_ratios: Sequence[float]
) -> bytes:
    """A PNG with one panel per region: its daily index over the level bands."""
    from matplotlib.figure import Figure

    width, height = chart_size(len(regions))
    figure = Figure(figsize=(width / _DPI, height / _DPI), dpi=_DPI)
    columns = _columns(len(regions))
    rows = math.ceil(max(1, len(regions)) / columns)
    grid = figure.add_gridspec(rows, columns)
    as_of = regions[0].today if regions else None
    figure.suptitle(title, fontsize=24, y=0.995, va="top")
    if as_of is not None:
        figure.text(
            0.5,
            1 - 52 / height,
            f"as of {_day(as_of)} · bands: levels against each region's own normal (dashed)",
            ha="center",
            va="top",
            fontsize=14,
            color="#444444",
        )
    for position, (colour, region) in enumerate(zip(_colours(len(regions)), regions, strict=True)):
        axes = figure.add_subplot(grid[position // columns, position % columns])
        _panel(axes, region, colour, level_ratios)
    figure.tight_layout(rect=(0, 0, 1, 1 - 80 / height))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _panel(axes: Axes, region: RegionTension, colour: str, level_ratios: Sequence[float]) -> None:
    import matplotlib.dates as mdates

    days = [_midnight(day) for day, _ in region.series]
    values = [value for _, value in region.series]
    bounds = [0.0, *(ratio * region.baseline for ratio in level_ratios)]
    top = max(max(values, default=0.0) * 1.15, bounds[-1] * 1.3)
    for level, low, high in zip(Level, bounds, [*bounds[1:], top], strict=True):
        axes.axhspan(low, high, color=LEVEL_COLOURS[level], alpha=_BAND_ALPHA, zorder=0)
        axes.text(
            1.005, (low + high) / 2, level.value, transform=axes.get_yaxis_transform(),
            fontsize=11, va="center", color=LEVEL_COLOURS[level],
        )  # fmt: skip
    axes.axhline(region.baseline, color="#555555", linestyle="--", linewidth=1.5, zorder=1)
    quiet = not region.markers and max(values, default=0.0) < _NEGLIGIBLE * region.baseline
    if quiet:
        axes.text(
            0.5, 0.5, f"No incidents in these {len(days)} days",
            transform=axes.transAxes, ha="center", va="center", fontsize=16, color="#333333",
        )  # fmt: skip
    else:
        axes.plot(mdates.date2num(days), values, color=colour, linewidth=3, zorder=2)
        _marks(axes, region, days, values, colour)
    shown = f"{region.level.value} {region.trend.value}"
    if region.held_back:
        shown += f" ({held_back_note(region)})"
    axes.set_title(f"{region.name}: {shown}", fontsize=17, loc="left", color=colour)
    axes.set_ylabel("index", fontsize=13)
    axes.set_ylim(0, top)
    axes.tick_params(labelsize=12)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%-d %b %Y"))
    if days:
        margin = timedelta(hours=12)
        axes.set_xlim(
            float(mdates.date2num(days[0] - margin)), float(mdates.date2num(days[-1] + margin))
        )
    axes.grid(True, axis="x", alpha=0.3)


def _marks(
    axes: Axes, region: RegionTension, days: list[datetime], values: list[float], colour: str
) -> None:
    import matplotlib.dates as mdates

    by_day = dict(zip(days, values, strict=True))
    for strikes in (False, True):
        shown = [m for m in region.markers if (m.direction is Direction.BY_COALITION) == strikes]
        if not shown:
            continue
        x = [_midnight(marker.occurred_at.date()) for marker in shown]
        axes.scatter(
            mdates.date2num(x),
            [by_day.get(day, 0.0) for day in x],
            s=[40 * marker.severity for marker in shown],
            marker="^" if strikes else "o",
            facecolors="none" if strikes else colour,
            edgecolors="black",
            linewidths=1.5,
            zorder=3,
            label="strike by US/coalition" if strikes else "attack or other incident",
        )
    axes.legend(fontsize=11, loc="upper left", framealpha=0.8)


def _columns(regions: int) -> int:
    return 1 if regions <= 2 else 2


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _colours(count: int) -> list[str]:
    return [OKABE_ITO[n % len(OKABE_ITO)] for n in range(count)]
