"""How values are written to and read from SQLite columns.

Every stored moment goes through `to_db_time` and comes back through `from_db_time`, and
every stored calendar date through `to_db_date`/`from_db_date`: ISO 8601, UTC, to the
second, zero-padded so that text order is time order. The writer refuses moments outside
`FIRST_STORABLE`..`LAST_STORABLE`: far enough from Python's year 1 and 9999 that the
windows the bot computes around a stored moment (a week, 90 days of tension history, a
digest period) can never overflow, so one odd date cannot poison the record for every
reader. Which dates make sense for an incident is the models' business, not this one's.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

FIRST_STORABLE = datetime(1000, 1, 1, tzinfo=UTC)
LAST_STORABLE = datetime(8999, 12, 31, 23, 59, 59, tzinfo=UTC)

# The reader also takes a year of fewer than four digits: older versions wrote years
# before 1000 that way (glibc's unpadded %Y), and such a row must stay readable so that
# it can be edited or retracted.
_STORED_TIME = re.compile(r"(\d{1,4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z", re.ASCII)
_STORED_DATE = re.compile(r"(\d{1,4})-(\d\d)-(\d\d)", re.ASCII)


class UnstorableTime(ValueError):
    """A moment or date outside what the database stores."""


def storable(moment: datetime) -> datetime:
    """`moment` in UTC to the second, or UnstorableTime naming the storable range."""
    try:
        in_utc = moment.astimezone(UTC).replace(microsecond=0)
    except (OverflowError, ValueError):
        in_utc = None
    if in_utc is None or not FIRST_STORABLE <= in_utc <= LAST_STORABLE:
        raise UnstorableTime(
            f"the year must be between {FIRST_STORABLE.year} and {LAST_STORABLE.year}"
        )
    return in_utc


def to_db_time(moment: datetime) -> str:
    """UTC, to the second, as sortable ISO-8601 text (`2024-08-05T21:30:00Z`)."""
    in_utc = storable(moment)
    return (
        f"{in_utc.year:04d}-{in_utc.month:02d}-{in_utc.day:02d}"
        f"T{in_utc.hour:02d}:{in_utc.minute:02d}:{in_utc.second:02d}Z"
    )


def from_db_time(text: str) -> datetime:
    match = _STORED_TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"not a stored time: {text[:40]!r}")
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def from_db_time_or_none(text: str | None) -> datetime | None:
    """A nullable time column: None stays None."""
    return from_db_time(text) if text else None


def to_db_date(day: date) -> str:
    """A calendar date as sortable ISO-8601 text (`2024-08-05`), in the storable range."""
    storable(datetime(day.year, day.month, day.day, tzinfo=UTC))
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def from_db_date(text: str) -> date:
    match = _STORED_DATE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a stored date: {text[:40]!r}")
    year, month, day = (int(part) for part in match.groups())
    return date(year, month, day)
