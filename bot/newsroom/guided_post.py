"""The questions of the guided /post, each turning one answer into form fields."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.errors import UserError
from bot.models import not_a_web_link
from bot.newsroom.forms import EVENT_TYPES, NONE_WORDS, NOT_REPORTED_WORDS, Fields
from bot.places import gazetteer

ANSWERED = "_answered"  # form key listing the steps done, so optional ones are not re-asked


@dataclass(frozen=True)
class Step:
    name: str
    question: str
    to_fields: Callable[[str], Fields]
    # A step that takes its answer over several messages until "done" (the sources).
    collects: bool = False


class AnswerError(UserError, ValueError):
    """An answer that cannot be read, with what would work."""


def _single(key: str) -> Callable[[str], Fields]:
    return lambda answer: {key: [answer.strip()]}


def _where(answer: str) -> Fields:
    parts = [part.strip() for part in answer.split(",") if part.strip()]
    fields: Fields = {}
    if len(parts) >= 4 and all(_is_number(part) for part in parts[-2:]):
        # A place the gazetteer lacks comes with its coordinates.
        fields["coordinates"] = [", ".join(parts[-2:])]
        parts = parts[:-2]
    site = gazetteer().site(parts[0]) if len(parts) == 1 else None
    if site is not None:
        # A place the gazetteer knows brings its country: "Arabian Sea", "Tower 22".
        parts.append(site.country)
    if len(parts) < 2:
        raise AnswerError(
            "Give at least the place and the country, e.g. “Ain al-Asad Air Base, Iraq”; "
            "for a place the bot does not know, add its coordinates: "
            "“Tal Abyad, Raqqa, Syria, 36.70, 38.95”."
        )
    fields |= {"location": [parts[0]], "country": [parts[-1]]}
    if len(parts) > 2:
        fields["region"] = [", ".join(parts[1:-1])]
    return fields


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _what(answer: str) -> Fields:
    event_type, _, subtype = answer.partition(";")
    return {"type": [event_type.strip()], "subtype": [subtype.strip()]}


_CASUALTY_EXAMPLE = (
    "“killed: 0, injured: at least 5”; “none” if the report says there were none; "
    "“not reported” if it does not say"
)
_CASUALTY = re.compile(r"(killed|dead|injured|wounded)\s*:?\s*([^,;]+)", re.IGNORECASE)


def _casualties(answer: str) -> Fields:
    wanted = answer.strip().casefold()
    if wanted in NOT_REPORTED_WORDS:
        return {"killed": [""], "injured": [""]}
    if wanted in NONE_WORDS:
        return {"killed": ["0"], "injured": ["0"]}
    found = _CASUALTY.findall(answer)
    if not found:
        raise AnswerError(f"Write e.g. {_CASUALTY_EXAMPLE}.")
    fields: Fields = {}
    for word, count in found:
        key = "killed" if word.lower() in {"killed", "dead"} else "injured"
        if key in fields:
            # As the one-shot form says of a key given twice: neither is picked silently.
            raise AnswerError(
                f"{key} is given twice (“wounded” counts as injured, “dead” as killed): give "
                f"it once, e.g. {_CASUALTY_EXAMPLE}."
            )
        fields[key] = [count.strip()]
    return fields


_CASUALTY_LINE = re.compile(r"\b(killed|dead|injured|wounded)\s*:", re.IGNORECASE)


def _claim(answer: str) -> Fields:
    if _CASUALTY_LINE.search(answer):
        raise AnswerError(
            f"“{answer.strip()}” reads as casualties, not a group's name: name the group, "
            "or write “none” or “not reported”."
        )
    return {"claimed_by": [answer.strip()]}


def _optional(key: str) -> Callable[[str], Fields]:
    return lambda answer: {key: ["" if answer.strip() in {"-", "none"} else answer.strip()]}


STEPS: tuple[Step, ...] = (
    Step("title", "What happened? Send a short headline.", _single("title")),
    Step(
        "occurred",
        "When did it happen? An ISO date or date-time in {timezone}, e.g. 2024-08-05 21:30.",
        _single("occurred"),
    ),
    Step(
        "where",
        "Where? The place, optionally the province, and the country, separated by commas — "
        "e.g. “Ain al-Asad Air Base, Anbar, Iraq”; for a place the bot does not know, add "
        "its coordinates: “Tal Abyad, Raqqa, Syria, 36.70, 38.95”.",
        _where,
    ),
    Step(
        "what",
        "What kind of event? One of: " + "; ".join(EVENT_TYPES) + ". Add the sub-type after a "
        "semicolon, e.g. “Explosions/Remote violence; Shelling/artillery/missile attack”.",
        _what,
    ),
    Step(
        "casualties",
        f"Casualties? e.g. {_CASUALTY_EXAMPLE}.",
        _casualties,
    ),
    Step(
        "claim",
        "Who claimed responsibility? A group's name; “none” if the report says no group "
        "has claimed it; “not reported” if it does not say.",
        _claim,
    ),
    Step(
        "direction",
        "Was it an attack on US or coalition forces or facilities (“on”), a strike by them "
        "(“by”), or neither (“other”)?",
        _single("direction"),
    ),
    Step(
        "verification",
        "How well established is it? “confirmed by …” (an official, or two independent "
        "sources), “reported” (one source), “claimed” (only the perpetrator's claim) or "
        "“disputed” (sources contradict each other).",
        _single("verification"),
    ),
    Step("severity", "Severity, from 1 (minor) to 5 (severe)?", _single("severity")),
    Step(
        "source",
        "Sources: send them in one message or several, each as “Name https://…” or just "
        "the link; send “done” when all are in.",
        lambda answer: {"source": sources_in(answer)},
        collects=True,
    ),
    Step(
        "summary", "Last: a short summary in your own words, or “-” for none.", _optional("summary")
    ),
)


DONE_WORDS = frozenset({"done"})
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def sources_in(answer: str) -> list[str]:
    """The sources in one message: each link with the words before it as its name
    (“Reuters https://…”), a line of words without a link as a named source."""
    sources: list[str] = []
    for line in answer.splitlines():
        name: list[str] = []
        for word in line.replace(",", " ").split():
            if problem := not_a_web_link(word):
                raise AnswerError(problem)
            if not _SCHEME.match(word):
                name.append(word)
                continue
            sources.append(" ".join([*name, word]))
            name = []
        if name:
            sources.append(" ".join(name))
    if not sources:
        raise AnswerError("Send a source as “Name https://…” or just the link, or “done”.")
    return sources


def next_step(fields: Fields) -> Step | None:
    done = set(fields.get(ANSWERED, []))
    return next((step for step in STEPS if step.name not in done), None)


def mark_answered(fields: Fields, step: Step) -> Fields:
    return {ANSWERED: [*fields.get(ANSWERED, []), step.name]}
