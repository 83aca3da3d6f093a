"""Bulk import and export of incidents as CSV or JSON Lines.

The file format, the ACLED column mapping and the all-or-nothing rule are the
user's contract and are documented once, in the README ("The import and export
format"); keep the two in step.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

import aiosqlite
from pydantic import ConfigDict, ValidationError, field_validator
from pydantic_core import ErrorDetails
from tqdm import tqdm  # type: ignore[import-untyped, unused-ignore]

from bot.clock import Clock
from bot.errors import UserError
from bot.models import (
    NOW,
    Incident,
    IncidentContent,
    Status,
    TroopFigure,
    TroopFigureContent,
    direction_from_actors,
)
from bot.newsroom.forms import NONE_WORDS, NOT_REPORTED_WORDS
from bot.numbers import SQLITE_MAX_INTEGER
from bot.places import PlaceProblems, gazetteer, settle_place
from bot.plain_errors import plain_message
from storage.codec import storable, to_db_time
from storage.db import Database
from storage.incidents import insert_incident
from storage.transfer import iter_incidents, set_status
from storage.troops import all_troop_figures, insert_troop_figure

Format = Literal["jsonl", "csv"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv")
SUFFIXES: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}

COLUMNS = (
    "external_id",
    "occurred_at",
    "reported_at",
    "title",
    "summary",
    "event_type",
    "sub_event_type",
    "country",
    "admin1",
    "location",
    "latitude",
    "longitude",
    "perpetrator",
    "target",
    "claimed_by",
    "direction",
    "killed",
    "killed_qualifier",
    "injured",
    "injured_qualifier",
    "verification",
    "confirmed_by",
    "severity",
    "sources",
    "tags",
    "status",
    "retraction_reason",
)
# A JSON Lines object holding this key is a troop figure rather than an incident.
TROOP_FIGURE = "troop_figure"
REQUIRED_COLUMNS = (
    "occurred_at",
    "title",
    "event_type",
    "country",
    "location",
    "severity",
    "sources",
)

ACLED_ID = "event_id_cnty"
ACLED_REQUIRED_COLUMNS = (
    ACLED_ID,
    "event_date",
    "event_type",
    "country",
    "location",
    "fatalities",
    "source",
)
ACLED_TAG = "acled"
# Where an ACLED row's value ends up, so that a problem is reported under the
# column the user can see in their file.
_ACLED_COLUMN_OF = {
    "external_id": ACLED_ID,
    "occurred_at": "event_date",
    "perpetrator": "actor1",
    "target": "actor2",
    "killed": "fatalities",
    "severity": "fatalities",
    "summary": "notes",
    "sources": "source",
}
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_SPELLED_DATE = re.compile(r"([0-9]{1,2})[ -]([A-Za-z]+)[ -]([0-9]{4})", re.ASCII)
_ESCAPE = "\\"


class TransferError(UserError):
    """A problem with a whole file or command, worded for the person who ran it."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    already_present: int = 0
    figures_imported: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    committed: bool = False

    @property
    def invalid(self) -> int:
        return len(self.problems)

    @property
    def valid(self) -> int:
        return self.rows - self.invalid


class ImportedIncident(IncidentContent):
    """One row of an import file: a draft, and the status it had where it was exported."""

    model_config = ConfigDict(extra="forbid")

    status: Status = Status.PUBLISHED
    retraction_reason: str | None = None

    @field_validator("occurred_at", "reported_at", mode="before")
    @classmethod
    def _naive_means_utc(cls, value: object) -> object:
        return parse_moment(value) if isinstance(value, str) else value

    @field_validator("severity", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        # JSON's true would otherwise be read as severity 1.
        if isinstance(value, bool):
            raise ValueError("expected a whole number from 1 to 5, not true or false")
        return value

    @field_validator("occurred_at", "reported_at")
    @classmethod
    def _storable(cls, value: datetime | None) -> datetime | None:
        return None if value is None else storable(value)


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date or date-time; a date alone is 00:00 UTC, a naive time is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 date or date-time: {text[:40]!r}") from None
    return storable(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def format_moment(moment: datetime) -> str:
    return to_db_time(moment)


# --- import ------------------------------------------------------------------------


class _RowInvalid(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))


class _Rejected(Exception):
    """Raised inside the import transaction to roll back an all-or-nothing import."""


_Kind = Literal["csv", "json", "acled", "troops"]
# A row as read from the file: its first line, how to read it, and its fields, or
# why it could not be read as a row at all.
_RawRow = tuple[int, _Kind, Mapping[str, Any] | str]


async def import_file(
    db: Database,
    path: Path | str,
    *,
    skip_invalid: bool,
    clock: Clock,
    progress: bool = True,
) -> ImportReport:
    """Validate every row of `path` and store the incidents, all in one transaction.

    Without `skip_invalid`, one bad row means nothing is stored; the report lists
    every bad row either way. Problems with the file as a whole (missing, unknown
    type, unreadable header, a line that is not JSON, no rows) raise TransferError.
    """
    path = Path(path)
    fmt = _format_of(path)
    report = ImportReport()
    now = clock.now()
    first_rows: dict[str, tuple[int, ImportedIncident]] = {}
    with _open_for_reading(path, fmt) as handle, _progress_bar(path, enabled=progress) as bar:
        read = _csv_rows if fmt == "csv" else _jsonl_rows
        rows = read(handle, path, bar.update)
        try:
            async with db.transaction() as conn:
                for line, kind, raw in _decoding_errors_named(rows, path):
                    report.rows += 1
                    if kind == "troops":
                        await _import_figure(conn, line, raw, report, skip_invalid, now)
                        continue
                    try:
                        incident = _to_incident(kind, raw, now)
                        _check_same_as_earlier_row(incident, line, first_rows)
                    except _RowInvalid as invalid:
                        report.problems.append(RowProblem(line, str(invalid)))
                        continue
                    if report.problems and not skip_invalid:
                        # The import is lost already; keep going only to report every row.
                        continue
                    incident_id = await insert_incident(conn, incident, now)
                    if incident_id is None:
                        report.already_present += 1
                        continue
                    report.imported += 1
                    if incident.status is not Status.PUBLISHED or incident.retraction_reason:
                        await set_status(
                            conn, incident_id, incident.status, incident.retraction_reason, now
                        )
                if report.rows == 0:
                    raise TransferError(f"{path}: no incidents in the file (it is empty)")
                if report.problems and not skip_invalid:
                    raise _Rejected
        except _Rejected:
            report.imported = report.already_present = 0
        else:
            report.committed = True
    return report


def _check_same_as_earlier_row(
    incident: ImportedIncident, line: int, first_rows: dict[str, tuple[int, ImportedIncident]]
) -> None:
    """Refuse a row whose external id an earlier row of the file gave to other content."""
    assert incident.external_id is not None
    first_line, first = first_rows.setdefault(incident.external_id, (line, incident))
    if first is not incident and first != incident:
        raise _RowInvalid(
            [
                f"external_id {incident.external_id!r} is also on line {first_line} "
                "with different content; give each incident its own id"
            ]
        )


def _format_of(path: Path) -> Format:
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        kinds = ", ".join(SUFFIXES)
        shown = f"'{path.suffix}'" if path.suffix else "no extension"
        raise TransferError(f"{path}: unknown file type ({shown}); use one of {kinds}")
    return fmt


@contextmanager
def _open_for_reading(path: Path, fmt: Format) -> Iterator[TextIO]:
    try:
        # utf-8-sig: spreadsheet programs start a UTF-8 CSV with a byte-order mark.
        # newline="": the csv module needs line endings inside quoted cells intact.
        handle = path.open(encoding="utf-8-sig", newline="" if fmt == "csv" else None)
    except FileNotFoundError:
        raise TransferError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise TransferError(f"{path}: is a directory, not a file") from None
    except OSError as error:
        raise TransferError(f"{path}: cannot be read: {error.strerror}") from None
    with handle:
        yield handle


@contextmanager
def _progress_bar(path: Path, *, enabled: bool) -> Iterator[Any]:
    # disable=None lets tqdm switch itself off when stderr is not a terminal, so
    # logs and pipes get no carriage-return noise.
    with tqdm(
        desc=f"importing {path.name}",
        unit=" lines",
        file=sys.stderr,
        disable=None if enabled else True,
        dynamic_ncols=True,
    ) as bar:
        if not bar.disable:
            bar.total = _count_lines(path)
            bar.refresh()
        yield bar


def _count_lines(path: Path) -> int:
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def _decoding_errors_named(rows: Iterator[_RawRow], path: Path) -> Iterator[_RawRow]:
    try:
        yield from rows
    except UnicodeDecodeError as error:
        raise TransferError(
            f"{path}: not UTF-8 text ({error.reason}); save it as UTF-8 and try again"
        ) from None


def _csv_rows(handle: TextIO, path: Path, advance: Callable[[int], object]) -> Iterator[_RawRow]:
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise TransferError(f"{path}: line 1: unreadable CSV header: {error}") from None
    if header is None:
        raise TransferError(f"{path}: the file is empty")
    names = [name.strip().lower() for name in header]
    kind = _csv_kind(names, path)
    advance(reader.line_num)
    while True:
        # A quoted cell may span lines; a row is named by the line it starts on.
        first_line = reader.line_num + 1
        try:
            cells = next(reader, None)
        except csv.Error as error:
            raise TransferError(f"{path}: line {first_line}: {error}") from None
        advance(reader.line_num - first_line + 1)
        if cells is None:
            return
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(names):
            yield first_line, kind, f"has {len(cells)} cells; the header has {len(names)} columns"
            continue
        if kind == "csv":
            cells = [_formula_restored(cell) for cell in cells]
        yield first_line, kind, dict(zip(names, cells, strict=True))


def _csv_kind(names: list[str], path: Path) -> _Kind:
    problem = f"{path}: line 1: unreadable CSV header"
    for position, name in enumerate(names, start=1):
        if not name:
            raise TransferError(f"{problem}: column {position} has no name")
        if names.count(name) > 1:
            raise TransferError(f"{problem}: column '{name}' appears more than once")
    if ACLED_ID in names:
        missing = [name for name in ACLED_REQUIRED_COLUMNS if name not in names]
        if missing:
            raise TransferError(
                f"{problem}: an ACLED export needs the column(s) {_listing(missing)}"
            )
        return "acled"
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise TransferError(
            f"{problem}: unknown column(s) {_listing(unknown)}; the columns are "
            f"{', '.join(COLUMNS)} (or those of an ACLED export)"
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise TransferError(f"{problem}: missing required column(s) {_listing(missing)}")
    return "csv"


def _listing(names: list[str], most: int = 5) -> str:
    shown = ", ".join(f"'{name[:40]}'" for name in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _jsonl_rows(handle: TextIO, path: Path, advance: Callable[[int], object]) -> Iterator[_RawRow]:
    for line, text in enumerate(handle, start=1):
        advance(1)
        if not text.strip():
            continue
        try:
            # Without its line ending, so the column JSON reports is on this line.
            value = json.loads(text.rstrip("\r\n"))
        except json.JSONDecodeError as error:
            raise TransferError(
                f"{path}: line {line}: not valid JSON ({error.msg}, column {error.colno})"
            ) from None
        if not isinstance(value, dict):
            yield line, "json", f"not a JSON object but {_json_kind(value)}"
        else:
            kind: _Kind = "json"
            if ACLED_ID in value:
                kind = "acled"
            elif TROOP_FIGURE in value:
                kind = "troops"
            yield line, kind, value


async def _import_figure(
    conn: aiosqlite.Connection,
    line: int,
    raw: Mapping[str, Any] | str,
    report: ImportReport,
    skip_invalid: bool,
    now: datetime,
) -> None:
    """A troop figure line: stored unless that force, host and date already have one."""
    try:
        if isinstance(raw, str) or set(raw) != {TROOP_FIGURE}:
            raise ValueError(f"a troop figure line holds only the key {TROOP_FIGURE!r}")
        figure = TroopFigureContent.model_validate(raw[TROOP_FIGURE], context={NOW: now})
    except ValidationError as error:
        problems = [
            f"{TROOP_FIGURE}.{'.'.join(str(p) for p in d['loc'])}: {d['msg']}"
            for d in error.errors(include_url=False, include_input=False)
        ]
        report.problems.append(RowProblem(line, "; ".join(problems)))
        return
    except ValueError as error:
        report.problems.append(RowProblem(line, str(error)))
        return
    try:
        host = gazetteer().country_named_by(figure.host_country).name
    except ValueError as unknown:
        report.problems.append(RowProblem(line, f"{TROOP_FIGURE}.host_country: {unknown}"))
        return
    figure = figure.model_copy(update={"host_country": host})
    if report.problems and not skip_invalid:
        return
    if await insert_troop_figure(conn, figure, now) is None:
        report.already_present += 1
    else:
        report.figures_imported += 1


def _to_incident(kind: _Kind, raw: Mapping[str, Any] | str, now: datetime) -> ImportedIncident:
    if isinstance(raw, str):
        raise _RowInvalid([raw])
    if kind == "acled":
        return _from_acled(raw, now)
    return _from_documented(raw, now, cells=kind == "csv")


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _from_documented(raw: Mapping[str, Any], now: datetime, *, cells: bool) -> ImportedIncident:
    data = {key: value for key, value in raw.items() if _present(value)}
    problems: dict[str, str] = {}
    for name in ("no_claim", "no_perpetrator"):
        if name in data:  # the file says "none" in claimed_by or perpetrator instead
            problems[name] = "unknown field"
    for name, flag in (("claimed_by", "no_claim"), ("perpetrator", "no_perpetrator")):
        said = str(data.get(name, "")).strip().casefold()
        if said in NONE_WORDS:
            del data[name]
            data[flag] = True
        elif said in NOT_REPORTED_WORDS:
            data.pop(name, None)
    for count in ("killed", "injured"):
        qualifier = data.pop(f"{count}_qualifier", None)
        value = data.get(count)
        if isinstance(value, bool) or (isinstance(value, int) and value > SQLITE_MAX_INTEGER):
            problems[count] = "expected a whole number of people"
            del data[count]
        elif count in data:
            data[count] = {"value": value, "qualifier": qualifier or "exact"}
        elif qualifier is not None:
            problems[f"{count}_qualifier"] = f"given without {count}"
    if cells:
        for name, parse in (("sources", parse_sources), ("tags", parse_tags)):
            if name in data:
                try:
                    data[name] = parse(data[name])
                except ValueError as error:
                    problems[name] = str(error)
    incident = _validate(data, problems, now)
    if incident.external_id is None:
        return incident.model_copy(update={"external_id": derived_external_id(incident)})
    return incident


def derived_external_id(incident: IncidentContent) -> str:
    """A stable id for a row that has none, so importing it again adds nothing."""

    def fold(text: str) -> str:
        return " ".join(text.split()).casefold()

    key = "\x1f".join(
        [format_moment(incident.occurred_at), fold(incident.location), fold(incident.title)]
    )
    return f"import:{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}"


def _from_acled(raw: Mapping[str, Any], now: datetime) -> ImportedIncident:
    def cell(name: str) -> str:
        value = raw.get(name)
        return "" if value is None else str(value).strip()

    problems: dict[str, str] = {}
    data: dict[str, Any] = {
        "event_type": cell("event_type"),
        "sub_event_type": cell("sub_event_type"),
        "country": cell("country"),
        "admin1": cell("admin1"),
        "location": cell("location"),
        "latitude": cell("latitude"),
        "longitude": cell("longitude"),
        "perpetrator": cell("actor1"),
        "target": cell("actor2"),
        # US forces are often the associated actor of a side ("Military Forces of Iraq"
        # with "Military Forces of the United States"), so those columns count as well.
        "direction": direction_from_actors(
            f"{cell('actor1')}; {cell('assoc_actor_1')}",
            f"{cell('actor2')}; {cell('assoc_actor_2')}",
        ),
        "summary": _truncate(cell("notes"), _max_length("summary")),
        "sources": [{"name": name.strip()} for name in cell("source").split(";") if name.strip()],
        "tags": [ACLED_TAG],
    }
    if event_id := cell(ACLED_ID):
        data["external_id"] = f"acled:{event_id}"
    else:
        # Without it a second import could not recognise the event and would add it again.
        problems[ACLED_ID] = "missing"
    try:
        data["occurred_at"] = acled_date(cell("event_date"))
    except ValueError as error:
        problems["event_date"] = str(error)
    kind, location = data["sub_event_type"] or data["event_type"], data["location"]
    # When the event type or location is missing that is the problem to report, not
    # the title made from them; the row is refused either way.
    title = f"{kind} in {location}" if kind and location else kind or location or ACLED_TAG
    data["title"] = _truncate(title, _max_length("title"))
    fatalities = cell("fatalities")
    try:
        killed = int(fatalities)
    except ValueError:
        problems["fatalities"] = (
            f"not a whole number: {fatalities[:20]!r}"
            if fatalities
            else "missing: an ACLED export gives the number of deaths here, 0 for none"
        )
    else:
        data["killed"] = {"value": killed}
        data["severity"] = acled_severity(killed)
    data = {key: value for key, value in data.items() if _present(value)}
    return _validate(data, problems, now, column_of=_ACLED_COLUMN_OF)


def acled_date(text: str) -> datetime:
    """ACLED's event_date: `2024-08-05`, `05 August 2024` or `2024-08-05T...`; 00:00 UTC."""
    if not text:
        raise ValueError("missing")
    spelled = _SPELLED_DATE.fullmatch(text)
    if spelled:
        day, month_name, year = spelled.groups()
        month = _MONTHS.get(month_name.lower())
        try:
            if month is None:
                raise ValueError
            spelled_day = datetime(int(year), month, int(day), tzinfo=UTC)
        except ValueError:
            raise ValueError(f"not a date: {text[:40]!r}") from None
        return storable(spelled_day)
    try:
        day_of = datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(
            f"not a date: {text[:40]!r} (expected 2024-08-05 or 05 August 2024)"
        ) from None
    return storable(datetime(day_of.year, day_of.month, day_of.day, tzinfo=UTC))


def acled_severity(fatalities: int) -> int:
    if fatalities <= 0:
        return 2
    if fatalities <= 2:
        return 3
    if fatalities <= 9:
        return 4
    return 5


def _max_length(field_name: str) -> int:
    for constraint in IncidentContent.model_fields[field_name].metadata:
        limit = getattr(constraint, "max_length", None)
        if isinstance(limit, int):
            return limit
    raise LookupError(f"IncidentContent.{field_name} has no maximum length")


def _truncate(text: str, limit: int) -> str:
    # A visible ellipsis, so nobody takes a cut text for the whole of it.
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _validate(
    data: dict[str, Any],
    problems: dict[str, str],
    now: datetime,
    column_of: Mapping[str, str] | None = None,
) -> ImportedIncident:
    """The row as an incident: its values in range, its place settled in the gazetteer."""
    try:
        incident = ImportedIncident.model_validate(data, context={NOW: now})
    except ValidationError as error:
        for detail in error.errors(include_url=False, include_input=False):
            where, message = _describe(detail, column_of or {})
            # The problem already found in a field explains any the model adds to it.
            if where.split(".")[0] not in problems:
                problems.setdefault(where, message)
    else:
        try:
            incident = settle_place(incident)
        except PlaceProblems as wrong:
            for name, message in wrong.problems.items():
                problems.setdefault((column_of or {}).get(name, name), message)
        if not problems:
            return incident
    raise _RowInvalid(
        [f"{where}: {message}" if where else message for where, message in problems.items()]
    )


def _describe(detail: ErrorDetails, column_of: Mapping[str, str]) -> tuple[str, str]:
    loc = [str(part) for part in detail["loc"]]
    # Counts are one field in the model but two columns in the file.
    if loc and loc[0] in ("killed", "injured") and len(loc) > 1:
        loc = [f"{loc[0]}_qualifier" if loc[1] == "qualifier" else loc[0]]
    if loc:
        loc[0] = column_of.get(loc[0], loc[0])
    message = "unknown field" if detail["type"] == "extra_forbidden" else plain_message(detail)
    return ".".join(loc), message


def parse_sources(text: str) -> list[dict[str, str | None]]:
    """`Name <https://url>; Other outlet` as source dicts, for the model to validate.

    One pass rather than a split on ';' first, because a link may itself contain ';'.
    """
    sources: list[dict[str, str | None]] = []
    name: list[str] = []
    link: str | None = None
    position = 0

    def finish() -> None:
        nonlocal name, link
        if "".join(name).strip() or link:
            sources.append({"name": "".join(name).strip(), "url": link or None})
        name, link = [], None

    while position < len(text):
        char = text[position]
        if char == ";":
            finish()
        elif link is not None:
            if not char.isspace():
                raise ValueError(f"text after the link in {text[:60]!r}")
        elif char == _ESCAPE and position + 1 < len(text):
            name.append(text[position + 1])
            position += 1
        elif char == "<":
            end = text.find(">", position)
            if end == -1:
                raise ValueError(f"'<' without a closing '>' in {text[:60]!r}")
            link = text[position + 1 : end].strip()
            position = end
        elif char == ">":
            raise ValueError(f"'>' without an opening '<' in {text[:60]!r}")
        else:
            name.append(char)
        position += 1
    finish()
    return sources


def _split_escaped(text: str, separator: str) -> list[str]:
    """Split on `separator` where it is not escaped; escapes stay for the next parser."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == _ESCAPE:
            current.append(char)
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def parse_tags(text: str) -> list[str]:
    return [_unescape(tag).strip() for tag in _split_escaped(text, ",") if tag.strip()]


def _escape(text: str, specials: str) -> str:
    return "".join(_ESCAPE + char if char in specials or char == _ESCAPE else char for char in text)


def format_sources(sources: list[dict[str, str | None]]) -> str:
    return "; ".join(
        _escape(source["name"] or "", ";<>") + (f" <{source['url']}>" if source["url"] else "")
        for source in sources
    )


def format_tags(tags: list[str]) -> str:
    return ", ".join(_escape(tag, ",") for tag in tags)


# --- export ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportReport:
    incidents: int
    troop_figures: int
    # Whether this kind of export leaves the troop figures out (CSV, or --since).
    figures_left_out: bool


async def export_incidents(
    db: Database, out: TextIO, fmt: Format, since: datetime | None = None
) -> ExportReport:
    """Write every incident (occurred at or after `since`) to `out`, and with a whole
    JSON Lines export every troop figure after them."""
    incidents = iter_incidents(db.reader, since=since)
    if fmt == "csv":
        return ExportReport(await _write_csv(incidents, out), 0, figures_left_out=True)
    written = await _write_jsonl(incidents, out)
    if since is not None:
        # A figure is no incident and has no occurrence date to cut at.
        return ExportReport(written, 0, figures_left_out=True)
    # A whole export carries the troop figures too, in JSON Lines only: a CSV file holds
    # one kind of row.
    figures = await all_troop_figures(db.reader)
    for figure in figures:
        out.write(json.dumps({TROOP_FIGURE: figure_record(figure)}, ensure_ascii=False) + "\n")
    return ExportReport(written, len(figures), figures_left_out=False)


def figure_record(figure: TroopFigure) -> dict[str, Any]:
    """A troop figure as a JSON Lines import reads it."""
    return figure.model_dump(mode="json", exclude={"id"})


def record_of(incident: Incident) -> dict[str, Any]:
    """An incident as the fields of the file format, in column order."""
    return {
        "external_id": incident.external_id,
        "occurred_at": format_moment(incident.occurred_at),
        "reported_at": format_moment(incident.reported_at) if incident.reported_at else None,
        "title": incident.title,
        "summary": incident.summary,
        "event_type": incident.event_type,
        "sub_event_type": incident.sub_event_type,
        "country": incident.country,
        "admin1": incident.admin1,
        "location": incident.location,
        "latitude": incident.latitude,
        "longitude": incident.longitude,
        "perpetrator": incident.perpetrator or ("none" if incident.no_perpetrator else None),
        "target": incident.target,
        "claimed_by": incident.claimed_by or ("none" if incident.no_claim else None),
        "direction": incident.direction.value,
        "killed": incident.killed.value if incident.killed else None,
        "killed_qualifier": incident.killed.qualifier.value if incident.killed else None,
        "injured": incident.injured.value if incident.injured else None,
        "injured_qualifier": incident.injured.qualifier.value if incident.injured else None,
        "verification": incident.verification.value,
        "confirmed_by": incident.confirmed_by or None,
        "severity": incident.severity,
        "sources": [
            {"name": source.name, "url": str(source.url) if source.url else None}
            for source in incident.sources
        ],
        "tags": list(incident.tags),
        "status": incident.status.value,
        "retraction_reason": incident.retraction_reason,
    }


async def _write_jsonl(incidents: AsyncIterator[Incident], out: TextIO) -> int:
    written = 0
    async for incident in incidents:
        # ensure_ascii=False keeps Arabic place and outlet names readable in the file.
        out.write(json.dumps(record_of(incident), ensure_ascii=False) + "\n")
        written += 1
    return written


async def _write_csv(incidents: AsyncIterator[Incident], out: TextIO) -> int:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    written = 0
    async for incident in incidents:
        record = record_of(incident)
        record["sources"] = format_sources(record["sources"])
        record["tags"] = format_tags(record["tags"])
        writer.writerow(_cell(record[column]) for column in COLUMNS)
        written += 1
    return written


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # repr is the shortest text that reads back as the very same float.
        return repr(value)
    if isinstance(value, str):
        return _formula_neutralised(value)
    return str(value)


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection:
# "=HYPERLINK(…)" in a title). OWASP's advice: prefix such a text cell with "'", which
# a spreadsheet shows as text. A cell starting with "'" gets one more, so that import
# takes exactly one away and every text reads back as it was.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def _formula_neutralised(text: str) -> str:
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _formula_restored(cell: str) -> str:
    if cell.startswith("'") and cell[1:].startswith(_FORMULA_STARTS):
        return cell[1:]
    return cell


def _json_kind(value: object) -> str:
    """What a JSON value is, in JSON's words: "an array", "null"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    return "an array" if isinstance(value, list) else "a string"


@contextmanager
def output_file(path: Path) -> Iterator[TextIO]:
    """A file that appears at `path` only once it is completely written.

    An export that fails half-way leaves the previous file, if any, in place,
    rather than a truncated one that an import would take for the whole.
    """
    partial = path.with_name(f"{path.name}.partial")
    try:
        handle = partial.open("w", encoding="utf-8", newline="")
    except OSError as error:
        raise TransferError(f"{path}: cannot be written: {error.strerror}") from None
    try:
        with handle:
            yield handle
        try:
            os.replace(partial, path)
        except OSError as error:
            raise TransferError(f"{path}: cannot be written: {error.strerror}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
