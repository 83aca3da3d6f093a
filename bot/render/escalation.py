"""The escalation notice: one line saying an attack is one of a run on the same site."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from bot.render.incidents import esc


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st."""
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def escalation_text(
    site: str,
    *,
    number: int,
    window_days: float,
    previous: Sequence[datetime],
    incident_id: int,
    zone: tzinfo,
) -> str:
    days = ", ".join(f"{m.astimezone(zone).day} {m.astimezone(zone):%b}" for m in previous)
    return (
        f"⚠️ <b>{ordinal(number)} attack on {esc(site)} in {window_days:g} days</b> "
        f"(previous: {esc(days)}) · /incident {incident_id}"
    )
