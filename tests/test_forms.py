from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.models import Count, Qualifier
from bot.newsroom.forms import (
    KEYS,
    FormError,
    fields_from_incident,
    form_text,
    incident_from_fields,
    parse_count,
    parse_form,
    parse_occurred,
    parse_source,
    troop_figure_from_fields,
)
from tests.factories import incident_content

BAGHDAD = ZoneInfo("Asia/Baghdad")


def test_summary_takes_every_line_after_it_and_sources_repeat() -> None:
    parsed = parse_form(
        "title: T\nsource: A https://a.example\nsource: https://www.b.example/x\n"
        "summary: first line\nsecond: line with a colon\n\nthird"
    )
    assert parsed.problems == []
    assert parsed.fields["source"] == ["A https://a.example", "https://www.b.example/x"]
    assert parsed.fields["summary"] == ["first line\nsecond: line with a colon\n\nthird"]


def test_form_syntax_problems_name_the_line() -> None:
    parsed = parse_form("title: A\ntitle: B\njust words\nweather: fine")
    assert parsed.problems == [
        "line 2: “title” is given twice",
        "line 3: expected “key: value”, got “just words”",
        f"line 4: unknown key “weather” (keys: {', '.join(KEYS)})",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", Count(value=5)),
        ("at least 5", Count(value=5, qualifier=Qualifier.AT_LEAST)),
        ("More than 40", Count(value=40, qualifier=Qualifier.AT_LEAST)),
        ("about 2,500", Count(value=2500, qualifier=Qualifier.ABOUT)),
        ("nearly 900", Count(value=900, qualifier=Qualifier.NEARLY)),
        ("none", Count(value=0)),
        ("unknown", None),
        ("", None),
    ],
)
def test_counts_keep_their_qualifier(text: str, expected: Count | None) -> None:
    assert parse_count(text) == expected


@pytest.mark.parametrize("text", ["lots", "5 or 6", "at least", "-3"])
def test_counts_that_are_not_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="expected a number"):
        parse_count(text)


def test_occurred_is_read_in_the_bot_timezone_unless_it_has_an_offset() -> None:
    assert parse_occurred("2024-08-05 21:00", BAGHDAD).astimezone(UTC) == datetime(
        2024, 8, 5, 18, 0, tzinfo=UTC
    )
    assert parse_occurred("2024-08-05T21:00+00:00", BAGHDAD).astimezone(UTC).hour == 21
    assert parse_occurred("2024-08-05", BAGHDAD).astimezone(BAGHDAD).day == 5
    with pytest.raises(ValueError, match="ISO date"):
        parse_occurred("5 August", BAGHDAD)


def test_sources_are_named_links_or_bare_links_named_after_their_host() -> None:
    named = parse_source("Reuters https://www.reuters.com/x")
    assert named.name == "Reuters" and str(named.url) == "https://www.reuters.com/x"
    assert parse_source("https://www.apnews.com/a").name == "apnews.com"
    assert parse_source("Pentagon briefing").url is None
    with pytest.raises(ValueError, match="not a valid"):
        parse_source("Bad https://")


def test_an_incident_survives_a_trip_through_its_form() -> None:
    original = incident_content(
        killed={"value": 3, "qualifier": "exact"},
        claimed_by="Islamic Resistance in Iraq",
        perpetrator="Militia",
        tags=["drone", "us-forces"],
    )
    fields = parse_form(form_text(fields_from_incident(original, BAGHDAD))).fields
    again = incident_from_fields(fields, BAGHDAD)
    assert again.model_dump(exclude={"external_id", "reported_at"}) == original.model_dump(
        exclude={"external_id", "reported_at"}
    )


def test_a_troop_form_reports_every_problem() -> None:
    with pytest.raises(FormError) as caught:
        troop_figure_from_fields({"force": ["US"], "count": ["many"], "as_of": ["Aug 2024"]})
    assert caught.value.problems == [
        "host: missing",
        "source: missing",
        "count: expected a number, optionally after “at least”, “about” or “nearly”",
        "as_of: expected an ISO date, e.g. 2024-08-06",
    ]
