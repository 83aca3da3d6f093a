"""Small builders of valid domain objects, overridable field by field."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from bot.models import IncidentContent
from storage.db import bundled_migrations


def incident_content(**overrides: Any) -> IncidentContent:
    fields: dict[str, Any] = {
        "occurred_at": datetime(2024, 8, 5, 18, 30, tzinfo=UTC),
        "title": "Rockets strike Ain al-Asad Air Base",
        "summary": "Two rockets landed inside the base; several people were hurt.",
        "event_type": "Explosions/Remote violence",
        "sub_event_type": "Shelling/artillery/missile attack",
        "country": "Iraq",
        "admin1": "Anbar",
        "location": "Ain al-Asad Air Base",
        "latitude": 33.8,
        "longitude": 42.44,
        "claimed_by": None,
        "injured": {"value": 5, "qualifier": "at least"},
        "severity": 3,
        "sources": [{"name": "Example News", "url": "https://news.example.org/a"}],
        "tags": ["rocket"],
    }
    fields.update(overrides)
    return IncidentContent.model_validate(fields)


def schema_before(conn: sqlite3.Connection, migration: str) -> str:
    """Give `conn` the schema of the bundled migrations before the one whose file name ends
    with `migration`, as an older incident-bot left it; return that migration's SQL."""
    for _, name, sql in bundled_migrations():
        if name.endswith(migration):
            return sql
        conn.executescript(sql)
    raise LookupError(f"no bundled migration ends with {migration!r}")
