"""The `key: value` incident form admins type after /post and /edit.

    title: Rockets strike Ain al-Asad Air Base
    occurred: 2024-08-05 21:00
    country: Iraq
    region: Anbar
    location: Ain al-Asad Air Base
    type: Explosions/Remote violence
    subtype: Shelling/artillery/missile attack
    claimed_by: none
    direction: on US/coalition
    injured: at least 5
    severity: 3
    source: Reuters https://www.reuters.com/...
    summary: Two rockets landed inside the base...
    (the summary may run over several lines and must come last)

A form is kept as the admin typed it (key → list of values) until it is turned
into an IncidentContent, so a half-finished one can be stored, shown and resumed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from typing import Annotated, Any
from urllib.parse import urlparse

from pydantic import TypeAdapter, ValidationError

from bot.errors import UserError
from bot.models import (
    COUNT_WORDINGS,
    NOW,
    ZONE,
    Count,
    Direction,
    Incident,
    IncidentContent,
    Qualifier,
    Source,
    TroopFigureContent,
    TroopKind,
    Verification,
    check_moment,
    not_a_web_link,
)
from bot.numbers import bounded_int
from bot.places import PlaceProblems, gazetteer, settle, settle_place
from bot.plain_errors import plain_message
from storage.codec import storable, to_db_date

Fields = dict[str, list[str]]
# Reads one key's values (dates in the admin's zone) into the IncidentContent fields it sets;
# raises ValueError, worded for the admin, when it cannot.
Converter = Callable[[list[str], tzinfo], dict[str, Any]]

KEYS = (
    "title",
    "occurred",
    "country",
    "region",
    "location",
    "coordinates",
    "type",
    "subtype",
    "perpetrator",
    "target",
    "claimed_by",
    "direction",
    "killed",
    "injured",
    "verification",
    "severity",
    "source",
    "tags",
    "summary",
)
REQUIRED = ("title", "occurred", "country", "location", "type", "severity", "source")
REPEATABLE = frozenset({"source"})
EVENT_TYPES = (
    "Battles",
    "Explosions/Remote violence",
    "Violence against civilians",
    "Strategic developments",
    "Protests",
    "Riots",
)
# "Reported as none" and "not reported" are different answers, each with its words.
NONE_WORDS = frozenset(
    {"none", "no", "nobody", "no one", "unclaimed", "not claimed", "no group has claimed",
     "no claim", "zero"}
)  # fmt: skip
NOT_REPORTED_WORDS = frozenset({"", "-", "unknown", "not reported", "not known", "none recorded"})

# Where each model field comes from in the form, for error messages and edits.
_KEY_OF_FIELD = {
    "occurred_at": "occurred",
    "latitude": "coordinates",
    "longitude": "coordinates",
    "host_country": "host",
    "admin1": "region",
    "no_claim": "claimed_by",
    "no_perpetrator": "perpetrator",
    "confirmed_by": "verification",
    "event_type": "type",
    "sub_event_type": "subtype",
    "sources": "source",
}
_LINE = re.compile(r"^\s*([A-Za-z_]+)\s*:\s?(.*)$")
_QUALIFIER_WORDS = {
    **COUNT_WORDINGS,
    "more than": Qualifier.MORE_THAN,
    "over": Qualifier.MORE_THAN,
    "up to": Qualifier.UP_TO,
    "as many as": Qualifier.UP_TO,
    "exactly": Qualifier.EXACT,
}
_COUNT = re.compile(
    rf"^(?:(?P<qualifier>{'|'.join(_QUALIFIER_WORDS)})\s+)?(?P<value>[0-9][0-9,]*)$",
    re.IGNORECASE | re.ASCII,
)


class FormError(UserError, ValueError):
    """Everything wrong with a form, one problem per line, each naming its key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ParsedForm:
    fields: Fields = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def parse_form(text: str, keys: tuple[str, ...] = KEYS) -> ParsedForm:
    """Split `key: value` lines. `summary:` runs over the lines after it until a line that
    starts with a known key; a summary line that must begin with a key name is written
    with a leading space, which is dropped."""
    parsed = ParsedForm()
    summary: list[str] = []
    in_summary = False
    for number, line in enumerate(text.splitlines(), start=1):
        match = _LINE.match(line)
        starts_field = (
            match is not None and not line[:1].isspace() and match.group(1).lower() in keys
        )
        if in_summary and not starts_field:
            summary.append(line[1:] if line[:1] == " " else line)
            continue
        if not line.strip():
            continue
        if match is None:
            parsed.problems.append(f"line {number}: expected “key: value”, got “{line.strip()}”")
            continue
        key, value = match.group(1).lower(), match.group(2).strip()
        if key not in keys:
            parsed.problems.append(f"line {number}: unknown key “{key}” (keys: {', '.join(keys)})")
            continue
        if key in parsed.fields and key not in REPEATABLE:
            parsed.problems.append(f"line {number}: “{key}” is given twice")
            continue
        if key == "summary":
            summary, in_summary = [value], True
            parsed.fields["summary"] = [""]
            continue
        in_summary = False
        parsed.fields.setdefault(key, []).append(value)
    if "summary" in parsed.fields:
        parsed.fields["summary"] = ["\n".join(summary).strip()]
    return parsed


TROOP_KEYS = ("force", "host", "count", "kind", "as_of", "source")
_TROOP_REQUIRED = ("force", "host", "count", "as_of", "source")


def troop_figure_from_fields(fields: Mapping[str, list[str]], now: datetime) -> TroopFigureContent:
    """Validate a /settroops form; raise FormError listing every problem at once."""
    problems = [f"{key}: missing" for key in _TROOP_REQUIRED if not _first(fields, key)]
    data: dict[str, Any] = {}
    for key, name, convert in (
        ("force", "force", str.strip),
        ("host", "host_country", _host_country),
        ("count", "count", parse_count),
        ("kind", "kind", _troop_kind),
        ("as_of", "as_of", _parse_date),
        ("source", "source", parse_source),
    ):
        if _first(fields, key):
            try:
                data[name] = convert(_first(fields, key))
            except ValueError as error:
                problems.append(f"{key}: {error}")
    if not problems and data["count"] is None:
        problems.append("count: a number is needed, e.g. “nearly 2,500”")
    if problems:
        raise FormError(problems)
    try:
        return TroopFigureContent.model_validate(data, context={NOW: now})
    except ValidationError as error:
        raise FormError(_describe(error)) from None


def _host_country(text: str) -> str:
    return gazetteer().country_named_by(text.strip()).name


def _troop_kind(text: str) -> TroopKind:
    try:
        return TroopKind(text.strip().casefold())
    except ValueError:
        raise ValueError(f"one of {', '.join(kind.value for kind in TroopKind)}") from None


def _parse_date(text: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("expected an ISO date, e.g. 2024-08-06") from None
    to_db_date(day)
    return day


def incident_from_fields(
    fields: Mapping[str, list[str]], zone: tzinfo, now: datetime
) -> IncidentContent:
    """Validate a whole form, its place against the gazetteer and its values against their
    ranges (dates up to a day after `now`); raise FormError listing every problem at once."""
    problems = [f"{key}: missing" for key in REQUIRED if not _first(fields, key)]
    data: dict[str, Any] = {}
    for key, convert in _CONVERTERS.items():
        if not _first(fields, key):
            continue
        try:
            data.update(convert(fields[key], zone))
        except ValueError as error:
            problems.append(f"{key}: {error}")
    if problems:
        raise FormError(problems)
    try:
        incident = IncidentContent.model_validate(data, context={NOW: now, ZONE: zone})
    except ValidationError as error:
        raise FormError(_describe(error)) from None
    try:
        return settle_place(incident)
    except PlaceProblems as wrong:
        raise FormError(_place_problems(wrong)) from None


def check_place_answer(fields: Mapping[str, list[str]]) -> str | None:
    """The problem with a guided answer's place (country, region, location), or None."""
    point: dict[str, Any] = {"latitude": None, "longitude": None}
    try:
        if _first(fields, "coordinates"):
            point = _coordinates(fields["coordinates"], UTC)
        settle(
            _first(fields, "country"),
            _first(fields, "region"),
            _first(fields, "location"),
            point["latitude"],
            point["longitude"],
        )
    except PlaceProblems as wrong:
        return "\n".join(_place_problems(wrong))
    except ValueError as wrong:
        return f"coordinates: {wrong}"
    return None


def _place_problems(wrong: PlaceProblems) -> list[str]:
    return [f"{_KEY_OF_FIELD.get(name, name)}: {text}" for name, text in wrong.problems.items()]


def check_field(key: str, values: list[str], zone: tzinfo, now: datetime) -> str | None:
    """The problem with one answer, or None: for validating a guided step as it comes."""
    if key in REQUIRED and not any(value.strip() for value in values):
        return f"{key}: an answer is needed"
    converter = _CONVERTERS.get(key)
    if converter is None:
        return None
    try:
        data = converter(values, zone)
        if "occurred_at" in data:
            check_moment(data["occurred_at"], now, zone)
    except ValueError as error:
        return f"{key}: {error}"
    for name, value in data.items():
        info = IncidentContent.model_fields[name]
        try:
            field_type: Any = (
                Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
            )
            TypeAdapter(field_type).validate_python(value)
        except ValidationError as error:
            reasons = map(plain_message, error.errors(include_input=False, include_url=False))
            return f"{key}: {'; '.join(reasons)}"
    return None


def fields_from_incident(incident: IncidentContent, zone: tzinfo) -> Fields:
    """The form that would produce this incident: the starting point of an edit."""
    local = incident.occurred_at.astimezone(zone)
    fields: Fields = {
        "title": [incident.title],
        "occurred": [local.strftime("%Y-%m-%d %H:%M")],
        "country": [incident.country],
        "region": [incident.admin1],
        "location": [incident.location],
        "coordinates": [_coordinates_text(incident)],
        "type": [incident.event_type],
        "subtype": [incident.sub_event_type],
        "perpetrator": [incident.perpetrator or ("none" if incident.no_perpetrator else "")],
        "target": [incident.target],
        "claimed_by": [incident.claimed_by or ("none" if incident.no_claim else "")],
        "direction": [DIRECTION_FORM_WORDS[incident.direction]],
        "killed": [count_field(incident.killed)],
        "injured": [count_field(incident.injured)],
        "verification": [verification_field(incident)],
        "severity": [str(incident.severity)],
        "source": [_source_text(source) for source in incident.sources],
        "tags": [", ".join(incident.tags)],
        "summary": [incident.summary],
    }
    return {key: values for key, values in fields.items() if any(values)}


def form_text(fields: Mapping[str, list[str]], *, blanks: bool = False) -> str:
    """Fields back as `key: value` lines, in the canonical order, summary last.

    With `blanks`, keys present but empty are kept as `key: ` for the admin to fill.
    """
    lines: list[str] = []
    for key in KEYS:
        values = [value for value in fields.get(key, []) if value or blanks]
        lines.extend(f"{key}: {value}".rstrip() + (" " if not value else "") for value in values)
    return "\n".join(lines)


def changed_keys(before: Incident, after: IncidentContent) -> list[str]:
    """The form keys whose values differ between a stored incident and its edit."""
    content_keys = set(IncidentContent.model_fields)
    old = IncidentContent.model_validate(before.model_dump(include=content_keys))
    changed = []
    for name in IncidentContent.model_fields:
        key = _KEY_OF_FIELD.get(name, name)
        if key in KEYS and key not in changed and getattr(old, name) != getattr(after, name):
            changed.append(key)
    return changed


def count_field(count: Count | None) -> str:
    """A count as the form writes it; "" when not reported (so the key is left out)."""
    return "" if count is None else str(count)


def verification_field(incident: IncidentContent) -> str:
    """ "confirmed by CENTCOM", "disputed"; the default, "reported", is left out."""
    if incident.verification is Verification.REPORTED:
        return ""
    if incident.confirmed_by:
        return f"{incident.verification.value} by {incident.confirmed_by}"
    return incident.verification.value


def parse_count(text: str) -> Count | None:
    """A count with its qualifier; 0 for "none"; None when not reported."""
    cleaned = " ".join(text.lower().split())
    if cleaned in NOT_REPORTED_WORDS:
        return None
    if cleaned in NONE_WORDS:
        return Count(value=0)
    match = _COUNT.match(cleaned)
    if match is None:
        raise ValueError(
            "expected a number, optionally after “at least”, “more than”, “about”, “nearly” "
            "or “up to”; “none” for none, “not reported” when not known"
        )
    qualifier = _QUALIFIER_WORDS.get(match.group("qualifier") or "", Qualifier.EXACT)
    value = bounded_int(match.group("value").replace(",", ""), 0)
    if value is None:
        raise ValueError("that number is too large to be a count")
    if value == 0 and qualifier is not Qualifier.EXACT:
        raise ValueError(
            f"“{cleaned}” says nothing: write “none” if there were none, “not reported” if "
            "the report does not say"
        )
    return Count(value=value, qualifier=qualifier)


def parse_occurred(text: str, zone: tzinfo) -> datetime:
    """An ISO date or date-time; read in `zone` unless it carries an offset."""
    cleaned = text.strip().replace(" ", "T", 1) if " " in text.strip() else text.strip()
    try:
        if len(cleaned) == 10:
            moment = datetime.combine(date.fromisoformat(cleaned), time(0, 0))
        else:
            moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            "expected an ISO date or date-time, e.g. 2024-08-05 or 2024-08-05 21:30"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    storable(moment)
    return moment


def parse_source(text: str) -> Source:
    """“Name https://…”, or a bare URL (named after its host)."""
    words = text.split()
    url = words[-1] if words and words[-1].startswith(("http://", "https://")) else None
    name = " ".join(words[:-1] if url else words).strip(" -:\u2013\u2014")
    if url is None and not name:
        raise ValueError("expected “Name https://…” or a URL")
    for word in words:
        if problem := not_a_web_link(word):
            raise ValueError(problem)
    if not name and url:
        name = urlparse(url).hostname or url
        name = name.removeprefix("www.")
    try:
        return Source.model_validate({"name": name, "url": url})
    except ValidationError:
        raise ValueError(f"“{url}” is not a valid http(s) link") from None


def _first(fields: Mapping[str, list[str]], key: str) -> str:
    values = fields.get(key) or [""]
    return values[0].strip()


def _coordinates_text(incident: IncidentContent) -> str:
    if incident.latitude is None or incident.longitude is None:
        return ""
    return f"{incident.latitude:.5f}, {incident.longitude:.5f}"


def _coordinates(values: list[str], zone: tzinfo) -> dict[str, Any]:
    parts = [part.strip() for part in values[0].replace(";", ",").split(",")]
    try:
        latitude, longitude = (float(part) for part in parts)
    except ValueError:
        raise ValueError(
            "expected latitude, longitude in decimal degrees, e.g. 33.8, 42.44"
        ) from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError(
            f"{latitude:g}, {longitude:g} is not on Earth: latitude runs from -90 to 90, "
            "longitude from -180 to 180"
        )
    return {"latitude": latitude, "longitude": longitude}


def _source_text(source: Source) -> str:
    return f"{source.name} {source.url}" if source.url else source.name


def _event_type(values: list[str], zone: tzinfo) -> dict[str, Any]:
    wanted = values[0].strip().casefold()
    for known in EVENT_TYPES:
        if known.casefold() == wanted:
            return {"event_type": known}
    raise ValueError(f"use one of the ACLED event types: {'; '.join(EVENT_TYPES)}")


def _severity(values: list[str], zone: tzinfo) -> dict[str, Any]:
    text = values[0].strip()
    severity = bounded_int(text, 1, 5)
    if severity is None:
        raise ValueError("a whole number from 1 (minor) to 5 (severe)")
    return {"severity": severity}


def _claimed_by(values: list[str], zone: tzinfo) -> dict[str, Any]:
    text = values[0].strip()
    if text.casefold() in NOT_REPORTED_WORDS:
        return {"claimed_by": None, "no_claim": False}
    if text.casefold() in NONE_WORDS:
        return {"claimed_by": None, "no_claim": True}
    return {"claimed_by": text, "no_claim": False}


def _perpetrator(values: list[str], zone: tzinfo) -> dict[str, Any]:
    text = values[0].strip()
    if text.casefold() in NOT_REPORTED_WORDS:
        return {"perpetrator": "", "no_perpetrator": False}
    if text.casefold() in NONE_WORDS:
        return {"perpetrator": "", "no_perpetrator": True}
    return {"perpetrator": text, "no_perpetrator": False}


def _verification(values: list[str], zone: tzinfo) -> dict[str, Any]:
    status, _, by = values[0].strip().partition(" by ")
    try:
        verification = Verification(status.strip().casefold())
    except ValueError:
        names = ", ".join(v.value for v in Verification)
        raise ValueError(f"one of {names}, e.g. “confirmed by US Central Command”") from None
    if by.strip() and verification is not Verification.CONFIRMED:
        raise ValueError("only “confirmed” takes “by …”")
    return {"verification": verification, "confirmed_by": by.strip()}


# How each direction is written in a form; parse_direction accepts these and shorter words.
DIRECTION_FORM_WORDS = {
    Direction.ON_COALITION: "on US/coalition",
    Direction.BY_COALITION: "by US/coalition",
    Direction.OTHER: "other",
}
_DIRECTION_WORDS = {
    **{word.casefold(): direction for direction, word in DIRECTION_FORM_WORDS.items()},
    **{direction.value: direction for direction in Direction},
    "on": Direction.ON_COALITION,
    "attack": Direction.ON_COALITION,
    "attacks": Direction.ON_COALITION,
    "by": Direction.BY_COALITION,
    "strike": Direction.BY_COALITION,
    "strikes": Direction.BY_COALITION,
}
DIRECTION_HELP = (
    "“on US/coalition” (an attack on US or coalition forces or facilities), "
    "“by US/coalition” (a strike by them) or “other”"
)


def parse_direction(text: str) -> Direction:
    found = _DIRECTION_WORDS.get(" ".join(text.split()).casefold())
    if found is None:
        raise ValueError(f"use {DIRECTION_HELP}")
    return found


def _plain(name: str) -> Converter:
    def convert(values: list[str], zone: tzinfo) -> dict[str, Any]:
        return {name: values[0].strip()}

    return convert


_CONVERTERS: dict[str, Converter] = {
    "title": _plain("title"),
    "occurred": lambda values, zone: {"occurred_at": parse_occurred(values[0], zone)},
    "country": _plain("country"),
    "region": _plain("admin1"),
    "location": _plain("location"),
    "coordinates": _coordinates,
    "type": _event_type,
    "subtype": _plain("sub_event_type"),
    "perpetrator": _perpetrator,
    "target": _plain("target"),
    "claimed_by": _claimed_by,
    "direction": lambda values, zone: {"direction": parse_direction(values[0])},
    "killed": lambda values, zone: {"killed": parse_count(values[0])},
    "injured": lambda values, zone: {"injured": parse_count(values[0])},
    "verification": _verification,
    "severity": _severity,
    "source": lambda values, zone: {"sources": [parse_source(v) for v in values if v.strip()]},
    "tags": lambda values, zone: {"tags": [t for t in re.split(r"[,\s]+", values[0]) if t]},
    "summary": _plain("summary"),
}


def _describe(error: ValidationError) -> list[str]:
    problems = []
    for problem in error.errors(include_input=False, include_url=False):
        name = str(problem["loc"][0]) if problem["loc"] else "form"
        key = _KEY_OF_FIELD.get(name, name)
        problems.append(f"{key}: {plain_message(problem)}")
    return problems
