from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import bot.newsroom.transfer
from bot.clock import ManualClock
from bot.models import Count, Incident, Qualifier, Source, Status
from bot.newsroom.transfer import (
    ImportReport,
    RowProblem,
    TransferError,
    acled_date,
    acled_severity,
    export_incidents,
    format_sources,
    format_tags,
    import_file,
    parse_sources,
    parse_tags,
)
from storage.db import Database
from storage.incidents import get_incident, insert_incident
from storage.transfer import iter_incidents, set_status
from storage.troops import latest_troop_summaries
from tests.factories import incident_content

FIXTURES = Path(__file__).parent / "fixtures"
ONE_BAD_JSONL = FIXTURES / "incidents_one_bad.jsonl"
MULTILINE_CSV = FIXTURES / "incidents_multiline.csv"
ACLED_CSV = FIXTURES / "acled_sample.csv"
# The fields an export promises to carry over; the rest are the database's own.
STORAGE_ONLY = {"id", "created_at", "updated_at"}


async def all_incidents(db: Database) -> list[Incident]:
    return [incident async for incident in iter_incidents(db.reader)]


async def by_external_id(db: Database) -> dict[str, Incident]:
    return {incident.external_id or "": incident for incident in await all_incidents(db)}


async def import_(
    db: Database, path: Path, clock: ManualClock, *, skip_invalid: bool = False
) -> ImportReport:
    return await import_file(db, path, skip_invalid=skip_invalid, clock=clock, progress=False)


# --- all or nothing ------------------------------------------------------------------


async def test_one_bad_row_means_nothing_is_imported_and_the_row_is_named(
    db: Database, clock: ManualClock
) -> None:
    report = await import_(db, ONE_BAD_JSONL, clock)

    assert not report.committed
    assert report.problems == [
        RowProblem(4, "severity: must be 5 or less"),
    ]
    assert str(report.problems[0]) == "line 4: severity: must be 5 or less"
    assert (report.rows, report.valid, report.imported) == (4, 3, 0)
    assert await all_incidents(db) == []


async def test_csv_rows_are_named_by_their_first_line_with_every_problem(
    db: Database, clock: ManualClock
) -> None:
    # Line 2's quoted summary runs onto line 3, so the bad row is line 4, not row 3.
    report = await import_(db, MULTILINE_CSV, clock)

    assert [str(problem) for problem in report.problems] == [
        "line 4: killed_qualifier: must be 'exact', 'at least', 'more than', 'about', 'nearly' "
        "or 'up to'; severity: must be a whole number"
    ]
    assert await all_incidents(db) == []


async def test_skip_invalid_imports_the_good_rows_as_the_schema_says(
    db: Database, clock: ManualClock
) -> None:
    report = await import_(db, ONE_BAD_JSONL, clock, skip_invalid=True)

    assert report.committed
    assert (report.imported, report.already_present, report.invalid) == (3, 0, 1)
    stored = await by_external_id(db)
    assert "fixture-bad-severity" not in stored

    rockets = stored["fixture-rockets-ain-al-asad"]
    assert rockets.injured == Count(value=5, qualifier=Qualifier.AT_LEAST)
    assert rockets.killed is None
    assert rockets.sources == [
        Source.model_validate({"name": "Example News", "url": "https://news.example.org/a"}),
        Source(name="Wire service"),
    ]
    assert rockets.tags == ["rocket", "us-forces"]

    # No external_id: one is derived, and a date alone is midnight UTC.
    [retracted] = [i for key, i in stored.items() if key.startswith("import:")]
    assert retracted.occurred_at == datetime(2024, 8, 9, tzinfo=UTC)
    assert retracted.status is Status.RETRACTED
    assert retracted.retraction_reason == "Duplicate of an earlier report."
    assert retracted.claimed_by is None

    naive = stored["fixture-naive-time"]
    assert naive.occurred_at == datetime(2024, 8, 11, 6, 15, tzinfo=UTC)
    assert naive.killed == Count(value=0)


async def test_csv_cells_follow_the_documented_schema(db: Database, clock: ManualClock) -> None:
    report = await import_(db, MULTILINE_CSV, clock, skip_invalid=True)

    assert (report.imported, report.invalid) == (2, 1)
    stored = await by_external_id(db)
    tower = stored["fixture-csv-1"]
    assert tower.summary == "Test fixture row whose summary\r\nruns over two lines."
    assert tower.killed == Count(value=3)
    assert tower.sources == [
        Source.model_validate({"name": "Example News", "url": "https://news.example.org/t22"}),
        Source(name="Wire ; service"),
    ]
    qaim = stored["fixture-csv-3"]
    assert qaim.occurred_at == datetime(2024, 2, 2, 21, 0, tzinfo=UTC)
    assert qaim.killed == Count(value=16, qualifier=Qualifier.AT_LEAST)
    assert (qaim.latitude, qaim.longitude) == (None, None)
    assert qaim.tags == ["air-strike", "us-forces"]


async def test_a_source_with_a_link_of_another_scheme_is_refused_on_import(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "schemes.csv"
    path.write_text(
        "occurred_at,title,event_type,country,location,severity,sources\n"
        "2024-08-05T18:30:00Z,Rockets,Battles,Iraq,Erbil,2,javascript:alert(1)\n",
        encoding="utf-8",
    )
    report = await import_(db, path, clock)
    assert not report.committed
    assert [str(problem) for problem in report.problems] == [
        "line 2: sources.0.name: “javascript:alert(1)” is not a web link: give a source as a "
        "name, optionally with its http(s) link, e.g. “Reuters https://www.reuters.com/…”"
    ]


async def test_importing_again_adds_nothing(db: Database, clock: ManualClock) -> None:
    first = await import_(db, ONE_BAD_JSONL, clock, skip_invalid=True)
    before = await all_incidents(db)
    again = await import_(db, ONE_BAD_JSONL, clock, skip_invalid=True)

    assert (first.imported, again.imported, again.already_present) == (3, 0, 3)
    assert await all_incidents(db) == before


async def test_a_row_without_external_id_is_recognised_however_its_time_is_written(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    row = {
        "title": "Drone attack on Rumalyn base",
        "event_type": "Explosions/Remote violence",
        "country": "Syria",
        "location": "Rumalyn",
        "severity": 2,
        "sources": [{"name": "Example Wire"}],
    }
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(json.dumps({**row, "occurred_at": "2024-08-09"}) + "\n")
    second.write_text(
        json.dumps(
            {
                **row,
                "occurred_at": "2024-08-09T00:00:00+00:00",
                "title": " drone ATTACK on rumalyn base",
            }
        )
        + "\n"
    )

    assert (await import_(db, first, clock)).imported == 1
    assert (await import_(db, second, clock)).already_present == 1
    assert len(await all_incidents(db)) == 1


async def test_a_crash_part_way_leaves_nothing_imported(
    db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0

    async def insert_then_crash(*args: Any, **kwargs: Any) -> int | None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("disk on fire")
        return await insert_incident(*args, **kwargs)

    monkeypatch.setattr(bot.newsroom.transfer, "insert_incident", insert_then_crash)
    with pytest.raises(RuntimeError, match="disk on fire"):
        await import_(db, ACLED_CSV, clock)
    assert await all_incidents(db) == []


# --- ACLED ---------------------------------------------------------------------------


async def test_acled_rows_are_mapped_onto_incidents(db: Database, clock: ManualClock) -> None:
    report = await import_(db, ACLED_CSV, clock)
    assert (report.imported, report.problems) == (3, [])

    stored = await by_external_id(db)
    assert set(stored) == {"acled:IRQ90001", "acled:JOR90002", "acled:SYR90003"}

    asad = stored["acled:IRQ90001"]
    assert asad.occurred_at == datetime(2024, 8, 5, tzinfo=UTC)
    assert asad.title == "Shelling/artillery/missile attack in Ain al-Asad"
    assert (asad.event_type, asad.sub_event_type) == (
        "Explosions/Remote violence",
        "Shelling/artillery/missile attack",
    )
    # ACLED's spellings land on the gazetteer's names, as a /post would write them.
    assert (asad.country, asad.admin1, asad.location) == ("Iraq", "Anbar", "Ain al-Asad Air Base")
    assert (asad.latitude, asad.longitude) == (33.7856, 42.4412)
    assert asad.perpetrator == "Unidentified Armed Group (Iraq)"
    assert asad.target == "Military Forces of the United States (2021-)"
    assert asad.claimed_by is None
    assert asad.killed == Count(value=0)
    assert asad.injured is None
    assert asad.severity == 2
    assert asad.summary.startswith("Test fixture row: on 5 August 2024")
    assert asad.sources == [Source(name="Reuters"), Source(name="Shafaq News")]
    assert asad.tags == ["acled"]

    tower = stored["acled:JOR90002"]
    assert tower.occurred_at == datetime(2024, 1, 28, tzinfo=UTC)
    assert (tower.killed, tower.severity) == (Count(value=3), 4)
    assert tower.sources == [Source(name="Associated Press"), Source(name="Reuters")]

    # No sub-event type: the title falls back on the event type.
    mayadin = stored["acled:SYR90003"]
    assert mayadin.occurred_at == datetime(2024, 2, 2, tzinfo=UTC)
    assert mayadin.title == "Explosions/Remote violence in Al Mayadin"
    assert (mayadin.killed, mayadin.severity) == (Count(value=18), 5)

    again = await import_(db, ACLED_CSV, clock)
    assert (again.imported, again.already_present) == (0, 3)


async def test_acled_problems_are_named_by_acled_column_and_long_notes_are_cut(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    with ACLED_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["notes"] = "word " * 1000
    rows[1]["fatalities"] = "several"
    rows[2]["event_date"] = "the second of February"
    rows.append({**rows[0], "event_id_cnty": "IRQ99", "fatalities": ""})
    path = tmp_path / "acled.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    report = await import_(db, path, clock, skip_invalid=True)

    assert [str(problem) for problem in report.problems] == [
        "line 3: fatalities: not a whole number: 'several'",
        "line 4: event_date: not a date: 'the second of February' "
        "(expected 2024-08-05 or 05 August 2024)",
        "line 5: fatalities: missing: an ACLED export gives the number of deaths here, 0 for none",
    ]
    [asad] = await all_incidents(db)
    assert len(asad.summary) == 3000 and asad.summary.endswith("…")


@pytest.mark.parametrize(
    ("fatalities", "severity"), [(0, 2), (1, 3), (2, 3), (3, 4), (9, 4), (10, 5), (250, 5)]
)
def test_acled_severity_follows_fatalities(fatalities: int, severity: int) -> None:
    assert acled_severity(fatalities) == severity


@pytest.mark.parametrize(
    "text", ["2024-08-05", "05 August 2024", "5 August 2024", "2024-08-05T13:45:00", "05-Aug-2024"]
)
def test_acled_dates_are_midnight_utc_of_the_day(text: str) -> None:
    assert acled_date(text) == datetime(2024, 8, 5, tzinfo=UTC)


# --- the CSV cells -------------------------------------------------------------------


def test_sources_cells_read_names_links_and_escapes() -> None:
    assert parse_sources("Example News <https://news.example.org/a;b>; Wire \\; service;") == [
        {"name": "Example News", "url": "https://news.example.org/a;b"},
        {"name": "Wire ; service", "url": None},
    ]
    for broken, reason in [
        ("Example <https://x.example", "'<' without a closing '>'"),
        ("Example <https://x.example> trailing", "text after the link"),
    ]:
        with pytest.raises(ValueError, match=reason):
            parse_sources(broken)


def test_sources_and_tags_cells_survive_a_round_trip() -> None:
    sources: list[dict[str, str | None]] = [
        {"name": "Odd; <name> \\ here", "url": "https://example.org/x;y"},
        {"name": "Plain", "url": None},
    ]
    assert parse_sources(format_sources(sources)) == sources
    tags = ["a,b", "back\\slash", "plain"]
    assert parse_tags(format_tags(tags)) == tags


# --- file-level mistakes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("incidents.txt", b"anything", "unknown file type ('.txt'); use one of .csv, .jsonl"),
        ("incidents", b"anything", "unknown file type (no extension)"),
        ("empty.jsonl", b"", "no incidents in the file (it is empty)"),
        ("blank.ndjson", b"\n  \n", "no incidents in the file (it is empty)"),
        ("empty.csv", b"", "the file is empty"),
        (
            "header_only.csv",
            b"occurred_at,title,event_type,country,location,severity,sources\n",
            "no incidents in the file",
        ),
        (
            "typo.csv",
            b"occurred_at,title,event_type,country,location,severty,sources\nx\n",
            "line 1: unreadable CSV header: unknown column(s) 'severty'",
        ),
        (
            "short.csv",
            b"occurred_at,title\n2024-01-01,x\n",
            "missing required column(s) 'event_type', 'country', 'location', 'severity', 'sources'",
        ),
        (
            "acled.csv",
            b"event_id_cnty,event_date,country\nX1,2024-01-01,Iraq\n",
            "an ACLED export needs the column(s) 'event_type', 'location', 'fatalities', 'source'",
        ),
        ("twice.csv", b"title,title\n", "column 'title' appears more than once"),
        (
            "broken.jsonl",
            b'{"title": "ok"}\n{"title": \n',
            "line 2: not valid JSON (Expecting value, column 11)",
        ),
        (
            "latin1.csv",
            "occurred_at,title\n2024-01-01,Caf\xe9\n".encode("latin-1"),
            "not UTF-8 text",
        ),
    ],
)
async def test_file_level_mistakes_are_one_clear_error(
    db: Database, clock: ManualClock, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TransferError) as caught:
        await import_(db, path, clock)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)
    assert await all_incidents(db) == []


async def test_a_missing_file_is_named(db: Database, clock: ManualClock, tmp_path: Path) -> None:
    with pytest.raises(TransferError, match=r"absent\.csv: no such file$"):
        await import_(db, tmp_path / "absent.csv", clock)


async def test_a_json_line_that_is_not_an_object_is_a_bad_row(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "list.jsonl"
    path.write_text('[1, 2]\n{"sevrity": 3}\n')
    report = await import_(db, path, clock)
    assert str(report.problems[0]) == "line 1: not a JSON object but an array"
    assert "sevrity: unknown field" in str(report.problems[1])


# --- export --------------------------------------------------------------------------


async def _enrich(db: Database, clock: ManualClock) -> None:
    """Add what the sample lacks: a retraction, awkward text, counts of every kind."""
    async with db.transaction() as conn:
        incident_id = await insert_incident(
            conn,
            incident_content(
                external_id="awkward-1",
                reported_at=datetime(2024, 8, 6, 7, 0, tzinfo=UTC),
                title=FORMULA_TITLE,
                summary='Two lines,\nwith "quotes", commas; and العربية.',
                claimed_by="Islamic Resistance in Iraq",
                perpetrator="'Militia'; unidentified",
                target="@SUM(1+1)",
                killed={"value": 0},
                injured={"value": 900, "qualifier": "about"},
                sources=[
                    {"name": "Odd; <name> \\ here", "url": "https://example.org/x;y?q=1"},
                    {"name": "Outlet without a link"},
                ],
                tags=["a,b", "rocket"],
            ),
            clock.now(),
        )
        assert incident_id is not None
        await set_status(conn, incident_id, Status.RETRACTED, "Misattributed.", clock.now())
        await set_status(conn, 1, Status.RETRACTED, None, clock.now())


FORMULA_TITLE = '=HYPERLINK("http://evil.example/x","Click")'


async def test_csv_cells_a_spreadsheet_would_run_as_formulas_start_with_an_apostrophe(
    sample_db: Database, clock: ManualClock
) -> None:
    await _enrich(sample_db, clock)
    out = io.StringIO()
    await export_incidents(sample_db, out, "csv")
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    awkward = next(row for row in rows if row["external_id"] == "awkward-1")
    assert awkward["title"] == "'" + FORMULA_TITLE
    assert (awkward["target"], awkward["perpetrator"]) == ("'@SUM(1+1)", "''Militia'; unidentified")
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())
    # JSON Lines is data, not a spreadsheet: the text as it is.
    jsonl = io.StringIO()
    await export_incidents(sample_db, jsonl, "jsonl")
    titles = [json.loads(line).get("title") for line in jsonl.getvalue().splitlines()]
    assert FORMULA_TITLE in titles


def _comparable(incidents: list[Incident]) -> list[dict[str, Any]]:
    return sorted(
        (incident.model_dump(exclude=STORAGE_ONLY) for incident in incidents),
        key=lambda dump: str(dump["external_id"]),
    )


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
async def test_export_then_import_into_an_empty_database_reproduces_it(
    sample_db: Database, clock: ManualClock, tmp_path: Path, fmt: bot.newsroom.transfer.Format
) -> None:
    await _enrich(sample_db, clock)
    original = await all_incidents(sample_db)
    assert any(incident.is_retracted for incident in original)

    path = tmp_path / f"export.{fmt}"
    with path.open("w", encoding="utf-8", newline="") as out:
        written = await export_incidents(sample_db, out, fmt)
    assert written.incidents == len(original) == 19
    assert written.figures_left_out == (fmt == "csv")

    async with Database(tmp_path / "copy.sqlite3") as copy:
        report = await import_(copy, path, clock)
        assert (report.imported, report.problems) == (19, [])
        assert _comparable(await all_incidents(copy)) == _comparable(original)
        again = io.StringIO()
        await export_incidents(copy, again, fmt)
    assert again.getvalue().encode("utf-8") == path.read_bytes()


async def test_jsonl_export_is_one_object_per_line_in_the_documented_shape(
    sample_db: Database, clock: ManualClock
) -> None:
    await _enrich(sample_db, clock)
    out = io.StringIO()
    await export_incidents(sample_db, out, "jsonl")
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    awkward = next(r for r in records if r["external_id"] == "awkward-1")
    assert list(awkward) == list(bot.newsroom.transfer.COLUMNS)
    assert awkward["occurred_at"] == "2024-08-05T18:30:00Z"
    assert (awkward["injured"], awkward["injured_qualifier"]) == (900, "about")
    assert (awkward["status"], awkward["retraction_reason"]) == ("retracted", "Misattributed.")
    assert awkward["sources"][1] == {"name": "Outlet without a link", "url": None}


async def test_since_keeps_incidents_that_occurred_on_or_after_it(sample_db: Database) -> None:
    since = datetime(2024, 2, 2, tzinfo=UTC)
    everything = await all_incidents(sample_db)
    expected = {i.external_id for i in everything if i.occurred_at >= since}
    assert 0 < len(expected) < len(everything)

    out = io.StringIO()
    written = await export_incidents(sample_db, out, "jsonl", since=since)
    exported = {json.loads(line)["external_id"] for line in out.getvalue().splitlines()}
    assert exported == expected and written.incidents == len(expected)
    # Troop figures have no occurrence date to cut at: left out, and the report says so.
    assert (written.troop_figures, written.figures_left_out) == (0, True)


async def test_export_reads_in_batches_in_id_order(sample_db: Database) -> None:
    batched = [i async for i in iter_incidents(sample_db.reader, batch_size=4)]
    assert [i.id for i in batched] == sorted(i.id for i in await all_incidents(sample_db))
    assert len(batched) == 18
    first = await get_incident(sample_db.reader, batched[0].id)
    assert batched[0] == first


# --- the command line ----------------------------------------------------------------


def run_cli(*args: str, cwd: Path, **popen: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--log-level", "WARNING", *args],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "INCIDENT_BOT_STORAGE__PATH": str(cwd / "bot.sqlite3")},
        capture_output="stderr" not in popen,
        text=True,
        timeout=60,
        **popen,
    )


def test_cli_import_is_all_or_nothing_and_reports_each_bad_line(tmp_path: Path) -> None:
    refused = run_cli("import", str(ONE_BAD_JSONL), cwd=tmp_path)
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    assert refused.stderr.splitlines() == [
        "line 4: severity: must be 5 or less",
        "nothing imported: 1 of 4 rows are invalid; fix them, "
        "or use --skip-invalid to import the 3 valid ones",
    ]

    skipped = run_cli("import", "--skip-invalid", str(ONE_BAD_JSONL), cwd=tmp_path)
    assert skipped.returncode == 0, skipped.stderr
    assert skipped.stdout == "imported 3 incidents (0 already present, 1 invalid rows skipped)\n"
    assert "line 4: severity" in skipped.stderr

    again = run_cli("import", "--skip-invalid", str(ONE_BAD_JSONL), cwd=tmp_path)
    assert again.stdout == "imported 0 incidents (3 already present, 1 invalid rows skipped)\n"

    acled = run_cli("import", str(ACLED_CSV), cwd=tmp_path)
    assert acled.returncode == 0, acled.stderr
    assert acled.stdout == "imported 3 incidents (0 already present, 0 invalid rows skipped)\n"


def test_cli_import_with_every_row_bad_fails_even_when_skipping(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"title": "only a title"}\n')
    result = run_cli("import", "--skip-invalid", str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == "imported 0 incidents (0 already present, 1 invalid rows skipped)\n"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("absent.csv", None, "absent.csv: no such file"),
        (
            "notes.txt",
            "x",
            "notes.txt: unknown file type ('.txt'); use one of .csv, .jsonl, .ndjson",
        ),
        ("empty.jsonl", "", "empty.jsonl: no incidents in the file (it is empty)"),
        ("broken.jsonl", "{oops\n", "broken.jsonl: line 1: not valid JSON"),
        ("header.csv", "what,is,this\n1,2,3\n", "header.csv: line 1: unreadable CSV header"),
    ],
)
def test_cli_file_mistakes_are_one_line_and_exit_status_2(
    tmp_path: Path, name: str, content: str | None, expected: str
) -> None:
    if content is not None:
        (tmp_path / name).write_text(content)
    result = run_cli("import", name, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"incident-bot: {expected}")


def test_cli_export_to_stdout_or_a_file_reads_back(tmp_path: Path) -> None:
    assert run_cli("load-sample", cwd=tmp_path).returncode == 0

    stdout = run_cli("export", "--format", "csv", "--since", "2024-08-01", cwd=tmp_path)
    assert stdout.returncode == 0, stdout.stderr
    rows = list(csv.DictReader(io.StringIO(stdout.stdout)))
    assert {row["external_id"] for row in rows} == {
        "sample-2024-08-05-ain-al-asad",
        "sample-2024-08-09-rumalyn",
    }
    assert stdout.stderr == (
        "exported 2 incidents\n"
        "troop figures are not included: only a JSON Lines export of everything "
        "(--format jsonl without --since) carries them\n"
    )

    written = run_cli("export", "--format", "jsonl", "--output", "all.jsonl", cwd=tmp_path)
    assert written.stdout == "exported 18 incidents and 6 troop figures to all.jsonl\n"
    assert written.stderr == ""
    lines = (tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()
    assert len([line for line in lines if '"troop_figure"' not in line]) == 18
    assert not (tmp_path / "all.jsonl.partial").exists()

    other = tmp_path / "other"
    other.mkdir()
    result = run_cli("import", str(tmp_path / "all.jsonl"), cwd=other)
    assert result.stdout == (
        "imported 18 incidents and 6 troop figures (0 already present, 0 invalid rows skipped)\n"
    )

    bad_date = run_cli("export", "--format", "csv", "--since", "last week", cwd=tmp_path)
    assert bad_date.returncode == 2
    assert "--since: not an ISO 8601 date or date-time: 'last week'" in bad_date.stderr

    nowhere = run_cli("export", "--format", "csv", "--output", "no/such/dir.csv", cwd=tmp_path)
    assert nowhere.returncode == 2
    assert (
        nowhere.stderr == "incident-bot: no/such/dir.csv: cannot be written: "
        "No such file or directory\n"
    )


def test_cli_import_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    primary, secondary = pty.openpty()
    # A fresh pseudo-terminal is 0 columns wide, too narrow for any bar.
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        result = run_cli(
            "import", str(ACLED_CSV), cwd=tmp_path, stderr=secondary, stdout=subprocess.PIPE
        )
    finally:
        os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal's other end has closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(primary)
    assert result.returncode == 0
    assert b"importing acled_sample.csv" in shown
    assert b"100%" in shown and b"4/4" in shown


# --- saying only what is known -------------------------------------------------------


def _jsonl(tmp_path: Path, *rows: dict[str, Any]) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _row(**overrides: Any) -> dict[str, Any]:
    return {
        "occurred_at": "2024-08-05T18:30:00Z",
        "title": "Rockets strike Ain al-Asad Air Base",
        "event_type": "Explosions/Remote violence",
        "country": "Iraq",
        "location": "Ain al-Asad Air Base",
        "severity": 3,
        "sources": [{"name": "Example News"}],
    } | overrides


async def test_an_import_keeps_claims_made_reported_as_none_and_not_recorded(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    rows = [
        _row(external_id="claimed", claimed_by="Islamic Resistance in Iraq"),
        _row(external_id="none", claimed_by="none", perpetrator="none"),
        _row(external_id="silent"),
    ]
    report = await import_(db, _jsonl(tmp_path, *rows), clock)
    assert (report.imported, report.problems) == (3, [])
    stored = await by_external_id(db)
    assert stored["claimed"].claimed_by == "Islamic Resistance in Iraq"
    assert (stored["none"].no_claim, stored["none"].no_perpetrator) == (True, True)
    assert (stored["silent"].claimed_by, stored["silent"].no_claim) == (None, False)
    assert stored["silent"].verification.value == "reported"


async def test_acled_imports_record_no_claim_rather_than_none(
    db: Database, clock: ManualClock
) -> None:
    await import_(db, ACLED_CSV, clock)
    for incident in await all_incidents(db):
        assert incident.claimed_by is None and not incident.no_claim


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"country": "Irak"}, "country: unknown country “Irak” — did you mean Iraq?"),
        ({"latitude": 95, "longitude": 200}, "latitude: must be 90 or less"),
        ({"latitude": 33.5, "longitude": 36.3}, "latitude: 33.5, 36.3 is not in Iraq"),
        ({"occurred_at": "1899-12-31"}, "occurred_at: must lie between 1900-01-01 and"),
        ({"occurred_at": "2025-02-01"}, "occurred_at: must lie between 1900-01-01 and"),
        ({"injured": 100001}, "injured: must be from 0 to 100,000"),
        ({"location": "Somewhere New"}, "location: I don't know “Somewhere New” in Iraq"),
    ],
)
async def test_an_import_refuses_unknown_places_and_values_out_of_range(
    db: Database, clock: ManualClock, tmp_path: Path, overrides: dict[str, Any], problem: str
) -> None:
    report = await import_(db, _jsonl(tmp_path, _row(**overrides)), clock)
    assert report.imported == 0 and len(report.problems) == 1
    assert str(report.problems[0]).startswith(f"line 1: {problem}")
    assert await all_incidents(db) == []


async def test_export_then_import_into_an_empty_database_reproduces_the_troop_figures(
    sample_db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "export.jsonl"
    with path.open("w", encoding="utf-8") as out:
        await export_incidents(sample_db, out, "jsonl")
    async with Database(tmp_path / "copy.sqlite3") as copy:
        report = await import_(copy, path, clock)
        assert (report.figures_imported, report.problems) == (6, [])
        assert await latest_troop_summaries(copy.reader) == await latest_troop_summaries(
            sample_db.reader
        )
        again = await import_(copy, path, clock)
        assert (again.figures_imported, again.already_present) == (0, 24)


async def test_a_troop_figure_for_a_host_the_gazetteer_lacks_is_refused(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    path = tmp_path / "figures.jsonl"
    figure = {
        "force": "United States",
        "host_country": "Narnia",
        "count": {"value": 900, "qualifier": "about"},
        "kind": "estimate",
        "as_of": "2023-12-01",
        "source": {"name": "Example Wire", "url": None},
    }
    lines = [{"troop_figure": figure}, {"troop_figure": {**figure, "host_country": "syria"}}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    report = await import_(db, path, clock, skip_invalid=True)
    [problem] = [str(problem) for problem in report.problems]
    assert problem.startswith("line 1: troop_figure.host_country: unknown country “Narnia”")
    assert report.figures_imported == 1
    [stored] = await latest_troop_summaries(db.reader)
    assert stored.latest.host_country == "Syria"  # in the gazetteer's spelling
