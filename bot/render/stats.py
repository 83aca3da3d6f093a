"""The /stats message."""

from __future__ import annotations

from datetime import tzinfo

from bot.record.stats import DeliveryStats
from bot.render.incidents import esc, format_time


def stats_text(stats: DeliveryStats, zone: tzinfo) -> str:
    lines = [f"<b>Delivery since {format_time(stats.since, zone)}</b>", ""]
    total = sum(stats.subscribers_by_region.values())
    lines.append("<b>Subscribers by region</b>" + ("" if total else ": none yet"))
    for region, count in sorted(stats.subscribers_by_region.items()):
        lines.append(f"{esc(region)}: {count}")
    lines.append("")
    sent, charts = stats.sent, stats.digest_charts
    lines.append(
        f"<b>Sent today:</b> {sent.get('alert', 0)} alerts, "
        f"{sent.get('correction', 0)} corrections, {sent.get('digest', 0)} digests"
        + (f" (and {charts} tension charts with them)" if charts else "")
    )
    lines.append(f"<b>Waiting in the outbox:</b> {stats.outbox_depth}")
    lines.append("")
    lines.append("<b>Failures today</b>" + ("" if stats.failures else ": none"))
    for reason, count in sorted(stats.failures.items(), key=lambda item: -item[1]):
        lines.append(f"{count} × {esc(reason or 'unknown')}")
    if stats.dropped:
        lines.append("")
        lines.append("<b>Not sent, on purpose</b>")
        for reason, count in sorted(stats.dropped.items(), key=lambda item: -item[1]):
            lines.append(f"{count} × {esc(reason or 'unknown')}")
    if stats.sample.incidents or stats.sample.figures:
        lines.append("")
        lines.append(
            f"<b>Sample data:</b> {stats.sample.incidents} incidents and "
            f"{stats.sample.figures} troop figures from the bundled sample are in the record; "
            "<code>incident-bot sample remove</code> deletes them"
        )
    return "\n".join(lines)
