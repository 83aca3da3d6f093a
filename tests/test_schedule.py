from __future__ import annotations

from datetime import UTC, datetime, time

from bot.models import DigestFrequency, Subscription
from bot.subscriptions.schedule import next_digest_time, quiet_until


def subscription(**overrides: object) -> Subscription:
    fields: dict[str, object] = {
        "chat_id": 1,
        "chat_type": "private",
        "timezone": "Europe/London",
        "digest_time": time(8, 0),
    }
    fields.update(overrides)
    return Subscription.model_validate(fields)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_daily_digest_stays_at_eight_local_across_both_dst_changes() -> None:
    london = subscription()
    # Spring forward on 30 March 2025: 08:00 GMT, then 08:00 BST (07:00 UTC).
    assert next_digest_time(london, utc(2025, 3, 29, 7, 0)) == utc(2025, 3, 29, 8, 0)
    assert next_digest_time(london, utc(2025, 3, 29, 8, 0)) == utc(2025, 3, 30, 7, 0)
    # Fall back on 26 October 2025: 08:00 BST (07:00 UTC), then 08:00 GMT.
    assert next_digest_time(london, utc(2025, 10, 25, 7, 0)) == utc(2025, 10, 26, 8, 0)
    assert next_digest_time(london, utc(2025, 10, 26, 8, 0)) == utc(2025, 10, 27, 8, 0)


def test_a_time_in_the_skipped_hour_comes_once_and_an_ambiguous_one_once() -> None:
    skipped = subscription(digest_time=time(1, 30))
    first = next_digest_time(skipped, utc(2025, 3, 29, 12, 0))
    assert first == utc(2025, 3, 30, 1, 30)  # 02:30 BST, the hour 01:00–02:00 does not exist
    assert next_digest_time(skipped, first) == utc(2025, 3, 31, 0, 30)

    ambiguous = subscription(digest_time=time(1, 30))
    first = next_digest_time(ambiguous, utc(2025, 10, 25, 12, 0))
    assert first == utc(2025, 10, 26, 0, 30)  # the first 01:30, still BST
    assert next_digest_time(ambiguous, first) == utc(2025, 10, 27, 1, 30)


def test_weekly_digest_comes_on_its_weekday() -> None:
    weekly = subscription(
        digest=DigestFrequency.WEEKLY, digest_weekday=2, digest_time=time(18, 0),
        timezone="Asia/Baghdad",
    )  # fmt: skip
    # Friday 10 January 2025 → Wednesday 15 January, 18:00 Baghdad = 15:00 UTC.
    assert next_digest_time(weekly, utc(2025, 1, 10, 12, 0)) == utc(2025, 1, 15, 15, 0)
    assert next_digest_time(weekly, utc(2025, 1, 15, 15, 0)) == utc(2025, 1, 22, 15, 0)


def test_no_digest_when_off_or_inactive() -> None:
    assert next_digest_time(subscription(digest=DigestFrequency.OFF), utc(2025, 1, 1)) is None
    assert next_digest_time(subscription(active=False), utc(2025, 1, 1)) is None


def test_quiet_hours_across_midnight_end_the_next_morning() -> None:
    night = subscription(quiet_start=time(22, 0), quiet_end=time(7, 0), timezone="UTC")
    assert quiet_until(night, utc(2025, 1, 1, 23, 0)) == utc(2025, 1, 2, 7, 0)
    assert quiet_until(night, utc(2025, 1, 2, 3, 0)) == utc(2025, 1, 2, 7, 0)
    assert quiet_until(night, utc(2025, 1, 2, 7, 0)) is None
    assert quiet_until(night, utc(2025, 1, 2, 12, 0)) is None


def test_quiet_hours_within_a_day_and_in_local_time() -> None:
    lunch = subscription(quiet_start=time(12, 0), quiet_end=time(14, 0), timezone="Asia/Baghdad")
    assert quiet_until(lunch, utc(2025, 1, 1, 9, 30)) == utc(2025, 1, 1, 11, 0)  # 12:30 local
    assert quiet_until(lunch, utc(2025, 1, 1, 11, 0)) is None
    assert quiet_until(subscription(), utc(2025, 1, 1, 3, 0)) is None
