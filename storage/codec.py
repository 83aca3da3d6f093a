"""How values are written to and read from SQLite columns."""

from __future__ import annotations

from datetime import UTC, datetime

_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def to_db_time(moment: datetime) -> str:
    """UTC, to the second, as sortable ISO-8601 text."""
    return moment.astimezone(UTC).strftime(_FORMAT)


def from_db_time(text: str) -> datetime:
    return datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)
