"""Local-time arithmetic for digests and quiet hours, correct across DST changes.

Times are chosen on the subscriber's wall clock ("08:00 in Europe/London") and
stored in UTC. Each computation goes through zoneinfo, so a daily 08:00 stays at
08:00 local when the clocks change. On the day clocks spring forward, a time in
the skipped hour is read with the offset before the change (02:30 becomes 03:30);
on the day they fall back, an ambiguous time means its first occurrence, so it
comes once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.models import DigestFrequency, Subscription

_DAYS_TO_SEARCH = 8  # a weekly slot is at most seven days away


def local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `zone`."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def next_digest_time(subscription: Subscription, after: datetime) -> datetime | None:
    """The first digest slot strictly after `after`, or None when digests are off."""
    if subscription.digest is DigestFrequency.OFF or not subscription.active:
        return None
    zone = ZoneInfo(subscription.timezone)
    first_day = after.astimezone(zone).date()
    for offset in range(_DAYS_TO_SEARCH):
        day = first_day + timedelta(days=offset)
        if (
            subscription.digest is DigestFrequency.WEEKLY
            and day.weekday() != subscription.digest_weekday
        ):
            continue
        moment = local_moment(day, subscription.digest_time, zone)
        if moment > after:
            return moment
    raise AssertionError("a digest slot always exists within eight days")


def quiet_until(subscription: Subscription, at: datetime) -> datetime | None:
    """If `at` falls in the subscriber's quiet hours, the UTC instant they end."""
    start, end = subscription.quiet_start, subscription.quiet_end
    if start is None or end is None:
        return None
    return quiet_hours_end(start, end, ZoneInfo(subscription.timezone), at)


def quiet_hours_end(start: time, end: time, zone: ZoneInfo, at: datetime) -> datetime | None:
    """If `at` falls between local `start` and `end` in `zone`, the UTC instant they end."""
    if start == end:
        return None
    local = at.astimezone(zone)
    now_time = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= now_time < end
        end_day = local.date()
    else:  # quiet hours run past midnight, e.g. 22:00 to 07:00
        inside = now_time >= start or now_time < end
        end_day = local.date() + timedelta(days=1) if now_time >= start else local.date()
    if not inside:
        return None
    return local_moment(end_day, end, zone)
