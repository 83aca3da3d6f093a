from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.models import Incident, Status, TroopFigure, TroopSummary
from bot.render.incidents import incident_card, incident_list, troop_report
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
    assert "Casualties: at least 5 injured" in text
    assert "Claimed by: no one has claimed responsibility" in text
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


def test_troop_report_shows_qualifier_date_source_and_change() -> None:
    source = {"name": "Pentagon", "url": "https://defense.example/x"}
    latest = TroopFigure.model_validate(
        {
            "id": 2,
            "force": "United States",
            "host_country": "Syria",
            "count": {"value": 2000, "qualifier": "about"},
            "as_of": date(2024, 12, 19),
            "source": source,
        }
    )
    previous = latest.model_copy(
        update={
            "id": 1,
            "count": latest.count.model_copy(update={"value": 900}),
            "as_of": date(2024, 8, 6),
        }
    )
    text = parse_html(troop_report([TroopSummary(latest=latest, previous=previous)])).text
    assert "United States in Syria: about 2,000 troops" in text
    assert "as of 19 Dec 2024 · Pentagon" in text
    assert "up 1,100 from about 900 as of 6 Aug 2024" in text
