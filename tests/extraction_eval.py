"""Scoring the article extractor against hand-coded reports (tests/data/extraction).

Each report holds its text, its own date and the fields a careful coder records from it;
the score of a field is the share of reports for which the extractor proposes the same.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.newsroom.extracted_form import fields_from_proposal
from bot.newsroom.extractor import propose_incident

DATA = Path(__file__).parent / "data" / "extraction"
GROUPS = ("dev", "heldout", "blind", "blind2", "round3")
FIELDS = (
    "country",
    "province",
    "site",
    "date",
    "type",
    "direction",
    "killed",
    "injured",
    "perpetrator",
    "claim",
    "verification",
)


@dataclass(frozen=True)
class CodedReport:
    id: str
    group: str
    published: date
    text: str
    expected: Mapping[str, str]


@dataclass(frozen=True)
class Miss:
    report: str
    field: str
    expected: str
    proposed: str


def load(groups: Iterable[str] = GROUPS) -> list[CodedReport]:
    reports = []
    for group in groups:
        parsed = tomllib.loads((DATA / f"{group}.toml").read_text("utf-8"))
        for entry in parsed["report"]:
            reports.append(
                CodedReport(
                    id=entry["id"],
                    group=group,
                    published=entry["published"],
                    text=entry["text"],
                    expected=entry["expected"],
                )
            )
    return reports


def proposed_fields(report: CodedReport) -> dict[str, str]:
    """The extractor's reading of a report, in the coder's terms."""
    proposal = propose_incident(report.text, published=report.published)
    form = fields_from_proposal(proposal)
    place = proposal.place
    return {
        "country": proposal.country or "",
        "province": place.admin1 if place else "",
        "site": place.name if place and place.is_site else "",
        "date": proposal.occurred.isoformat() if proposal.occurred else "",
        "type": proposal.sub_event_type or "",
        "direction": form["direction"][0],
        "killed": form["killed"][0],
        "injured": form["injured"][0],
        "perpetrator": proposal.perpetrator or "",
        "claim": form["claimed_by"][0],
        "verification": form.get("verification", [""])[0] or "reported",
    }


def misses(reports: Iterable[CodedReport]) -> list[Miss]:
    found = []
    for report in reports:
        proposed = proposed_fields(report)
        for field in FIELDS:
            expected = report.expected[field]
            if proposed[field] != expected:
                found.append(Miss(report.id, field, expected, proposed[field]))
    return found


def accuracy(reports: list[CodedReport], missed: list[Miss]) -> dict[str, float]:
    ids = {report.id for report in reports}
    return {
        field: 1 - sum(1 for m in missed if m.field == field and m.report in ids) / len(reports)
        for field in FIELDS
    }


def table(reports: list[CodedReport], missed: list[Miss]) -> str:
    """Per-field accuracy for each group and for all reports."""
    columns = {group: [r for r in reports if r.group == group] for group in GROUPS}
    columns = {name: rows for name, rows in columns.items() if rows}
    columns["all"] = reports
    scores = {name: accuracy(rows, missed) for name, rows in columns.items()}
    header = f"{'field':<13}" + "".join(
        f"{f'{name} ({len(rows)})':>14}" for name, rows in columns.items()
    )
    lines = [header]
    for field in FIELDS:
        lines.append(f"{field:<13}" + "".join(f"{scores[name][field]:>14.0%}" for name in columns))
    return "\n".join(lines)
