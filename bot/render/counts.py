"""The /count answer: tallies by direction and casualties, and its bar chart.

The chart is drawn like the tension charts (a bare matplotlib Figure, Agg renderer, safe
in a worker thread): one bar per week or month, stacked by direction, with a title,
labelled axes, dates with their year and an "as of" line.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, tzinfo

from bot.models import Direction, Qualifier
from bot.record.counts import CasualtyTotal, CountReport
from bot.render.incidents import DIRECTION_PLURALS, counted_direction, esc, format_time

WIDTH_PX = 1200
HEIGHT_PX = 700
_DPI = 100
# Okabe-Ito colours, told apart with the common colour-vision deficiencies.
DIRECTION_COLOURS = {
    Direction.ON_COALITION: "#D55E00",
    Direction.BY_COALITION: "#0072B2",
    Direction.OTHER: "#999999",
}


def count_heading(report: CountReport) -> str:
    plural = DIRECTION_PLURALS[report.direction] if report.direction else "incidents"
    kind = plural[0].upper() + plural[1:]
    where = f" in {report.place}" if report.place else ""
    return f"{kind}{where}, {_day(report.since)} – {_day(report.until)}"


def count_text(report: CountReport, zone: tzinfo) -> str:
    lines = [f"<b>{esc(count_heading(report))}</b>", ""]
    if report.incidents == 0:
        lines.append("No published incidents in this span.")
    else:
        parts = [
            counted_direction(count, direction)
            for direction, count in report.by_direction.items()
            if count
        ]
        total = f"{report.incidents:,} incident{'' if report.incidents == 1 else 's'}"
        lines.append(f"{total}: {', '.join(parts)}" if report.direction is None else total)
        lines.append(f"Killed: {esc(casualty_total(report.killed, report.incidents))}")
        lines.append(f"Injured: {esc(casualty_total(report.injured, report.incidents))}")
    lines.extend(
        [
            "",
            f"<i>Per {report.period} in the chart; days in UTC. "
            f"As of {esc(format_time(report.as_of, zone))}.</i>",
        ]
    )
    return "\n".join(lines)


def casualty_total(total: CasualtyTotal, incidents: int) -> str:
    """ "at least 3", "186 reported + unknown in 12 incidents", "unknown"."""
    if total.unknown_in == incidents:
        return "unknown (no incident gave a figure)"
    prefix = "" if total.qualifier is Qualifier.EXACT else f"{total.qualifier.value} "
    figure = f"{prefix}{total.reported:,}"
    if total.unknown_in == 0:
        return figure
    plural = "" if total.unknown_in == 1 else "s"
    return f"{figure} reported + unknown in {total.unknown_in:,} incident{plural}"


def count_chart(report: CountReport) -> bytes:
    """A PNG of the incidents per week or month, stacked by direction."""
    # Imported here, as in bot/tension/charts.py: only what draws pays for matplotlib.
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH_PX / _DPI, HEIGHT_PX / _DPI), dpi=_DPI)
    axes = figure.add_subplot()
    starts = [datetime.combine(start, datetime.min.time()) for start, _ in report.by_period]
    x = mdates.date2num(starts)
    width = 6 if report.period == "week" else 26  # days, leaving a gap between bars
    bottom = [0] * len(starts)
    for direction, colour in DIRECTION_COLOURS.items():
        heights = [counts.get(direction, 0) for _, counts in report.by_period]
        if not any(heights):
            continue
        axes.bar(x, heights, width=width, bottom=bottom, align="edge", color=colour,
                 edgecolor="white", label=DIRECTION_PLURALS[direction])  # fmt: skip
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    figure.suptitle(count_heading(report), fontsize=20)
    axes.set_title(f"as of {_day(report.as_of.date())}", fontsize=13, color="#444444")
    axes.set_xlabel("week starting (Monday)" if report.period == "week" else "month", fontsize=14)
    axes.set_ylabel("incidents", fontsize=14)
    axes.tick_params(labelsize=12)
    axes.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=10))
    axes.xaxis.set_major_formatter(
        mdates.DateFormatter("%-d %b %Y" if report.period == "week" else "%b %Y")
    )
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if starts:
        end = starts[-1] + timedelta(days=7 if report.period == "week" else 31)
        axes.set_xlim(float(x[0]) - 2, float(mdates.date2num(end)) + 2)
    if report.incidents == 0:
        axes.text(0.5, 0.5, "No published incidents in this span", transform=axes.transAxes,
                  ha="center", va="center", fontsize=16)  # fmt: skip
        axes.set_ylim(0, 1)
    else:
        axes.set_ylim(0, max(bottom) * 1.3)  # room for the legend above the tallest bar
        axes.legend(fontsize=12, loc="upper left")
    axes.grid(True, axis="y", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"
