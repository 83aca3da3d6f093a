from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.models import (
    Count,
    Incident,
    Qualifier,
    SearchResults,
    Status,
    TroopFigure,
    TroopKind,
    TroopSummary,
)
from bot.render.incidents import incident_card, incident_list, search_results, troop_report
from bot.render.telegram_html import parse_html
from tests.factories import incident_content

BAGHDAD = ZoneInfo("Asia/Baghdad")
STAMP = datetime(2024, 8, 6, tzinfo=UTC)


def stored(**overrides: object) -> Incident:
    draft = incident_content(**overrides)
    return Incident(**draft.model_dump(), id=7, created_at=STAMP, updated_at=STAMP)


def test_card_shows_local_time_place_casualties_claim_and_linked_sources() -> None:
    card = incident_card(stored(), BAGHDAD)
    text = parse_html(card).text
    assert "When: 5 Aug 2024, 21:30 +03" in text
    assert "Where: Ain al-Asad Air Base, Anbar, Iraq (33.8000, 42.4400)" in text
    assert "Casualties: at least 5 injured; killed not reported" in text
    assert "Attributed to: not reported" in text
    assert "Claimed by: no claim recorded" in text
    assert "Status: reported, not confirmed" in text
    assert '<a href="https://news.example.org/a">Example News</a>' in card


def test_card_escapes_everything_stored() -> None:
    hostile = stored(
        title="<b>Boom</b> & co",
        summary='a < b > c & "d"',
        sources=[{"name": "R&D <Times>", "url": 'https://x.example/?a=1&b="2"'}],
        claimed_by="<script>",
    )
    card = incident_card(hostile, UTC)
    parsed = parse_html(card)  # raises if Telegram would refuse it
    assert "<b>Boom</b> & co" in parsed.text
    assert "<script>" in parsed.text
    link = next(e for e in parsed.entities if e.type == "text_link")
    assert link.url == "https://x.example/?a=1&b=%222%22"


def test_retracted_card_is_struck_through_with_the_reason() -> None:
    retracted = stored().model_copy(
        update={"status": Status.RETRACTED, "retraction_reason": "Duplicate of #3"}
    )
    card = incident_card(retracted, UTC)
    assert card.startswith("<s><b>")
    assert "Retracted:</b> Duplicate of #3" in card


def test_list_line_has_id_date_place_and_casualties() -> None:
    text = parse_html(incident_list("Latest", [stored()], UTC)).text
    assert "#7 · 5 Aug 2024 · Ain al-Asad Air Base, Anbar, Iraq" in text
    assert "Rockets strike Ain al-Asad Air Base — at least 5 injured" in text


def _figures(before: dict[str, object], after: dict[str, object]) -> TroopSummary:
    latest = TroopFigure.model_validate(
        {
            "id": 2,
            "force": "United States",
            "host_country": "Syria",
            "count": {"value": 2000, "qualifier": "exact"},
            "as_of": date(2024, 12, 19),
            "source": {"name": "Pentagon", "url": "https://defense.example/x"},
        }
        | after
    )
    previous = latest.model_copy(update={"id": 1, "as_of": date(2023, 12, 1), **before})
    return TroopSummary(latest=latest, previous=previous)


def test_troop_report_states_a_change_between_exact_figures_of_one_kind() -> None:
    summary = _figures({"count": Count(value=900)}, {})
    text = parse_html(troop_report([summary])).text
    assert "United States in Syria: 2,000 troops (reported)" in text
    assert "as of 19 Dec 2024 · Pentagon" in text
    assert "up 1,100 from 900 as of 1 Dec 2023" in text


def test_troop_report_shows_both_figures_when_the_change_is_not_known() -> None:
    kinds = _figures(
        {"count": Count(value=900, qualifier=Qualifier.ABOUT), "kind": TroopKind.ESTIMATE},
        {"count": {"value": 2000, "qualifier": "about"}, "kind": "disclosure"},
    )
    text = parse_html(troop_report([kinds])).text
    assert "about 900 (estimate, Dec 2023) → about 2,000 (disclosure, Dec 2024)" in text
    assert "up " not in text
    at_least = _figures({"count": Count(value=900, qualifier=Qualifier.AT_LEAST)}, {})
    text = parse_html(troop_report([at_least])).text
    assert "at least 900 (reported, Dec 2023) → 2,000 (reported, Dec 2024)" in text


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        ({"killed": None, "injured": None}, "Casualties: casualties not reported"),
        ({"killed": {"value": 0}, "injured": {"value": 0}}, "Casualties: no casualties"),
        ({"killed": {"value": 0}, "injured": None}, "Casualties: no one killed; injured not"),
        ({"killed": {"value": 2}, "injured": {"value": 40, "qualifier": "more than"}},
         "Casualties: 2 killed, more than 40 injured"),
        ({"claimed_by": None, "no_claim": True}, "Claimed by: no group has claimed"),
        ({"perpetrator": "", "no_perpetrator": True}, "Attributed to: none, as reported"),
        ({"verification": "confirmed", "confirmed_by": "CENTCOM"}, "Status: confirmed by CENTCOM"),
        ({"verification": "disputed"}, "Status: disputed: sources contradict each other"),
    ],
)  # fmt: skip
def test_the_card_says_only_what_is_known(overrides: dict[str, object], said: str) -> None:
    assert said in parse_html(incident_card(stored(**overrides), UTC)).text


def test_a_card_with_empty_casualty_fields_never_says_no_casualties() -> None:
    card = parse_html(incident_card(stored(killed=None, injured=None), UTC)).text
    assert "no casualties" not in card and "casualties not reported" in card
    assert "no one has claimed" not in card


def test_search_heading_puts_the_words_in_its_own_quotes_only() -> None:
    found = SearchResults(incidents=[], total=0, exact=True)
    assert search_results('"Tower 22"', found, UTC).startswith("<b>Incidents matching “Tower 22”")
