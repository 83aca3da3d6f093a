from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.models import Count, Qualifier, TroopKind, Verification
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
NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


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
        ("More than 40", Count(value=40, qualifier=Qualifier.MORE_THAN)),
        ("up to 12", Count(value=12, qualifier=Qualifier.UP_TO)),
        ("not reported", None),
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
    again = incident_from_fields(fields, BAGHDAD, NOW)
    assert again.model_dump(exclude={"external_id", "reported_at"}) == original.model_dump(
        exclude={"external_id", "reported_at"}
    )


def test_a_troop_form_reports_every_problem() -> None:
    with pytest.raises(FormError) as caught:
        troop_figure_from_fields({"force": ["US"], "count": ["many"], "as_of": ["Aug 2024"]}, NOW)
    assert caught.value.problems == [
        "host: missing",
        "source: missing",
        "count: expected a number, optionally after “at least”, “more than”, “about”, "
        "“nearly” or “up to”; “none” for none, “not reported” when not known",
        "as_of: expected an ISO date, e.g. 2024-08-06",
    ]


def _form(**changes: str) -> dict[str, list[str]]:
    fields = fields_from_incident(incident_content(), BAGHDAD)
    fields.update({key: [value] for key, value in changes.items()})
    return {key: values for key, values in fields.items() if any(values)}


@pytest.mark.parametrize(
    ("said", "claimed_by", "no_claim"),
    [
        ("Islamic Resistance in Iraq", "Islamic Resistance in Iraq", False),
        ("none", None, True),
        ("no group has claimed", None, True),
        ("not reported", None, False),
        ("", None, False),
    ],
)
def test_a_claim_is_made_reported_as_none_or_not_recorded(
    said: str, claimed_by: str | None, no_claim: bool
) -> None:
    incident = incident_from_fields(_form(claimed_by=said), BAGHDAD, NOW)
    assert (incident.claimed_by, incident.no_claim) == (claimed_by, no_claim)


def test_a_perpetrator_reported_as_none_is_not_an_unreported_one() -> None:
    assert incident_from_fields(_form(perpetrator="none"), BAGHDAD, NOW).no_perpetrator
    assert not incident_from_fields(_form(perpetrator="unknown"), BAGHDAD, NOW).no_perpetrator


def test_verification_is_read_with_who_confirmed_it() -> None:
    confirmed = incident_from_fields(
        _form(verification="confirmed by US Central Command"), BAGHDAD, NOW
    )
    assert (confirmed.verification, confirmed.confirmed_by) == (
        Verification.CONFIRMED,
        "US Central Command",
    )
    assert incident_from_fields(_form(), BAGHDAD, NOW).verification is Verification.REPORTED
    with pytest.raises(FormError, match="verification: one of confirmed, reported"):
        incident_from_fields(_form(verification="rumoured"), BAGHDAD, NOW)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"country": "Irak"}, "country: unknown country “Irak” — did you mean Iraq?"),
        ({"country": "Narnia"}, "country: unknown country “Narnia”; known countries: Iraq,"),
        (
            {"coordinates": "95, 200"},
            "coordinates: 95, 200 is not on Earth: latitude runs from -90 to 90",
        ),
        ({"coordinates": "33.5, 36.3"}, "coordinates: 33.5, 36.3 is not in Iraq"),
        ({"occurred": "1899-12-31"}, "occurred: must lie between 1900-01-01 and 2025-01-16 15:00"),
        ({"occurred": "2025-03-01"}, "occurred: must lie between 1900-01-01 and 2025-01-16 15:00"),
        ({"injured": "100001"}, "injured: must be from 0 to 100,000; got 100,001"),
        (
            {"location": "Some Village", "coordinates": ""},
            "location: I don't know “Some Village” in Iraq. A place not in the gazetteer "
            "needs its coordinates.",
        ),
        ({"region": "Anbr"}, "region: unknown province “Anbr” in Iraq — did you mean Anbar?"),
    ],
)
def test_every_value_out_of_range_or_place_unknown_is_one_line_naming_its_field(
    changes: dict[str, str], problem: str
) -> None:
    with pytest.raises(FormError) as caught:
        incident_from_fields(_form(**changes), BAGHDAD, NOW)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(problem)


def test_places_land_on_the_gazetteers_names() -> None:
    fields = _form(country="iraq", region="Al Anbar", location="Ain al Asad Airbase")
    del fields["coordinates"]
    incident = incident_from_fields(fields, BAGHDAD, NOW)
    assert (incident.country, incident.admin1, incident.location) == (
        "Iraq",
        "Anbar",
        "Ain al-Asad Air Base",
    )
    assert incident.latitude is None  # the record keeps only what was reported


def test_an_unknown_site_with_coordinates_in_the_country_is_kept() -> None:
    incident = incident_from_fields(_form(location="Hit", coordinates="33.64, 42.83"), BAGHDAD, NOW)
    assert (incident.location, incident.latitude) == ("Hit", 33.64)


def test_a_troop_figure_has_a_kind() -> None:
    figure = troop_figure_from_fields(
        {
            "force": ["US"],
            "host": ["Syria"],
            "count": ["about 2,000"],
            "kind": ["disclosure"],
            "as_of": ["2024-12-19"],
            "source": ["Pentagon"],
        },
        NOW,
    )
    assert figure.kind is TroopKind.DISCLOSURE
