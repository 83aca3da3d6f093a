"""The subscription menu and summaries, as Telegram HTML with their buttons.

A button is a (label, action) pair; an action is "tap:value" and the handler
turns it into callback_data. Every name shown passes through `esc`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.models import WEEKDAYS, DigestFrequency, Direction, Subscription
from bot.regions import REGIONS
from bot.render.incidents import DIRECTION_PLURALS, esc, format_time, severity_badge

Button = tuple[str, str]


class Section(StrEnum):
    PLACES = "places"
    ALERTS = "alerts"
    DIGEST = "digest"
    MORE = "more"


class Tap(StrEnum):
    """What a menu button does; the value after the colon says with what."""

    SECTION = "s"
    PLACE = "p"
    EVERYWHERE = "all"
    SEVERITY = "sev"
    DIRECTION = "dir"
    FREQUENCY = "freq"
    WEEKDAY = "day"
    TIME = "at"
    TIMEZONE = "tz"
    EMPTY_DIGEST = "empty"
    CHART = "chart"
    DONE = "done"


# After a tap the menu shows the section the tapped button belongs to.
SECTION_OF: dict[Tap, Section] = {
    Tap.PLACE: Section.PLACES,
    Tap.EVERYWHERE: Section.PLACES,
    Tap.SEVERITY: Section.ALERTS,
    Tap.DIRECTION: Section.ALERTS,
    Tap.FREQUENCY: Section.DIGEST,
    Tap.WEEKDAY: Section.DIGEST,
    Tap.TIME: Section.DIGEST,
    Tap.TIMEZONE: Section.MORE,
    Tap.EMPTY_DIGEST: Section.MORE,
    Tap.CHART: Section.MORE,
}

NO_ALERTS = "off"
DIGEST_TIMES = (time(6), time(8), time(12), time(18), time(21))
TIMEZONE_CHOICES = {
    "UTC": "UTC",
    "Asia/Baghdad": "Baghdad",
    "Asia/Damascus": "Damascus",
    "Asia/Jerusalem": "Jerusalem",
    "Europe/London": "London",
    "America/New_York": "New York",
}

FOLLOWS_NOTHING = (
    "This chat follows no place, so no alerts or digests come. Choose some with /subscribe "
    "(the menu, or e.g. /subscribe Iraq, /subscribe everywhere) or /watch Ain al-Asad; "
    "/unsubscribe ends the subscription."
)

_SELECTED = "✅ "
_SECTION_LABELS = {
    Section.PLACES: "📍 Places",
    Section.ALERTS: "🔔 Alerts",
    Section.DIGEST: "🗞 Digest",
    Section.MORE: "⚙️ More",
}
_HINTS = {
    None: (
        "Tap a section to change it, or type:\n"
        "/settings timezone Europe/London\n"
        "/settings digest_time 07:30\n"
        "/settings quiet 22:00-07:00 (or off)\n"
        "/settings empty_digest skip (or send)\n"
        "/settings chart off (or on)\n"
        "/settings alerts_on attacks strikes other\n"
        "/watch Ain al-Asad 30 km (and /unwatch)"
    ),
    Section.PLACES: (
        "Tap places to add or remove them, or Everywhere for every place (a place tapped then "
        "replaces it). Provinces, bases and towns: /subscribe Anbar, /subscribe Ain al-Asad; "
        "a radius: /watch Tower 22 30 km"
    ),
    Section.ALERTS: (
        "An instant alert comes when an incident at least this severe is published. "
        "Severity: 1 minor, 2 low, 3 moderate, 4 high, 5 severe. "
        "Tick which incidents alert: attacks on US/coalition forces, strikes by them, other."
    ),
    Section.DIGEST: (
        "A round-up of what happened since the previous one. "
        "Another time: /settings digest_time 07:30"
    ),
    Section.MORE: (
        "Time zone: tap one, or type /settings timezone Europe/Paris\n"
        "Quiet hours: /settings quiet 22:00-07:00, or /settings quiet off"
    ),
}
_FOOTER = "Change anything with /settings; stop with /unsubscribe."
_ROW = 3


@dataclass(frozen=True)
class Menu:
    html: str
    buttons: list[list[Button]]


def subscription_menu(subscription: Subscription, section: Section | None) -> Menu:
    """The menu on one section, or (None) on the overview that only lists the sections."""
    lines = [
        f"<b>{esc(_title(subscription))}</b> — each tap is saved at once.",
        "",
        *_choices(subscription),
        "",
        f"<i>{esc(_HINTS[section])}</i>",
    ]
    rows = [_tabs(section)]
    if section is not None:
        rows.extend(_SECTION_ROWS[section](subscription))
    rows.append([("✔️ Done", f"{Tap.DONE}:")])
    return Menu("\n".join(lines), rows)


def subscription_summary(subscription: Subscription, heading: str) -> str:
    return "\n".join([f"<b>{esc(heading)}</b>", "", *_choices(subscription), "", esc(_FOOTER)])


def unsubscribed_text(removed: Subscription | None, link: str | None) -> str:
    """What /unsubscribe answers, with the ways back; `link` is a one-tap deep link."""
    if removed is None:
        return esc("This chat was not subscribed. /subscribe starts alerts and digests.")
    lines = ["<b>Unsubscribed.</b> No more alerts or digests here.", "", "To come back:"]
    lines.append(esc("• /subscribe opens the menu"))
    if removed.regions:
        same = ", ".join(removed.regions)
        lines.append(esc(f"• /subscribe {same} follows the same places again"))
    if link is not None:
        lines.append(f'• or tap <a href="{esc(link)}">this link</a> for everywhere')
    return "\n".join(lines)


def _title(subscription: Subscription) -> str:
    if subscription.chat_type == "private":
        return "Your subscription"
    return "This chat's subscription"


def _choices(s: Subscription) -> list[str]:
    zone = ZoneInfo(s.timezone)
    lines = [
        f"📍 Places: {esc(_places(s))}",
        f"🔔 Instant alerts: {esc(_alerts(s.min_severity))}",
    ]
    if s.watches:
        watched = ", ".join(f"{w.site} ({w.radius_km:g} km)" for w in s.watches)
        lines.insert(1, f"👁 Watching: {esc(watched)} — /unwatch SITE stops one")
    if s.follows_nothing:
        lines.insert(1, f"      {esc(FOLLOWS_NOTHING)}")
    if s.min_severity is not None:
        lines.append(f"      about: {esc(_directions(s))}")
    lines.append(f"🗞 Digest: {esc(_digest(s))}")
    if s.next_digest_at is not None:
        lines.append(f"      next: {esc(format_time(s.next_digest_at, zone))}")
    if s.digest is not DigestFrequency.OFF:
        lines.append(
            f"      chart {'on' if s.digest_chart else 'off'}, "
            f"empty digests {'skipped' if s.skip_empty_digest else 'sent'}"
        )
    lines.append(f"🌙 Quiet hours: {esc(_quiet(s))}")
    lines.append(f"🕓 Time zone: {esc(s.timezone)}")
    if not s.active:
        lines.append(
            "⏸ Paused: messages to this chat could not be delivered. Any change resumes it."
        )
    return lines


def _alerts(min_severity: int | None) -> str:
    if min_severity is None:
        return "off"
    if min_severity == 5:
        return f"severity 5 only ({severity_badge(5)})"
    return f"severity {min_severity} and above ({severity_badge(min_severity)})"


_DIRECTION_BUTTONS = {
    Direction.ON_COALITION: "Attacks on US",
    Direction.BY_COALITION: "US strikes",
    Direction.OTHER: "Other",
}


def _places(s: Subscription) -> str:
    if s.everywhere:
        return "everywhere"
    if s.regions:
        return ", ".join(s.regions)
    return "only the sites watched" if s.watches else "none"


def _directions(s: Subscription) -> str:
    return ", ".join(DIRECTION_PLURALS[direction] for direction in s.directions)


def _digest(s: Subscription) -> str:
    at = _hhmm(s.digest_time)
    if s.digest is DigestFrequency.OFF:
        return "off"
    if s.digest is DigestFrequency.WEEKLY:
        return f"weekly on {WEEKDAYS[s.digest_weekday]} at {at}"
    return f"daily at {at}"


def _quiet(s: Subscription) -> str:
    if s.quiet_start is None or s.quiet_end is None:
        return "none"
    return (
        f"{_hhmm(s.quiet_start)}–{_hhmm(s.quiet_end)}; alerts below severity 5 wait until they end"
    )


def _hhmm(at: time) -> str:
    return at.strftime("%H:%M")


def _button(label: str, tap: Tap, value: str = "", *, selected: bool = False) -> Button:
    return (f"{_SELECTED if selected else ''}{label}", f"{tap}:{value}")


def _rows(buttons: Sequence[Button], width: int = _ROW) -> list[list[Button]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def _tabs(current: Section | None) -> list[Button]:
    return [
        (f"▸ {label}" if section is current else label, f"{Tap.SECTION}:{section}")
        for section, label in _SECTION_LABELS.items()
    ]


def _places_rows(s: Subscription) -> list[list[Button]]:
    # Countries chosen one by one (with /subscribe Jordan) get a button too, to untick them.
    names = [*REGIONS, *(place for place in s.regions if place not in REGIONS)]
    places = [_button(name, Tap.PLACE, name, selected=name in s.regions) for name in names]
    everywhere = _button("🌍 Everywhere", Tap.EVERYWHERE, selected=s.everywhere)
    return [*_rows(places), [everywhere]]


def _alerts_rows(s: Subscription) -> list[list[Button]]:
    levels = [
        _button(
            "5 only" if level == 5 else f"{level}+",
            Tap.SEVERITY,
            str(level),
            selected=s.min_severity == level,
        )
        for level in range(1, 6)
    ]
    off = _button("🔕 No instant alerts", Tap.SEVERITY, NO_ALERTS, selected=s.min_severity is None)
    directions = [
        _button(label, Tap.DIRECTION, direction, selected=direction in s.directions)
        for direction, label in _DIRECTION_BUTTONS.items()
    ]
    return [levels, directions, [off]]


def _digest_rows(s: Subscription) -> list[list[Button]]:
    labels = {
        DigestFrequency.DAILY: "Daily",
        DigestFrequency.WEEKLY: "Weekly",
        DigestFrequency.OFF: "No digest",
    }
    rows = [
        [
            _button(label, Tap.FREQUENCY, frequency, selected=s.digest is frequency)
            for frequency, label in labels.items()
        ]
    ]
    if s.digest is DigestFrequency.WEEKLY:
        rows.append(
            [
                _button(name[:3], Tap.WEEKDAY, str(day), selected=s.digest_weekday == day)
                for day, name in enumerate(WEEKDAYS)
            ]
        )
    if s.digest is not DigestFrequency.OFF:
        # A time typed with /settings digest_time shows among the usual ones, ticked.
        times = sorted({*DIGEST_TIMES, s.digest_time})
        rows.append(
            [_button(_hhmm(at), Tap.TIME, _hhmm(at), selected=s.digest_time == at) for at in times]
        )
    return rows


def _more_rows(s: Subscription) -> list[list[Button]]:
    zones = dict(TIMEZONE_CHOICES)
    zones.setdefault(s.timezone, s.timezone)
    timezone_buttons = [
        _button(label, Tap.TIMEZONE, name, selected=s.timezone == name)
        for name, label in zones.items()
    ]
    skip = s.skip_empty_digest
    return [
        *_rows(timezone_buttons),
        [
            _button("Send empty digests", Tap.EMPTY_DIGEST, "send", selected=not skip),
            _button("Skip empty digests", Tap.EMPTY_DIGEST, "skip", selected=skip),
        ],
        [
            _button("Chart on", Tap.CHART, "on", selected=s.digest_chart),
            _button("Chart off", Tap.CHART, "off", selected=not s.digest_chart),
        ],
    ]


_SECTION_ROWS = {
    Section.PLACES: _places_rows,
    Section.ALERTS: _alerts_rows,
    Section.DIGEST: _digest_rows,
    Section.MORE: _more_rows,
}
