"""The direction of an incident: read from actor names, forms, ACLED rows and old databases."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.models import Direction, direction_from_actors
from bot.newsroom.forms import incident_from_fields, parse_direction, parse_form
from bot.subscriptions.service import SubscriptionError, parse_directions
from tests.factories import incident_content, schema_before

ON, BY, OTHER = Direction.ON_COALITION, Direction.BY_COALITION, Direction.OTHER


@pytest.mark.parametrize(
    ("perpetrator", "target", "direction"),
    [
        ("Iran-backed militia (unidentified)", "US and coalition forces", ON),
        ("Islamic Resistance in Iraq", "SDF and US-led coalition forces", ON),
        ("US forces", "Kataib Hezbollah", BY),
        ("US and UK forces", "Houthi (Ansar Allah) military sites", BY),
        ("Military Forces of the United States (2021-)", "Islamic State (Syria)", BY),
        ("Unidentified Armed Group (Iraq)", "Military Forces of the United States (2021-)", ON),
        ("Houthis (Ansar Allah)", "Commercial shipping", OTHER),
        ("Turkish forces", "PKK", OTHER),
        # "us" in lower case is a word, not the country.
        ("Militants who told us nothing", "a bus depot", OTHER),
        ("", "", OTHER),
    ],
)
def test_direction_is_read_from_who_did_it_to_whom(
    perpetrator: str, target: str, direction: Direction
) -> None:
    assert direction_from_actors(perpetrator, target) is direction


def test_content_without_a_direction_takes_it_from_its_actors_and_a_given_one_wins() -> None:
    assert incident_content(target="US and coalition forces").direction is ON
    assert incident_content(perpetrator="US forces").direction is BY
    assert incident_content(perpetrator="US forces", direction="other").direction is OTHER


@pytest.mark.parametrize(
    ("text", "direction"),
    [
        ("on US/coalition", ON),
        ("By us/Coalition", BY),
        ("strike", BY),
        ("attack", ON),
        ("other", OTHER),
    ],
)
def test_the_form_accepts_the_direction_in_words(text: str, direction: Direction) -> None:
    assert parse_direction(text) is direction


def test_a_form_with_a_bad_direction_names_the_key_and_what_works() -> None:
    parsed = parse_form(
        "title: t\noccurred: 2024-08-05\ncountry: Iraq\nlocation: Erbil\n"
        "type: Battles\nseverity: 2\nsource: https://news.example.org/a\ndirection: sideways"
    )
    with pytest.raises(ValueError, match="direction: use “on US/coalition”"):
        incident_from_fields(parsed.fields, ZoneInfo("UTC"), datetime(2025, 1, 15, tzinfo=UTC))


def test_subscription_directions_are_read_in_any_order_and_all_means_every_one() -> None:
    assert parse_directions("strikes, attacks") == [ON, BY]
    assert parse_directions("all") == [ON, BY, OTHER]
    with pytest.raises(SubscriptionError):
        parse_directions("everything")


def test_the_migration_gives_incidents_already_stored_the_direction_of_their_actors(
    tmp_path: Path,
) -> None:
    sample = json.loads(resources.files("bot.data").joinpath("sample.json").read_text("utf-8"))
    actors = [(i["perpetrator"], i["target"]) for i in sample["incidents"]]
    with closing(sqlite3.connect(tmp_path / "old.sqlite3")) as conn:
        migration = schema_before(conn, "_direction.sql")
        for number, (perpetrator, target) in enumerate(actors):
            conn.execute(
                "INSERT INTO incidents (external_id, occurred_at, title, event_type, country, "
                "location, perpetrator, target, severity, created_at, updated_at) VALUES "
                "(?, '2024-01-01T00:00:00Z', 't', 'Battles', 'Iraq', 'x', ?, ?, 3, '', '')",
                (f"old-{number}", perpetrator, target),
            )
        conn.executescript(migration)
        stored = [row[0] for row in conn.execute("SELECT direction FROM incidents ORDER BY id")]
    assert stored == [direction_from_actors(p, t).value for p, t in actors]
    assert set(stored) == {"on_coalition", "by_coalition", "other"}
