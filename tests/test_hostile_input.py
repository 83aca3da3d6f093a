"""Hostile and careless input: one bad value must never poison the record or crash a reply."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.context import IncidentBotApp, services_of
from bot.newsroom.transfer import import_file
from bot.numbers import SQLITE_MAX_INTEGER, bounded_int
from storage.codec import (
    UnstorableTime,
    from_db_date,
    from_db_time,
    to_db_date,
    to_db_time,
)
from storage.db import Database
from storage.incidents import PlaceFilter, latest_published
from tests.people import Person
from tests.test_e2e_admin import TOWER_FORM


def test_stored_times_are_zero_padded_and_read_back() -> None:
    moment = datetime(1000, 6, 1, 3, 4, 5, tzinfo=UTC)
    assert to_db_time(moment) == "1000-06-01T03:04:05Z"
    assert from_db_time(to_db_time(moment)) == moment
    assert to_db_date(date(1000, 1, 2)) == "1000-01-02"
    assert from_db_date("1000-01-02") == date(1000, 1, 2)


@pytest.mark.parametrize(
    "moment",
    [datetime(999, 6, 1, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31)],
)
def test_moments_outside_the_storable_range_are_refused_by_the_writer(moment: datetime) -> None:
    with pytest.raises(UnstorableTime, match="between 1000 and 8999"):
        to_db_time(moment)


def test_a_year_written_unpadded_by_an_older_version_stays_readable() -> None:
    assert from_db_time("999-06-01T00:00:00Z") == datetime(999, 6, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a stored time"):
        from_db_time("2024-6-1T00:00:00Z")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        (" 7 ", 7),
        ("²", None),
        ("٣", None),
        ("0", None),
        ("-1", None),
        ("99999999999999999999999", None),
        (str(SQLITE_MAX_INTEGER), SQLITE_MAX_INTEGER),
        (str(SQLITE_MAX_INTEGER + 1), None),
        ("1" * 5000, None),
        ("", None),
        ("1e3", None),
    ],
)
def test_numbers_are_ascii_digits_within_bounds(text: str, expected: int | None) -> None:
    assert bounded_int(text) == expected


@pytest.mark.usefixtures("running_bot")
async def test_a_post_dated_in_year_999_is_refused_and_the_record_stays_readable(
    owner: Person, alice: Person
) -> None:
    form = TOWER_FORM.replace("occurred: 2024-02-10 03:15", "occurred: 0999-06-01")
    reply = await owner.says(form)
    assert "occurred: the year must be between 1000 and 8999" in reply.text
    assert reply.reply_markup is None
    listing = await alice.says("/latest 3")
    assert listing.text.startswith("Latest incidents")


@pytest.mark.usefixtures("running_bot")
async def test_an_incident_stored_with_an_unpadded_year_can_be_read_and_retracted(
    owner: Person, alice: Person, running_bot: IncidentBotApp
) -> None:
    db = services_of(running_bot).db
    async with db.transaction() as conn:
        async with conn.execute("SELECT max(id) FROM incidents") as cursor:
            row = await cursor.fetchone()
        assert row is not None
        newest = row[0]
        await conn.execute(
            "UPDATE incidents SET occurred_at = '999-06-01T00:00:00Z' WHERE id = ?", (newest,)
        )
    assert (await alice.says("/latest 3")).text.startswith("Latest incidents")
    assert "999" in (await alice.says(f"/incident {newest}")).text
    retracted = await owner.says(f"/retract {newest} Wrong date")
    assert "Retracted" in retracted.text or "retracted" in retracted.text


@pytest.mark.usefixtures("running_bot")
@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/incident 99999999999999999999999", "Give the number of one incident"),
        ("/latest ²", "I can show 1 to 20 incidents"),
        ("/latest ٣", "I can show 1 to 20 incidents"),
        ("/audit 99999999999999999999999", "Give how many actions to show"),
        ("/grant 99999999999999999999999", "Give the numeric user id"),
        ("/grant 0", "Give the numeric user id"),
        ("/revoke ²", "Give the numeric user id"),
        ("/retract 99999999999999999999999 typo", "Give the incident's number"),
        ("/edit ٣\ninjured: 2", "Give the incident's number"),
    ],
)
async def test_numbers_out_of_range_get_a_usage_answer(
    owner: Person, command: str, answer: str
) -> None:
    reply = await owner.says(command)
    assert reply.text.startswith(answer), reply.text


@pytest.mark.usefixtures("running_bot")
async def test_an_injured_count_beyond_sqlites_range_is_refused_before_the_preview(
    owner: Person,
) -> None:
    form = TOWER_FORM.replace("injured: about 3", "injured: 99999999999999999999999")
    reply = await owner.says(form)
    assert "injured: that number is too large to be a count" in reply.text
    assert reply.reply_markup is None


@pytest.mark.usefixtures("running_bot")
async def test_a_like_wildcard_as_a_place_lists_nothing(alice: Person) -> None:
    reply = await alice.says("/latest 3 %")
    assert not reply.text.startswith("Latest incidents")


@pytest.mark.parametrize("pattern", ["%", "_", "%Asad%", "\\"])
async def test_like_wildcards_in_a_place_match_only_themselves(
    sample_db: Database, pattern: str
) -> None:
    page = await latest_published(sample_db.reader, limit=20, places=PlaceFilter(text=pattern))
    assert page.incidents == []
    assert (
        await latest_published(sample_db.reader, limit=20, places=PlaceFilter(text="Asad"))
    ).incidents


# --- import -------------------------------------------------------------------------


def _row(**changes: object) -> str:
    row: dict[str, object] = {
        "external_id": "hostile-1",
        "occurred_at": "2024-08-10T10:00:00Z",
        "title": "Rockets at Baghdad airport",
        "event_type": "Battles",
        "country": "Iraq",
        "location": "Baghdad",
        "severity": 3,
        "sources": [{"name": "Example News"}],
    }
    row.update(changes)
    return json.dumps(row)


async def _import_lines(db: Database, clock: ManualClock, tmp_path: Path, *lines: str) -> list[str]:
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = await import_file(db, path, skip_invalid=False, clock=clock, progress=False)
    return [str(problem) for problem in report.problems]


async def test_one_external_id_with_two_contents_in_a_file_is_refused_with_both_lines(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    problems = await _import_lines(
        db, clock, tmp_path, _row(), _row(external_id="other"), _row(title="Something else")
    )
    assert problems == [
        "line 3: external_id 'hostile-1' is also on line 1 with different content; "
        "give each incident its own id"
    ]


async def test_the_same_row_twice_in_a_file_is_stored_once(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    assert await _import_lines(db, clock, tmp_path, _row(), _row()) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"severity": True}, "severity: expected a whole number from 1 to 5"),
        ({"injured": True}, "injured: expected a whole number of people"),
        ({"killed": 2**70}, "killed: expected a whole number of people"),
        (
            {"occurred_at": "0001-01-01T00:00:00+05:00"},
            "occurred_at: the year must be between 1000 and 8999",
        ),
        (
            {"occurred_at": "9999-12-31T23:59:59-05:00"},
            "occurred_at: the year must be between 1000 and 8999",
        ),
        ({"occurred_at": "0999-06-01"}, "occurred_at: the year must be between 1000 and 8999"),
    ],
)
async def test_hostile_values_in_an_import_row_are_a_line_numbered_problem(
    db: Database, clock: ManualClock, tmp_path: Path, changes: dict[str, object], problem: str
) -> None:
    problems = await _import_lines(db, clock, tmp_path, _row(external_id="fine"), _row(**changes))
    assert len(problems) == 1 and problems[0].startswith(f"line 2: {problem}"), problems
