"""The digest message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.models import Incident, TroopFigure
from bot.render.incidents import (
    esc,
    format_date,
    incident_line,
    source_link,
    troop_figure_text,
)
from bot.render.telegram_html import parse_html, split_html, utf16_length
from bot.render.tension import region_line
from bot.tension.index import RegionTension

MESSAGE_LIMIT = 4096
_CUT_NOTE = "\n…cut to fit one message: /latest shows the rest."


@dataclass(frozen=True)
class DigestContent:
    weekly: bool
    zone: tzinfo
    since: datetime
    until: datetime
    incidents: list[Incident]
    incident_total: int
    regions: list[RegionTension]
    troop_figures: list[TroopFigure]
    # False for a chat's first digest: it covers one period back, not since a digest.
    after_previous: bool = True

    @property
    def is_empty(self) -> bool:
        return self.incident_total == 0 and not self.troop_figures


def digest_text(content: DigestContent) -> str:
    kind = "Weekly" if content.weekly else "Daily"
    heading = f"📰 <b>{kind} digest</b> · {format_date(content.until, content.zone)}"
    if content.is_empty:
        if content.after_previous:
            return f"{heading}\nNothing new since your last digest."
        return f"{heading}\nNothing new in the past {'week' if content.weekly else 'day'}."
    lines = [heading, f"<i>Since {format_date(content.since, content.zone)}</i>", ""]
    lines.append("<b>Tension</b> (▲ rising, ▶ steady, ▼ falling over 7 days)")
    lines.extend(region_line(region, driver_ids=True) for region in content.regions)
    if content.incident_total:
        lines.extend(["", f"<b>New incidents</b> ({content.incident_total})"])
        for incident in content.incidents:
            lines.append(incident_line(incident, content.zone))
        more = content.incident_total - len(content.incidents)
        if more > 0:
            lines.append(f"…and {more} more: /latest 20")
    if content.troop_figures:
        lines.extend(["", "<b>Troop figures</b>"])
        for figure in content.troop_figures:
            lines.append(
                f"{esc(figure.force)} in {esc(figure.host_country)}: "
                f"{esc(troop_figure_text(figure))} · {source_link(figure.source)}"
            )
    return _fit_one_message("\n".join(lines))


def with_zone_notice(html: str, lost_zone: str, used_zone: str) -> str:
    """A digest written in `used_zone` because the subscriber's `lost_zone` cannot be
    loaded any more, saying so first."""
    notice = (
        f"⚠️ Your time zone {esc(lost_zone)} is not known here any more, so this digest "
        f"uses {esc(used_zone)}. Choose yours with /settings timezone, e.g. "
        "/settings timezone Europe/London"
    )
    return _fit_one_message(f"{notice}\n\n{html}")


def _fit_one_message(html: str) -> str:
    # A digest is one message; very long titles could push it past Telegram's limit. The
    # markup is never shorter than its text (tags go, entities shrink), so only a long one
    # needs parsing: at 100,000 digests the parse was most of the rendering's CPU.
    if utf16_length(html) <= MESSAGE_LIMIT or parse_html(html).length <= MESSAGE_LIMIT:
        return html
    return split_html(html, MESSAGE_LIMIT - len(_CUT_NOTE))[0] + _CUT_NOTE
