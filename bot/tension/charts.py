"""Tension charts as PNG, drawn with matplotlib.

A bare `Figure` (no pyplot) saves through the Agg renderer: no display and no
global pyplot state, so charts can be drawn in a worker thread.

Made to be read on a phone: large type, one colour per region from the Okabe-Ito
palette (distinguishable with the common colour-vision deficiencies), a legend,
dates on the x-axis, and each incident marked, bigger and darker the more severe.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta

import matplotlib.dates as mdates
from matplotlib.figure import Figure

from bot.tension.index import RegionTension

WIDTH_PX = 1200
HEIGHT_PX = 800
_DPI = 100
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")


def tension_chart(regions: Sequence[RegionTension], title: str) -> bytes:
    """A PNG of each region's daily index, with its incidents marked by severity."""
    figure = Figure(figsize=(WIDTH_PX / _DPI, HEIGHT_PX / _DPI), dpi=_DPI)
    axes = figure.add_subplot()
    for colour, region in zip(_colours(len(regions)), regions, strict=True):
        days = [datetime.combine(day, datetime.min.time()) for day, _ in region.series]
        values = [value for _, value in region.series]
        axes.plot(mdates.date2num(days), values, color=colour, linewidth=3, label=region.name)
        if region.markers:
            by_day = dict(zip(days, values, strict=True))
            points = [
                (
                    datetime.combine(when.date(), datetime.min.time()),
                    severity,
                )
                for when, severity in region.markers
            ]
            axes.scatter(
                mdates.date2num([day for day, _ in points]),
                [by_day.get(day, 0.0) for day, _ in points],
                s=[40 * severity for _, severity in points],
                color=colour,
                edgecolors="black",
                linewidths=[0.5 + 0.4 * severity for _, severity in points],
                zorder=3,
            )
    axes.set_title(title, fontsize=24, pad=16)
    axes.set_ylabel("Tension index", fontsize=18)
    axes.tick_params(labelsize=15)
    axes.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=8))
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    axes.set_ylim(bottom=0)
    if regions and regions[0].series:
        start = datetime.combine(regions[0].series[0][0], datetime.min.time())
        end = datetime.combine(regions[0].series[-1][0], datetime.min.time())
        margin = timedelta(hours=12)
        axes.set_xlim(float(mdates.date2num(start - margin)), float(mdates.date2num(end + margin)))
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=15, loc="upper left", title="● incident, larger = more severe",
                title_fontsize=12)  # fmt: skip
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _colours(count: int) -> list[str]:
    return [OKABE_ITO[n % len(OKABE_ITO)] for n in range(count)]
