"""Every message about bad input is in plain words, never in pydantic's own phrasing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import BaseModel, Field, HttpUrl, ValidationError

from bot.clock import ManualClock
from bot.config import ConfigError, load_settings
from bot.newsroom.forms import (
    FormError,
    check_field,
    incident_from_fields,
    troop_figure_from_fields,
)
from bot.newsroom.transfer import import_file
from bot.plain_errors import plain_message
from storage.db import Database

PYDANTIC_PHRASES = ("Input should", "String should", "List should", "Value error,", "[type=")

BAD_CONFIGS = [
    "[telegram]\nadmins = ['me', 1.5, -3]\nconnection_pool_size = 'many'\n"
    "api_base_url = 'localhost'\nhttp_backend = 'curl'\n",
    "[delivery]\nglobal_per_second = 0\nconcurrency = 100000\nmax_attempts = true\n",
    "[tension]\nseverity_weights = [1, 2]\nlevel_ratios = 'high'\nbaseline_days = 1.5\n",
    "[webhook]\npublic_url = 'ftp://example.org'\nport = 70000\npath = 'no-slash'\n",
    "[storage]\npath = 5\n[bot]\ntimezone = 12\n",
    "telegram = 'a string, not a table'\n",
]


def assert_plain(message: str) -> None:
    for phrase in PYDANTIC_PHRASES:
        assert phrase not in message, f"pydantic's phrasing reached a person: {message!r}"


@pytest.mark.parametrize("text", BAD_CONFIGS)
def test_config_problems_are_in_plain_words(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert_plain(str(caught.value))


async def test_import_problems_are_in_plain_words(
    db: Database, tmp_path: Path, clock: ManualClock
) -> None:
    rows = [
        {"occurred_at": "yesterday", "title": "", "event_type": "Battles", "country": "Iraq",
         "location": "X", "severity": 9, "sources": [{"name": "R", "url": "not a url"}]},
        {"occurred_at": "2024-01-01", "title": "T" * 400, "event_type": "Picnic",
         "country": "Iraq", "location": "X", "severity": "high", "sources": [],
         "killed": -1, "killed_qualifier": "roughly", "latitude": 500, "tags": "x"},
        {"occurred_at": "2024-01-01", "title": "T", "event_type": "Battles", "country": "Iraq",
         "location": "X", "severity": 2.5, "sources": "R", "status": "gone", "extra": 1},
    ]  # fmt: skip
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
    report = await import_file(db, path, skip_invalid=False, clock=clock)
    assert len(report.problems) == 3
    for problem in report.problems:
        assert_plain(str(problem))


def test_admin_form_problems_are_in_plain_words() -> None:
    fields = {
        "title": ["x" * 500], "occurred": ["2024-01-01"], "country": ["Iraq"],
        "location": ["X"], "type": ["Battles"], "severity": ["3"],
        "source": ["Reuters ftp://example.org"], "coordinates": ["100, 500"],
    }  # fmt: skip
    with pytest.raises(FormError) as caught:
        incident_from_fields(fields, UTC, datetime(2025, 1, 15, tzinfo=UTC))
    assert_plain(str(caught.value))
    for key, value in [("title", "x" * 500), ("coordinates", "91, 0"), ("summary", "s" * 5000)]:
        problem = check_field(key, [value], UTC, datetime(2025, 1, 15, tzinfo=UTC))
        assert problem is not None
        assert_plain(problem)
    with pytest.raises(FormError) as caught:
        troop_figure_from_fields({"force": ["US"], "host": ["Iraq"], "count": ["-5"],
                                  "as_of": ["2024-01-01"], "source": ["not a link"]},
                                 datetime(2025, 1, 15, tzinfo=UTC))  # fmt: skip
    assert_plain(str(caught.value))


class _Everything(BaseModel):
    whole: int = 0
    number: float = Field(default=1, gt=0, le=10)
    text: str = Field(default="", min_length=1, max_length=3, pattern="^a")
    link: HttpUrl | None = None
    flag: bool = False
    items: list[int] = Field(default_factory=list, min_length=1, max_length=2)
    table: dict[str, int] = Field(default_factory=dict)


@pytest.mark.parametrize(
    "data",
    [
        {"whole": "x"}, {"whole": 1.5}, {"number": 0}, {"number": 11}, {"number": "n"},
        {"text": ""}, {"text": "abcd"}, {"text": "b"}, {"link": "x"}, {"link": "ftp://x"},
        {"flag": "maybe"}, {"items": []}, {"items": [1, 2, 3]}, {"items": "x"},
        {"table": 5}, {"unknown": 1, "whole": None},
    ],
)  # fmt: skip
def test_each_kind_of_problem_has_plain_words(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as caught:
        _Everything.model_validate(data)
    for detail in caught.value.errors():
        message = plain_message(detail)
        assert message and message[0].islower()
        assert_plain(message)
