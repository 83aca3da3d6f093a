"""Propose an incident from the pasted text of a news report (the /draft command).

The reading is rule-based and deterministic: the same text always gives the same proposal,
and every rule can be read here. It proposes; an admin checks, edits and publishes. So where
the text is ambiguous the extractor still makes a choice, and says in `notes` what it chose
between, rather than leaving a field empty without a word.

News reports about one attack also name other places, earlier attacks and troop numbers.
The rules therefore look first at the sentences that speak of the attack (they hold a weapon
or attack word, or a casualty count) and, among those, at the earliest ones: a report leads
with its news and fills in background after.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property, lru_cache
from typing import Literal, TypeVar

from bot.models import (
    COUNT_WORDINGS,
    WEEKDAYS,
    Count,
    Direction,
    Qualifier,
    Verification,
    direction_from_actors,
)
from bot.places import SPECIFICITY, Place, gazetteer

_T = TypeVar("_T")

# ---------------------------------------------------------------------------------------------
# Public types


@dataclass(frozen=True)
class ReportProposal:
    """A proposed incident, for an admin to check: every field may be wrong, `notes` say where.

    Fields the report does not give are None; event types use ACLED's vocabulary.
    """

    title: str
    occurred: date | None
    place: Place | None
    country: str | None
    event_type: str | None
    sub_event_type: str | None
    weapon: str | None
    killed: Count | None
    injured: Count | None
    perpetrator: str | None
    target: str | None
    actors: tuple[str, ...]
    claimed_by: str | None
    claim_status: str  # "none" | "claimed" | "unknown"
    direction: Direction
    # Never "confirmed": one report is one source; confirming is the desk's call.
    verification: Verification
    severity: int
    summary: str
    notes: tuple[str, ...]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# ---------------------------------------------------------------------------------------------
# Text: one spelling for quotes and dashes, cut into sentences

# Every replacement is one character for one, so offsets into the normalised text are
# offsets into what the admin pasted.
_UNIFY = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u2032": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)

_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(?=\s+[\"'(\[]?[A-Z0-9])")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)\.[\"')\]]*$")
_ABBREVIATIONS = _words(
    "u.s u.k u.n mr mrs ms dr gen lt col sgt maj capt cmdr adm sen rep gov pres st no vs "
    "jan feb mar apr jun jul aug sep sept oct nov dec approx est fla calif"
)


@dataclass(frozen=True, slots=True)
class _Sentence:
    start: int
    end: int

    def holds(self, position: int) -> bool:
        return self.start <= position < self.end


def _is_abbreviation(piece: str) -> bool:
    match = _LAST_WORD.search(piece)
    if match is None:
        return False
    word = match.group(1).lower()
    # A dot inside the word makes it an abbreviation: "a.m.", "U.S.".
    return word in _ABBREVIATIONS or len(word) == 1 or "." in word


def _split_sentences(text: str) -> list[_Sentence]:
    """Sentences, and each line on its own: headlines and subheadings carry no full stop."""
    sentences: list[_Sentence] = []
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for mark in _SENTENCE_END.finditer(text, line.start(), line.end()):
            if _is_abbreviation(text[start : mark.end()]):
                continue
            sentences.append(_Sentence(start, mark.end()))
            start = mark.end() + 1
        if text[start : line.end()].strip():
            sentences.append(_Sentence(start, line.end()))
    return [s for s in sentences if text[s.start : s.end].strip()]


def _longest_first(items: Sequence[_T], span: Callable[[_T], tuple[int, int]]) -> list[_T]:
    """Drop items overlapping a longer one ("suicide car bomb" over "car bomb"), in text order.

    Among equally long items the earlier in `items` wins, so callers order by preference.
    """
    kept: list[_T] = []
    taken: list[tuple[int, int]] = []
    for item in sorted(items, key=lambda it: span(it)[0] - span(it)[1]):
        start, end = span(item)
        if all(end <= s or start >= e for s, e in taken):
            kept.append(item)
            taken.append((start, end))
    return sorted(kept, key=lambda it: span(it)[0])


# ---------------------------------------------------------------------------------------------
# Numbers and casualty counts

_UNIT_WORDS = _words(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
)
_TENS_WORDS = _words("twenty thirty forty fifty sixty seventy eighty ninety")
_WORD_VALUES: dict[str, int] = {word: value for value, word in enumerate(_UNIT_WORDS)}
_WORD_VALUES.update({word: 20 + 10 * i for i, word in enumerate(_TENS_WORDS)})

_WORD_NUMBER = (
    rf"(?:(?:{'|'.join(_TENS_WORDS)})(?:[- ](?:{'|'.join(_UNIT_WORDS[1:10])}))?"
    rf"|{'|'.join(sorted(_UNIT_WORDS, key=len, reverse=True))}|a dozen)"
)
# "2,500" and the "2, 500" that copy-pasting sometimes leaves behind. Atomic: a number,
# once read, is never cut back into shorter ones ("2, 500" into "2" and "500"), which would
# let a list of numbers be split into parts in exponentially many ways.
_DIGIT_NUMBER = r"(?>\d{1,3}(?:,\s?\d{3})+(?!\d)|\d+)"
_NUMBER = rf"(?:{_DIGIT_NUMBER}|{_WORD_NUMBER})"
_WORD_NUMBER_RE = re.compile(rf"\b{_WORD_NUMBER}\b|\d", re.IGNORECASE)

_QUALIFIERS: dict[str, Qualifier] = {
    **COUNT_WORDINGS,
    "no fewer than": Qualifier.AT_LEAST,
    "no less than": Qualifier.AT_LEAST,
    "more than": Qualifier.MORE_THAN,
    "over": Qualifier.MORE_THAN,
    "upwards of": Qualifier.MORE_THAN,
    "almost": Qualifier.NEARLY,
    "close to": Qualifier.NEARLY,
    "roughly": Qualifier.ABOUT,
    "some": Qualifier.ABOUT,
    "an estimated": Qualifier.ABOUT,
    "up to": Qualifier.UP_TO,
    "as many as": Qualifier.UP_TO,
}
_QUALIFIER = "|".join(sorted(_QUALIFIERS, key=len, reverse=True))

_HARM = r"killed|dead|died|wounded|injured|hurt|slain"
# Words between a number and its verb: no sentence end, no other number; but the periods of
# "U.S." and "U.K." are not sentence ends.
_GAP_CHAR = r"(?:[^.;:!?\d\n]|(?<![A-Za-z][A-Za-z])(?<=[A-Za-z])\.)"
_PASSIVE_COUNT = re.compile(
    rf"(?:\b(?P<qualifier>{_QUALIFIER})\s+)?\b(?P<number>{_NUMBER})\b"
    rf"(?P<gap>{_GAP_CHAR}{{0,80}}?)"
    r"\b(?:(?:was|were|have been|has been|had been|are|is|being|got)\s+)?(?:(?:also|\w+ly)\s+)?"
    rf"(?P<verb>{_HARM})\b",
    re.IGNORECASE,
)
_ACTIVE_COUNT = re.compile(
    r"\b(?P<verb>kill(?:ed|ing|s)|wound(?:ed|ing|s)|injur(?:ed|ing|es)|hurt(?:ing|s)?)\s+"
    rf"(?:{_GAP_CHAR}{{1,40}}?\band\s+)?"  # "killing Fuad Shukr and at least four civilians"
    rf"(?:(?P<qualifier>{_QUALIFIER})\s+)?(?P<number>{_NUMBER})\b"
    # Up to the next clause: "killing 25 fighters and wounding 55" holds two counts.
    r"(?P<gap>(?:\s+(?!and\b)[A-Za-z'-]+){0,3})",
    re.IGNORECASE,
)
_OWN_VERB = re.compile(rf"\b(?:{_HARM})\b", re.IGNORECASE)
_PERSON = (
    r"(?:soldier|service ?member|servicemember|serviceman|person|civilian|contractor|child|"
    r"woman|man|fighter|officer|marine|sailor|worker|policeman|guard|commander|leader|"
    r"member|militant|official|aide|driver|pilot|journalist|resident|crew ?member)"
)
_SINGLE_VICTIM = re.compile(
    rf"\b(?:a|an|one)\s+(?P<gap>(?:[A-Za-z'-]+\s+){{0,2}}?{_PERSON})\s+"
    rf"(?:was\s+)?(?:\w+ly\s+)?(?P<verb>{_HARM})\b",
    re.IGNORECASE,
)
# "an American contractor suffered a heart attack while sheltering and died": one victim,
# the verb later in the same clause.
_SINGLE_VICTIM_DIED = re.compile(
    rf"\b(?:a|an|one)\s+(?P<gap>(?:[A-Za-z.'-]+\s+){{0,2}}?{_PERSON})\b"
    rf"(?:(?!\b{_NUMBER}\b)[^.;:!?\n]){{1,80}}?\band\s+(?:later\s+)?(?P<verb>died)\b",
    re.IGNORECASE,
)
# "The attacker, a Syrian national, was wounded": the one who attacked, hurt himself.
_ATTACKER_HARMED = re.compile(
    r"\b[Tt]he\s+(?P<gap>attacker|gunman|assailant|bomber|shooter)(?:\s*,[^,.]{1,50},)?\s+"
    rf"(?:was\s+)?(?:\w+ly\s+)?(?P<verb>{_HARM})\b"
)
_SINGLE_VICTIM_ACTIVE = re.compile(
    r"\b(?P<verb>kill(?:ed|ing)|wound(?:ed|ing)|injur(?:ed|ing)|hurt(?:ing)?)\s+"
    rf"(?:a|an|one)\s+(?P<gap>(?:[A-Za-z.'-]+\s+){{0,2}}?{_PERSON})\b",
    re.IGNORECASE,
)
# A toll given in parts: "two soldiers and a contractor were killed", "killing two women
# and three children". Each part is a number (or "a", "one") and a few words.
_PART = rf"(?:{_NUMBER}|an?|one)\b(?:\s+(?!and\b|were\b|was\b|had\b|have\b)[A-Za-z'-]++){{0,5}}"
# The parts before the last are taken possessively: a part never starts with "and" nor
# holds it, so giving one back could never let ", and" match, only cost time.
_PARTS = rf"(?P<parts>{_PART}(?:\s*,\s*{_PART})*+,?\s+and\s+{_PART})"
_PARTS_PASSIVE = re.compile(
    rf"\b{_PARTS}\s+(?:were|was|had been|have been)\s+(?:(?:also|\w+ly)\s+)?(?P<verb>{_HARM})\b",
    re.IGNORECASE,
)
# "Among the wounded were a service member, five contractors and three residents".
_PARTS_AMONG = re.compile(
    rf"\b[Aa]mong\s+the\s+(?P<verb>{_HARM})\s+were\s+{_PARTS}(?=\s*(?:[,.;]|$))"
)
_PARTS_ACTIVE = re.compile(
    r"\b(?P<verb>kill(?:ed|ing)|wound(?:ed|ing)|injur(?:ed|ing))\s+"
    rf"{_PARTS}(?=\s*(?:[,.;]|$|\s+(?:in|at|on|when|during|near|inside)\b))",
    re.IGNORECASE,
)
# "four service members were wounded, along with one Iraqi soldier".
_PARTS_ADDED = re.compile(
    rf"\b(?P<parts>{_PART})\s+(?:were|was|had been|have been)\s+(?:\w+ly\s+)?(?P<verb>{_HARM})"
    rf",?\s+(?:along with|as well as|together with|plus)\s+(?P<added>{_PART})"
    r"(?=\s*(?:[,.;]|$))",
    re.IGNORECASE,
)
_PART_START = re.compile(rf"\b(?:{_NUMBER}|an?|one)\b", re.IGNORECASE)
# "put the death toll at 12", "the number of wounded rose to 40".
_TOLL = re.compile(
    r"\b(?:death toll|toll|number of (?:the )?(?P<noun>dead|killed|wounded|injured|injuries|"
    rf"casualties))\b[^.;\d]{{0,30}}?\b(?:at|to|of|was|is|reached)\s+"
    rf"(?:(?P<qualifier>{_QUALIFIER})\s+)?(?P<number>{_NUMBER})\b",
    re.IGNORECASE,
)
_VAGUE = (
    r"a number of|several|dozens of|dozens|scores of|scores|hundreds of|hundreds|many|a few|"
    r"a handful of|a handful"
)
_VAGUE_PASSIVE = re.compile(
    rf"\b(?P<vague>{_VAGUE})\b(?P<gap>{_GAP_CHAR}{{0,60}}?)"
    rf"\b(?:(?:was|were|have been|had been|are)\s+)?(?P<verb>{_HARM})\b",
    re.IGNORECASE,
)
# "minor injuries", "suffered injuries": hurt, but no figure, which is not "none".
_UNCOUNTED_INJURIES = re.compile(
    r"(?<!\bno\s)(?<!\bwithout\s)\b"
    r"(?:(?:minor|light|slight|serious|severe|non-life-threatening)\s+"
    r"|(?:suffered|sustained|received)\s+(?:\w+\s+)?)(?:injuries|wounds)\b",
    re.IGNORECASE,
)
# "The crews of both boats were killed": a group harmed, not counted.
_GROUP_HARMED = re.compile(
    r"\b[Tt]he\s+(?P<group>(?:crews?|occupants|attackers|gunmen|assailants|passengers)"
    r"(?:\s+of\s+(?:[\w-]+\s+){1,3}?)?)\s*(?:were|had been)\s+(?:all\s+)?"
    r"(?P<verb>killed|wounded|injured)\b"
)
_VAGUE_ACTIVE = re.compile(
    r"\b(?P<verb>kill(?:ed|ing)|wound(?:ed|ing)|injur(?:ed|ing)|hurt(?:ing)?)\s+"
    rf"(?P<vague>{_VAGUE})\b",
    re.IGNORECASE,
)
_NOBODY_HARMED = re.compile(
    r"\b(?:no one|nobody|none(?: of the (?:[A-Za-z-]+ )?(?:personnel|troops|soldiers|crew|sailors|"
    r"people|passengers|workers|staff))?|"
    r"no (?:[A-Za-z-]+ (?:or [A-Za-z-]+ )?)?(?:personnel|troops|soldiers|service members|people|"
    r"civilians|sailors|crew|crew members))(?:\s+(?:aboard|on board|inside|(?:in|on) the \w+))?"
    # "found no American or Iraqi personnel killed or wounded": a finding, without a verb.
    r"\s+(?:(?:was|were|had been|has been|have been)\s+(?:(?:\w+ly|reported)\s+)?)?"
    r"(?P<verb>killed|hurt|harmed|injured|wounded)(?:\s+or\s+(?P<verb2>killed|hurt|harmed|"
    r"injured|wounded))?",
    re.IGNORECASE,
)
# "The crew escaped unhurt": nobody hurt, and so nobody killed.
_UNHURT = re.compile(
    r"\b(?:(?:escaped|were|was|walked away|emerged)\s+(?:\w+\s+)?|(?:crew|crews|sailors|staff|"
    r"passengers)\s+)(?:unhurt|unharmed|uninjured|unscathed)\b",
    re.IGNORECASE,
)
# "an assessment found no diplomats or guards killed or injured": a finding, whoever it names.
_FOUND_NOBODY = re.compile(
    r"\b(?:found|showed|confirmed)\s+no\s+(?:[\w-]+\s+){1,5}?(?P<verb>killed|hurt|harmed|injured|"
    r"wounded)(?:\s+or\s+(?P<verb2>killed|hurt|harmed|injured|wounded))?\b",
    re.IGNORECASE,
)
_HARMED_NOBODY = re.compile(
    r"\b(?:killed|killing|injured|injuring|wounded|wounding|hurt|hurting|harmed|harming)"
    r"\s+(?:no one|nobody)\b",
    re.IGNORECASE,
)
_NO_CASUALTY_NOUN = re.compile(
    r"\b(?:no|without\s+(?:causing\s+)?(?:any\s+)?)\s*(?:immediate\s+)?(?:reports?\s+of\s+)?"
    r"(?:(?:damage|deaths|injuries)\s+or\s+)?"
    r"(?:(?:US|U\.S\.|American|coalition|civilian|military|[A-Z][a-z]+i)\s+)?"
    r"(?P<noun>casualties|injuries|deaths|fatalities)\b",
    re.IGNORECASE,
)
# A number followed by one of these counts things, not people.
_NOT_PEOPLE = _words(
    "missile missiles rocket rockets drone drones shell shells mortar mortars round rounds "
    "projectile projectiles bomb bombs attack attacks strike strikes time times day days hour "
    "hours week weeks month months year years km kilometres kilometers mile miles metre metres "
    "meter meters percent base bases site sites vehicle vehicles building buildings home homes "
    "house houses camp camps village villages explosion explosions blast blasts january "
    "february march april june july august september october november december jan feb "
    "mar apr jun jul aug sep sept oct nov dec"
)
# Words inside the gap that show the number belongs to another clause.
_OTHER_CLAUSE = re.compile(
    r"\b(?:stationed|deployed|landed|fired|launched|based|serving|serve|remain|remains|struck|"
    r"hit|intercepted|downed|shot down|no)\b",
    re.IGNORECASE,
)
_MILITARY_VICTIMS = re.compile(
    r"\b(?:soldiers?|troops?|service ?members?|servicemembers?|servicem[ae]n|personnel|"
    r"marines?|sailors?|airm[ae]n|guardsm[ae]n)\b",
    re.IGNORECASE,
)
# Totals of a war or a year are background to the one attack being reported.
_CUMULATIVE = re.compile(
    r"\b(?:since the (?:war|start|beginning|conflict)|so far this year|to date|in total|"
    r"altogether|war (?:in \w+ )?(?:has|had) killed|over the past|last year|earlier this year|"
    r"a previous)\b",
    re.IGNORECASE,
)
# "Tower 22", "Aug. 5": a number that is part of a name or a date.
_NAME_BEFORE = re.compile(
    r"\b(?:(?P<word>[A-Z][A-Za-z]+)|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.)\s+$"
)

_CasualtyKind = Literal["killed", "injured"]


@dataclass(frozen=True, slots=True)
class _Casualty:
    kind: _CasualtyKind
    count: Count | None  # None when the text gives no number ("a number of")
    wording: str
    start: int
    victims: str


def _parse_number(token: str) -> tuple[int, Qualifier] | None:
    word = re.sub(r"\s+", " ", token.strip().lower())
    if word == "a dozen":
        return 12, Qualifier.ABOUT
    if word[0].isdigit():
        return int(re.sub(r"[,\s]", "", word)), Qualifier.EXACT
    parts = re.split(r"[- ]", word)
    if all(part in _WORD_VALUES for part in parts):
        return sum(_WORD_VALUES[part] for part in parts), Qualifier.EXACT
    return None


def _harm_kind(verb: str) -> _CasualtyKind:
    verb = verb.lower()
    return "killed" if verb.startswith(("kill", "dead", "died", "slain")) else "injured"


def _counts_people(text: str, match: re.Match[str], gap: str) -> bool:
    """Reject numbers that count rockets, years or stationed troops, or that name a place."""
    number = match.group("number")
    if re.fullmatch(r"(?:19|20)\d\d", number):
        return False
    before = text[max(0, match.start() - 4) : match.start("number")].lower()
    if before.endswith("no ") or before.endswith("not "):
        return False
    named = _NAME_BEFORE.search(text[max(0, match.start("number") - 20) : match.start("number")])
    if named and match.group("qualifier") is None and named.group("word") not in WEEKDAYS:
        return False  # "Tower 22", "Union 3", "Aug. 5"
    first_word = gap.strip(" ,").split(" ")[0].lower() if gap.strip(" ,") else ""
    if first_word in _NOT_PEOPLE:
        return False
    # "killed five fighters and wounded six": the verb after "and" has a count of its own.
    if re.search(r"\band\s*$", gap):
        return False
    return not (_WORD_NUMBER_RE.search(gap) or _OTHER_CLAUSE.search(gap))


def _counted(match: re.Match[str], kind: _CasualtyKind, gap: str) -> _Casualty | None:
    parsed = _parse_number(match.group("number"))
    if parsed is None:
        return None
    value, qualifier = parsed
    wording = (match.group("qualifier") or "").lower()
    if wording:
        qualifier = _QUALIFIERS[wording]
    return _Casualty(
        kind=kind,
        count=Count(value=value, qualifier=qualifier),
        wording=match.group(0),
        start=match.start("number"),
        victims=gap,
    )


def _counted_in_parts(text: str) -> Iterable[_Casualty]:
    """A toll given in parts is their sum; "a soldier" counts one."""
    for pattern in (_PARTS_PASSIVE, _PARTS_ACTIVE, _PARTS_ADDED, _PARTS_AMONG):
        for match in pattern.finditer(text):
            parts = match.group("parts")
            if pattern is _PARTS_ADDED:
                parts = f"{parts} and {match.group('added')}"
            words = {word.lower() for word in re.findall(r"[A-Za-z]+", parts)}
            if words & set(_NOT_PEOPLE) or re.search(r"(?:19|20)\d\d", parts):
                continue
            pieces = [p for p in re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+", parts) if p]
            firsts = [_PART_START.match(piece) for piece in pieces]
            if len(pieces) < 2 or not all(firsts):
                continue
            values = [_part_value(first.group(0)) for first in firsts if first]
            start = match.start() if pattern is _PARTS_ACTIVE else match.start("parts")
            yield _Casualty(
                kind=_harm_kind(match.group("verb")),
                count=Count(value=sum(values)),
                wording=match.group(0),
                start=start,
                victims=parts,
            )


def _part_value(token: str) -> int:
    """ "three" is 3; "a", "an" and "one" are 1."""
    parsed = _parse_number(token)
    return parsed[0] if parsed else 1  # "a", "an", "one"


def _tolls(text: str) -> Iterable[_Casualty]:
    for match in _TOLL.finditer(text):
        noun = (match.group("noun") or "dead").lower()
        kind: _CasualtyKind = "killed" if noun in ("dead", "killed") else "injured"
        if noun == "casualties":
            continue  # the dead and the wounded together: neither count
        found = _counted(match, kind, "")
        if found:
            yield found


# "killed Fuad Shukr, a senior commander": one person, named.
_NAMED_VICTIM = re.compile(
    r"\b(?P<verb>kill(?:ed|ing))\s+(?P<name>[A-Z][a-z]+(?:\s+(?:al-|bin\s+|abu\s+)?[A-Z][a-z'-]+)"
    r"{1,3})\b(?!\s+(?:forces|troops|fighters|militants|soldiers|members|personnel))"
)


# "one of its members was killed and another wounded": one more, of the other kind.
_ANOTHER = re.compile(
    r"\band\s+another\s+(?:[a-z]+\s+)?(?:was\s+)?(?P<verb>wounded|injured|hurt|killed)\b"
)


def _another_victim(text: str) -> Iterable[_Casualty]:
    for match in _ANOTHER.finditer(text):
        kind = _harm_kind(match.group("verb"))
        yield _Casualty(kind, Count(value=1), match.group(0), match.start(), "another")


def _named_victims(text: str) -> Iterable[_Casualty]:
    for match in _NAMED_VICTIM.finditer(text):
        name = match.group("name")
        if _find_actors(name) or gazetteer().find(name):
            continue  # "killed Kataib Hezbollah fighters", "killed Deir ez-Zor ..."
        yield _Casualty("killed", Count(value=1), match.group(0), match.start(), name)


def _numbered_casualties(text: str) -> Iterable[_Casualty]:
    yield from _counted_in_parts(text)
    yield from _named_victims(text)
    yield from _another_victim(text)
    yield from _tolls(text)
    for match in _PASSIVE_COUNT.finditer(text):
        gap = match.group("gap")
        if _counts_people(text, match, gap):
            found = _counted(match, _harm_kind(match.group("verb")), gap)
            if found:
                yield found
    for match in _ACTIVE_COUNT.finditer(text):
        gap = match.group("gap")
        first = gap.split()[0].lower() if gap.split() else ""
        # "killed and 17 wounded": the 17 has a verb of its own.
        if _OWN_VERB.search(gap) or first in _NOT_PEOPLE:
            continue
        if not re.fullmatch(r"(?:19|20)\d\d", match["number"]):
            found = _counted(match, _harm_kind(match.group("verb")), gap)
            if found:
                yield found
    singles = (_SINGLE_VICTIM, _SINGLE_VICTIM_ACTIVE, _SINGLE_VICTIM_DIED, _ATTACKER_HARMED)
    for match in (m for pattern in singles for m in pattern.finditer(text)):
        yield _Casualty(
            kind=_harm_kind(match.group("verb")),
            count=Count(value=1),
            wording=match.group(0),
            start=match.start(),
            victims=match.group("gap"),
        )


def _zero_casualties(text: str) -> Iterable[_Casualty]:
    harmed_nobody = (
        (match, match.group(0))
        for pattern in (_NOBODY_HARMED, _FOUND_NOBODY, _HARMED_NOBODY, _UNHURT)
        for match in pattern.finditer(text)
    )
    for match, wording in harmed_nobody:
        for kind in _zero_kinds(wording):
            yield _Casualty(kind, Count(value=0), wording, match.start(), "")
    for match in _NO_CASUALTY_NOUN.finditer(text):
        for kind in _zero_kinds(match.group("noun")):
            yield _Casualty(kind, Count(value=0), match.group(0), match.start(), "")


def _zero_kinds(wording: str) -> tuple[_CasualtyKind, ...]:
    # Nobody hurt means nobody killed either; "no one was killed" says nothing of injuries.
    if re.search(r"wound|injur|hurt|harm|casualt|unscathed", wording, re.IGNORECASE):
        return ("killed", "injured")
    return ("killed",)


_NEXT_WORD = re.compile(r"\s+([a-z][a-z-]*)\b")
_INJURY_DEGREE = re.compile(r"minor|light|slight|serious|severe|non-life-threatening", re.I)


def _vague_casualties(text: str) -> Iterable[_Casualty]:
    """Harm without a number; `victims` keeps the report's words ("dozens of people")."""
    for match in _VAGUE_PASSIVE.finditer(text):
        if not _OTHER_CLAUSE.search(match.group("gap")):
            kind = _harm_kind(match.group("verb"))
            victims = " ".join(f"{match.group('vague')} {match.group('gap')}".split())
            yield _Casualty(kind, None, match.group(0), match.start(), victims)
    for match in _VAGUE_ACTIVE.finditer(text):
        kind = _harm_kind(match.group("verb"))
        noun = _NEXT_WORD.match(text, match.end())
        victims = f"{match.group('vague')} {noun.group(1)}" if noun else match.group("vague")
        yield _Casualty(kind, None, match.group(0), match.start(), victims)
    for match in _GROUP_HARMED.finditer(text):
        victims = " ".join(f"the {match.group('group')}".split())
        yield _Casualty(
            _harm_kind(match.group("verb")), None, match.group(0), match.start(), victims
        )
    for match in _UNCOUNTED_INJURIES.finditer(text):
        degree = _INJURY_DEGREE.search(match.group(0))
        victims = f"people with {degree.group(0).lower()} injuries" if degree else "people hurt"
        yield _Casualty("injured", None, match.group(0), match.start(), victims)


def _find_casualties(text: str) -> list[_Casualty]:
    found: dict[tuple[str, int], _Casualty] = {}
    for casualty in (*_numbered_casualties(text), *_zero_casualties(text)):
        found.setdefault((casualty.kind, casualty.start), casualty)
    for casualty in _vague_casualties(text):
        found.setdefault((casualty.kind, casualty.start), casualty)
    return sorted(found.values(), key=lambda c: c.start)


# ---------------------------------------------------------------------------------------------
# Weapons and event types (ACLED vocabulary)

_EXPLOSIONS = "Explosions/Remote violence"
_BATTLES = "Battles"
_VIOLENCE_AGAINST_CIVILIANS = "Violence against civilians"
_SHELLING = "Shelling/artillery/missile attack"
_AIR_STRIKE = "Air/drone strike"
_REMOTE_EXPLOSIVE = "Remote explosive/landmine/IED"

# Words that make "missile" or "drone" the thing struck ("missile launch sites").
_TARGET_NOUNS = (
    r"(?:launch(?:ers?|pads?|sites?|platforms?)|sites?|storage|depots?|factor(?:y|ies)|"
    r"facilit(?:y|ies)|production|workshops?|systems?|defen[cs]es?)"
)
_NOT_STRUCK = rf"\b(?!\s+{_TARGET_NOUNS})"


@dataclass(frozen=True, slots=True)
class _Weapon:
    word: str | None
    event_type: str
    sub_event_type: str
    pattern: re.Pattern[str]


def _weapon(word: str | None, event: str, sub_event: str, pattern: str) -> _Weapon:
    return _Weapon(word, event, sub_event, re.compile(pattern, re.IGNORECASE))


_SUICIDE = r"\bsuicide\s+(?:car\s+|truck\s+)?(?:bomb\w*|attack\w*|vest|blast)"
_IED = (
    r"\b(?:V?B?IEDs?|improvised explosive devices?|roadside bombs?|car bombs?|landmines?|"
    r"explosive devices?|booby[- ]trap\w*|sticky bombs?|magnetic bombs?)\b"
)
_AIRCRAFT = (
    r"\b(?:air ?strikes?|air-strikes?|air raids?|warplanes?|war planes?|fighter jets?|jets|"
    r"bombers|gunships?|aerial bombardment)\b"
)
_MISSILE = rf"\b(?:(?:ballistic|cruise|anti-ship|anti-tank|guided)\s+)?missiles?{_NOT_STRUCK}"
_CLASH = (
    r"\b(?:clash(?:es|ed)?|firefights?|gun ?battles?|exchanges? of fire|fighting between|"
    r"ambush(?:ed)?|(?:attack(?:ed|s)?|assault(?:ed|s)?|stormed)\s+(?:on\s+)?(?:their|the|its|"
    r"army|military)\s+(?:positions?|checkpoints?|posts?|outposts?))\b"
)
# In order of preference where two overlap equally; otherwise the first named wins.
_WEAPONS: tuple[_Weapon, ...] = (
    _weapon("suicide bomb", _EXPLOSIONS, "Suicide bomb", _SUICIDE),
    _weapon("IED", _EXPLOSIONS, _REMOTE_EXPLOSIVE, _IED),
    _weapon(
        "grenade", _EXPLOSIONS, "Grenade", r"\b(?:rocket-propelled grenades?|RPGs?|grenades?)\b"
    ),
    _weapon(
        "drone",
        _EXPLOSIONS,
        _AIR_STRIKE,
        rf"\b(?:drones?|UAVs?|(?:uncrewed|unmanned) surface vessels?|USVs?){_NOT_STRUCK}",
    ),
    _weapon("airstrike", _EXPLOSIONS, _AIR_STRIKE, _AIRCRAFT),
    _weapon("rocket", _EXPLOSIONS, _SHELLING, rf"\b(?:rockets?|Katyushas?){_NOT_STRUCK}"),
    _weapon("missile", _EXPLOSIONS, _SHELLING, _MISSILE),
    _weapon("mortar", _EXPLOSIONS, _SHELLING, r"\bmortars?(?:\s+(?:rounds?|shells?|bombs?))?\b"),
    _weapon("artillery", _EXPLOSIONS, _SHELLING, r"\b(?:artillery|shelling|shelled|howitzers?)\b"),
    _weapon(None, _BATTLES, "Armed clash", _CLASH),
    _weapon(
        None,
        _VIOLENCE_AGAINST_CIVILIANS,
        "Abduction/forced disappearance",
        r"\b(?:kidnapp(?:ed|ing)|abduct(?:ed|ion))\b",
    ),
    _weapon(
        "gunfire",
        _VIOLENCE_AGAINST_CIVILIANS,
        "Attack",
        r"\b(?:gunmen|shot dead|opened fire on|shooting)\b",
    ),
)
# "Strikes" alone is how reports describe a state's air campaign ("US and UK strikes on
# Hodeidah"); after a militia rocket attack "the strike" just means that attack.
_STATE_STRIKE = _weapon(
    "airstrike", _EXPLOSIONS, _AIR_STRIKE, r"\b(?:strikes?|struck|bombed|bombarded|raids?)\b"
)
_EXPLOSION = _weapon(
    "explosive", _EXPLOSIONS, _REMOTE_EXPLOSIVE, r"\b(?:explosions?|blasts?|explosives?|bombs?)\b"
)

_ATTACK_CUE = re.compile(
    r"\b(?:attack(?:s|ed|ing)?|assault(?:s|ed)?|strikes?|struck|air ?strikes?|air raids?|raids?|"
    r"bomb(?:s|ed|ing|ings)?|rockets?|missiles?|mortars?|drones?|IEDs?|explosi(?:on|ons|ve|ves)|"
    r"blasts?|shell(?:s|ed|ing)|artillery|target(?:ed|ing)|hit(?!\s+back)|fired|launched|"
    r"clash(?:es|ed)?|ambush(?:ed)?|gunfire|shot|opened fire)\b",
    re.IGNORECASE,
)
# What follows these words in a sentence is the cause or setting, not the attack itself.
_CONTEXT_CLAUSE = re.compile(
    r"\b(?:in response to|in retaliation for|retaliation for|amid|in the wake of|"
    r"(?:a|one|two|three|four|five|six|\d+|several) (?:days?|weeks?|hours?) after|"
    # "struck a vehicle after they fired a missile at the base": what the strike answered.
    r"after\s+(?:they|it|militants|militiamen|the\s+\w+)\s+(?:had\s+)?(?:fired|launched|"
    r"attacked|struck|targeted))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _WeaponHit:
    weapon: _Weapon
    start: int
    end: int


# "a strike against a Houthi anti-ship missile", "destroyed two drones": the weapon named is
# what was hit, not what hit.
_STRUCK_BEFORE = re.compile(
    r"\b(?:strikes?\s+(?:on|against)|destroy(?:ed|ing)|shot\s+down|intercept(?:ed|ing)|"
    r"downed)\s+(?:(?:an?|the|\d+|[\w-]+)\s+){0,4}$",
    re.IGNORECASE,
)


def _weapon_hits(text: str, sentence: _Sentence, weapons: Sequence[_Weapon]) -> list[_WeaponHit]:
    context = _CONTEXT_CLAUSE.search(text, sentence.start, sentence.end)
    limit = context.start() if context else sentence.end
    hits = [
        _WeaponHit(weapon, match.start(), match.end())
        for weapon in weapons
        for match in weapon.pattern.finditer(text, sentence.start, limit)
        if not _STRUCK_BEFORE.search(text, max(sentence.start, match.start() - 60), match.start())
    ]
    return _longest_first(hits, lambda hit: (hit.start, hit.end))


# ---------------------------------------------------------------------------------------------
# Armed actors

_NATION_FORCES: tuple[tuple[str, str], ...] = (
    (r"U\.S\.|US|United States|American|America's", "US forces"),
    (r"British|UK|U\.K\.|Britain's|Royal", "UK forces"),
    (r"Israeli|Israel's", "Israeli forces"),
    (r"Iraqi|Iraq's", "Iraqi forces"),
    (r"Syrian|Syria's", "Syrian government forces"),
    (r"Turkish|Turkey's", "Turkish forces"),
    (r"Russian|Russia's", "Russian forces"),
    (r"Jordanian|Jordan's", "Jordanian forces"),
    (r"Iranian|Iran's", "Iranian forces"),
    (r"French|France's", "French forces"),
    (r"Lebanese|Lebanon's", "Lebanese forces"),
    (r"Saudi", "Saudi forces"),
    (r"Kurdish", "Kurdish forces"),
    (r"[Cc]oalition", "Coalition forces"),
)
# Nationality words are matched with their case ("US", not "us"); the force noun in any case.
_NATION = "|".join(f"(?:{pattern})" for pattern, _ in _NATION_FORCES)
_FORCE_NOUN = (
    # An aircraft's model may stand between: "US F-15 jets", "U.S. B-1 bombers".
    r"(?:[A-Z]{1,3}-?\d{1,3}[A-Z]?\s+)?"
    r"(?i:(?:(?:ground|special|naval|military|combat|security|government|regime|armed|"
    r"defen[cs]e|fighter|war)\s+)?(?:forces|troops|soldiers|military|army|service ?members|"
    r"servicemembers|servicem[ae]n|personnel|marines|sailors|navy|air force|warplanes|planes|"
    r"jets|aircraft|bombers|gunships?|drones?|air ?strikes?|strikes?|raids?|warships?|"
    r"destroyers?))\b"
)
_FORCE_CHAIN = re.compile(
    rf"\b(?P<chain>(?:{_NATION})(?:\s*(?:,|and|&|/)\s*(?:{_NATION}))*)(?:-led)?\s+{_FORCE_NOUN}"
)
_NAMED_ACTORS: tuple[tuple[str, str], ...] = (
    ("Islamic Resistance in Iraq", r"(?i:Islamic Resistance in Iraq)"),
    ("Kataib Hezbollah", r"(?i:Kata'?ib\s+H[ei]zb[aou]llah)"),
    ("Kataib Sayyid al-Shuhada", r"(?i:Kata'?ib\s+Sayy?id\s+al[- ]Shuhada)"),
    ("Harakat al-Nujaba", r"(?i:(?:Harakat\s+)?(?:Hezbollah\s+)?al[- ]Nujaba)"),
    (
        "Popular Mobilization Forces",
        r"(?i:Popular Mobili[sz]ation (?:Forces|Units)|Hashd al[- ]Shaabi)|\bPMF\b|\bPMU\b",
    ),
    (
        "Iran-backed militias",
        r"(?i:(?:\bIran(?:ian)?-(?:backed|aligned|allied|linked|supported|sponsored)|"
        r"\bpro-Iran(?:ian)?)\s+(?:(?:Shiite|Shia|armed|militant|Iraqi|paramilitary)\s+){0,2}"
        r"(?:militias?|militants|groups?|factions|proxies|fighters)\b)",
    ),
    ("Hezbollah", r"(?i:\bH[ei]zb[aou]llah\b)"),
    ("Hamas", r"\bHamas\b|(?i:(?:al-)?Qassam Brigades)"),
    ("Palestinian Islamic Jihad", r"(?i:Palestinian Islamic Jihad|\bIslamic Jihad\b)"),
    ("Houthis", r"(?i:\bH[ou]u?this?\b|\bAnsar ?Allah\b)"),
    ("Islamic State", r"(?i:\bIslamic State\b|\bDaesh\b)|\bISIL\b|\bISIS\b"),
    (
        "IRGC",
        r"\bIRGC\b|(?i:Islamic Revolutionary Guards? Corps|Revolutionary Guards?|Quds Force)"
        r"|(?<=[Tt]he )Guards\b",
    ),
    ("Hayat Tahrir al-Sham", r"(?i:Hay'?at Tahrir al[- ]Sham)|\bHTS\b"),
    ("Syrian Democratic Forces", r"(?i:Syrian Democratic Forces)|\bSDF\b"),
    ("Peshmerga", r"(?i:\bPeshmerga\b)"),
    ("PKK", r"\bPKK\b|(?i:Kurdistan Workers'? Party)"),
    (
        "Coalition forces",
        r"(?i:(?:US|U\.S\.|American)-led\s+(?:(?:military|international|global)\s+)?coalition|"
        r"international coalition|anti-(?:ISIS|ISIL|IS|Islamic State) coalition|"
        r"Operation Inherent Resolve)",
    ),
    ("Israeli forces", r"\bIDF\b|(?i:Israel Defen[cs]e Forces)"),
    (
        "UK forces",
        r"\bRAF\b(?:\s+[A-Z][a-z]+)?(?:\s+(?:jets|aircraft|warplanes|planes))?"
        r"|(?i:Royal Air Force|Royal Navy)",
    ),
    ("US forces", r"\bCENTCOM\b|(?i:\bCentral Command\b)"),
)
_NAMED_ACTOR_PATTERNS = tuple((name, re.compile(pattern)) for name, pattern in _NAMED_ACTORS)


@dataclass(frozen=True, slots=True)
class _ActorMention:
    start: int
    end: int
    names: tuple[str, ...]  # "US and British warplanes" names two forces at once


def _chain_names(chain: str) -> tuple[str, ...]:
    names: list[str] = []
    for part in re.split(r"\s*(?:,|\band\b|&|/)\s*", chain):
        for pattern, name in _NATION_FORCES:
            if re.fullmatch(pattern, part) and name not in names:
                names.append(name)
    return tuple(names)


# A group the list does not know, named as reports introduce one: "a little-known group
# calling itself Saraya Awliya al-Dam", "a group describing itself as the X brigade".
_NEW_GROUP = re.compile(
    r"\b(?i:calling itself|called|named|describing itself as|known as|under the name)\s+"
    r"(?:the\s+)?(?P<name>[A-Z][\w'-]*(?:\s+(?:(?:al|el|ad|ar|as|ash)-[\w'-]+|al|of|in|the|"
    r"[A-Z][\w'-]*)){0,5})"
)
_NAME_TAIL = re.compile(r"(?:\s+(?:of|in|the|al))+$")


def _new_groups(text: str) -> list[_ActorMention]:
    """Each group introduced by name, wherever the report names it."""
    names = {_NAME_TAIL.sub("", m.group("name")) for m in _NEW_GROUP.finditer(text)}
    return [
        _ActorMention(match.start(), match.end(), (name,))
        for name in names
        if len(name) > 3
        for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text)
    ]


def _find_actors(text: str) -> list[_ActorMention]:
    found = [
        _ActorMention(match.start(), match.end(), (name,))
        for name, pattern in _NAMED_ACTOR_PATTERNS
        for match in pattern.finditer(text)
    ]
    found += _new_groups(text)
    found += [
        _ActorMention(match.start(), match.end(), _chain_names(match.group("chain")))
        for match in _FORCE_CHAIN.finditer(text)
    ]
    return _longest_first(found, lambda mention: (mention.start, mention.end))


def _join_names(names: Sequence[str]) -> str:
    """("US forces", "UK forces") -> "US and UK forces"."""
    if len(names) > 1 and all(name.endswith(" forces") for name in names):
        heads = [name.removesuffix(" forces") for name in names]
        heads[1:] = [head.lower() if head == "Coalition" else head for head in heads[1:]]
        return f"{', '.join(heads[:-1])} and {heads[-1]} forces"
    if len(names) > 1:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return names[0]


# ---------------------------------------------------------------------------------------------
# Places

_ARABIC_ARTICLES = ("ash", "al", "el", "ad", "ar", "as", "at", "az", "ez", "es", "ed", "an")
_SEPARATOR = r"[\s\-'.]*"
# Aliases that are also everyday English words, matched only as written.
_CASE_SENSITIVE_ALIASES = frozenset({"Tyre"})
_PERSON_BEFORE = re.compile(r"\b(?:Bashar|Hafez|Hafiz|Maher|Asma)\s+$")
_BACKGROUND_BEFORE = re.compile(
    r"\b(?:(?P<harm>killed|assassinated|murdered|slain|died)|buried|born|stationed|deployed|"
    r"based|headquartered|hiding|visit(?:ed|ing)?|met|talks|summit|negotiations)\s+"
    r"(?:[\w-]+\s+)?(?:in|at|to)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_ORIGIN_BEFORE = re.compile(r"\bfrom\s+(?:the\s+)?(?:[\w-]+\s+)?$", re.IGNORECASE)
# "Sanaa time": a clock, not a place.
_CLOCK_AFTER = re.compile(r"\s+time\b", re.IGNORECASE)
# A ship at sea is placed by the port the report measures from: "50 nautical miles
# southwest of Aden", "off the port of Hodeidah", "near the Yemeni port of Mokha"; not by a
# port named for something else ("jets struck targets around the port city of Hodeidah").
_ANCHOR_BEFORE = re.compile(
    r"(?:\b(?:nautical miles|miles|nm|kilometres|kilometers|km)\s+(?:\w+\s+){0,2}?"
    r"(?:of|off|from)|\boff(?:\s+the\s+coast\s+of)?|\b(?:off|near|outside)\s+(?:the\s+)?"
    r"(?:[\w-]+\s+)?port\s+(?:city\s+)?of)"
    r"\s+(?:the\s+)?(?:[\w-]+\s+)?$",
    re.IGNORECASE,
)
# "near Abu Ghraib, west of Baghdad": Baghdad is the point of reference, not the place.
_REFERENCE_BEFORE = re.compile(
    r"\b(?:north|south|east|west|northeast|northwest|southeast|southwest)(?:ern)?\s+of\s+"
    r"(?:the\s+)?$",
    re.IGNORECASE,
)
# "ships in the Red Sea": where the shipping an attack threatens sails, not where it was.
_SHIPPING_BEFORE = re.compile(
    r"\b(?:ships?|vessels?|shipping|navigation|tankers?)\s+(?:in|through|across|transiting)"
    r"\s+(?:the\s+)?(?:\w+\s+)?$",
    re.IGNORECASE,
)
# A wire report opens with where the reporter files from, which need not be where it
# happened: "BAGHDAD (wire) - A drone struck Ain al-Asad ...", "ERBIL, Iraq - ...".
_DATELINE = re.compile(
    r"^[ \t]*(?P<where>[A-Z][\w'.-]*(?:[ ][A-Za-z][\w'.-]*){0,3}?"
    r"(?:,[ ]+[A-Z][\w.]*(?:[ ][A-Z][\w.]*)?)?)(?:[ ]+\([^)\n]{1,40}\))?[ ]+-+[ ]+(?=\S)",
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class _PlaceMention:
    place: Place
    start: int
    end: int

    @property
    def rank(self) -> int:
        return SPECIFICITY[self.place.kind]


def _alias_pattern(alias: str) -> str:
    """Spelling-tolerant: "Ain al-Asad" also matches "Ain al Asad", "Ain el-Asad", "Ain Asad",
    and a word may take a possessive: "Erbil's international airport"."""
    tokens = re.findall(r"[^\W_]+", alias)
    parts = [re.escape(tokens[0])]
    for token in tokens[1:]:
        parts.append("(?:'s)?")
        if token.lower() in _ARABIC_ARTICLES:
            parts.append(f"(?:{_SEPARATOR}(?:{'|'.join(_ARABIC_ARTICLES)}))?")
        else:
            parts.append(_SEPARATOR + re.escape(token))
    body = "".join(parts)
    return f"(?-i:{body})" if alias in _CASE_SENSITIVE_ALIASES else body


@lru_cache(maxsize=1)
def _place_patterns() -> tuple[tuple[Place, re.Pattern[str]], ...]:
    # Most specific first, so that of two places sharing a spelling the more specific wins.
    places = sorted(gazetteer().places, key=lambda place: -SPECIFICITY[place.kind])
    patterns: list[tuple[Place, re.Pattern[str]]] = []
    respellings = _town_respellings(places)
    for place in places:
        aliases = sorted(
            {variant for alias in (place.name, *place.aliases) for variant in respellings(alias)},
            key=len,
            reverse=True,
        )
        alternatives = "|".join(_alias_pattern(alias) for alias in aliases)
        pattern = re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE)
        patterns.append((place, pattern))
    return tuple(patterns)


def _town_respellings(places: Sequence[Place]) -> Callable[[str], set[str]]:
    """A name holding a town's name, in each of the town's spellings: "Erbil airport" is
    also "Irbil airport", "Sanaa airport" also "Sana'a airport"."""
    spellings: dict[str, tuple[str, ...]] = {}
    for town in places:
        if town.kind == "city":
            for spelling in (town.name, *town.aliases):
                spellings.setdefault(spelling, (town.name, *town.aliases))

    def respell(alias: str) -> set[str]:
        variants = {alias}
        for spelling, others in spellings.items():
            if alias != spelling and re.search(rf"(?<!\w){re.escape(spelling)}(?!\w)", alias):
                variants |= {alias.replace(spelling, other) for other in others}
        return variants

    return respell


def _find_places(text: str, actors: Sequence[_ActorMention]) -> list[_PlaceMention]:
    found: list[_PlaceMention] = []
    for place, pattern in _place_patterns():
        for match in pattern.finditer(text):
            # "Islamic Resistance in Iraq" names a group, not where it struck.
            in_actor = any(a.start <= match.start() < a.end for a in actors)
            if in_actor or _PERSON_BEFORE.search(text, max(0, match.start() - 12), match.start()):
                continue
            found.append(_PlaceMention(place, match.start(), match.end()))
    return _longest_first(found, lambda mention: (mention.start, mention.end))


def _contains(outer: Place, inner: Place) -> bool:
    if SPECIFICITY[inner.kind] <= SPECIFICITY[outer.kind] or inner.country != outer.country:
        return False
    return outer.kind == "country" or inner.admin1 == outer.admin1


# ---------------------------------------------------------------------------------------------
# Claims of responsibility

_NO_CLAIM = re.compile(
    r"\b(?:no\s+(?:[\w-]+\s+){0,3}?(?:group|one|team|organi[sz]ation|faction|party|militia|body|"
    r"actor)s?|nobody|none)\s+(?:[\w-]+\s+){0,3}?(?:claimed|took\s+(?:responsibility|credit)|"
    r"said|says|stated|announced)"
    r"|\b(?:has|have|had|was|were)\s+not\s+(?:yet\s+|immediately\s+)?(?:been\s+)?claimed"
    r"|\bno\s+(?:immediate\s+)?claims?\s+of\s+responsibility|\bunclaimed\b"
    r"|\b(?:did|does|has|have)\s+not\s+(?:yet\s+|immediately\s+)?claim",
    re.IGNORECASE,
)
_CLAIM = re.compile(
    r"\b(?:claim(?:ed|s|ing)?\s+(?:responsibility|credit)"
    r"|claimed\s+(?:the|this|that)\s+(?:attack|strike|assault|operation|bombing)"
    r"|took\s+(?:responsibility|credit)"
    r"|claimed\s+by"
    # "said it was behind", "said its fighters had attacked", "said that the group's naval
    # forces had targeted": a group's word that it acted is its claim.
    r"|(?:said|says|stated|announced)\b[^.]{0,60}?\b(?:it|they|(?:its|their|the\s+(?:group|"
    r"movement|militia|organi[sz]ation)'s)\s+(?:[\w-]+\s+){0,2}?(?:fighters|forces|members|"
    r"units|militants|operatives|drones?|missiles?|rockets?))\s+"
    r"(?:was\s+|were\s+|had\s+|has\s+|have\s+)?(?:behind|responsible|carried out|conducted|"
    r"launched|targeted|attacked|struck|hit|bombarded|shelled|fired))",
    re.IGNORECASE,
)
_TRAILING_APPOSITION = re.compile(r",[^,]*,\s*$")

_ClaimStatus = Literal["none", "claimed", "unknown"]


@dataclass(frozen=True, slots=True)
class _Claim:
    status: _ClaimStatus
    names: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def group(self) -> str | None:
        return _join_names(self.names) if self.names else None


# ---------------------------------------------------------------------------------------------
# Dates

_MONTHS = _words("jan feb mar apr may jun jul aug sep oct nov dec")
_MONTH = (
    r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_YEAR = r"(?:,?\s+(?P<year>\d{4}))?(?!\d)"
_EXPLICIT_DATES = (
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}{_YEAR}"),
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?!\d){_YEAR}"),
)
_ISO_DATE = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b")
_WEEKDAY = re.compile(rf"\b(?P<last>last\s+)?(?P<weekday>{'|'.join(WEEKDAYS)})\b")
_RELATIVE_DAY = re.compile(
    r"\b(?P<word>yesterday|today|earlier today|this morning|tonight|last night|overnight)\b",
    re.IGNORECASE,
)
_DAYS_BACK = {
    "yesterday": 1,
    "last night": 1,
    "today": 0,
    "earlier today": 0,
    "this morning": 0,
    "tonight": 0,
    # The night that ends on the morning the report is dated.
    "overnight": 0,
}


@dataclass(frozen=True, slots=True)
class _DateHit:
    start: int
    wording: str
    value: date | None
    problem: str = ""


# ---------------------------------------------------------------------------------------------
# One reading of the text, shared by the field extractors


def _speaks_of_attack(text: str, sentence: _Sentence) -> bool:
    if _ATTACK_CUE.search(text, sentence.start, sentence.end):
        return True
    return any(w.pattern.search(text, sentence.start, sentence.end) for w in _WEAPONS)


# A sentence about another attack than the lead's: a reprisal hours later, "a separate drone
# attack the same day". Its place, actors and tolls are not the reported attack's.
_SEPARATE_EVENT = re.compile(
    r"(?:^|(?<=[.!?]\s))\s*(?:(?:Hours|Days|Minutes|Shortly|Weeks)\s+later|Later\s+that\s+\w+|"
    r"The\s+(?:next|following)\s+(?:day|morning|night)|In\s+(?:response|retaliation))\b"
    r"|\b(?:a|another|in\s+a)\s+separate\s+(?:[\w-]+\s+){0,2}?(?:attack|strike|incident)s?\b"
)


@dataclass(frozen=True)
class _Reading:
    text: str
    sentences: tuple[_Sentence, ...]
    actors: tuple[_ActorMention, ...]
    places: tuple[_PlaceMention, ...]
    casualties: tuple[_Casualty, ...]
    attack_sentences: frozenset[int]
    separate_sentences: frozenset[int]
    datelines: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, raw: str) -> _Reading:
        text = raw.translate(_UNIFY)
        sentences = tuple(_split_sentences(text))
        actors = tuple(_find_actors(text))
        speaking = [index for index, s in enumerate(sentences) if _speaks_of_attack(text, s)]
        # The lead is the reported attack, even when it opens "In response to ...".
        separate = frozenset(
            index
            for index, s in enumerate(sentences)
            if index > min(speaking, default=0) and _SEPARATE_EVENT.search(text, s.start, s.end)
        )
        attack = frozenset(index for index in speaking if index not in separate)
        return cls(
            text=text,
            sentences=sentences,
            actors=actors,
            places=tuple(_find_places(text, actors)),
            casualties=tuple(_find_casualties(text)),
            attack_sentences=attack,
            separate_sentences=separate,
            datelines=tuple(match.span("where") for match in _DATELINE.finditer(text)),
        )

    def sentence_of(self, position: int) -> int:
        index = bisect_right(self.sentence_ends, position)
        return min(index, len(self.sentences) - 1)

    @cached_property
    def sentence_ends(self) -> list[int]:
        return [sentence.end for sentence in self.sentences]

    def sentence_text(self, index: int) -> str:
        sentence = self.sentences[index]
        return self.text[sentence.start : sentence.end]

    @cached_property
    def counted_casualty_sentences(self) -> frozenset[int]:
        return frozenset(self.sentence_of(c.start) for c in self.casualties if c.count is not None)

    @cached_property
    def casualty_sentences(self) -> frozenset[int]:
        return frozenset(self.sentence_of(c.start) for c in self.casualties)

    @cached_property
    def event_sentences(self) -> list[int]:
        """Sentences about the attack itself, in text order."""
        return sorted(
            (self.attack_sentences | self.counted_casualty_sentences) - self.separate_sentences
        )

    def before(self, position: int, width: int = 60) -> str:
        sentence = self.sentences[self.sentence_of(position)]
        return self.text[max(sentence.start, position - width) : position]

    def cue_distance(self, mention: _PlaceMention) -> int:
        sentence = self.sentences[self.sentence_of(mention.start)]
        cues = [m.start() for m in _ATTACK_CUE.finditer(self.text, sentence.start, sentence.end)]
        return min((abs(cue - mention.start) for cue in cues), default=len(self.text))

    def actors_in(self, index: int) -> list[_ActorMention]:
        sentence = self.sentences[index]
        return [a for a in self.actors if sentence.holds(a.start)]


# ---------------------------------------------------------------------------------------------
# Field by field


def _choose_weapon(reading: _Reading) -> tuple[_Weapon | None, list[str]]:
    """The first weapon named with the attack; a state's "strikes" count as airstrikes."""
    text = reading.text
    chosen: _WeaponHit | None = None
    others: list[str] = []
    for index in reading.event_sentences:
        sentence = reading.sentences[index]
        hits = _weapon_hits(text, sentence, _WEAPONS)
        if chosen is None and not hits:
            hits = _state_strikes(reading, index)
        if chosen is None and hits:
            chosen = hits[0]
        others += [hit.weapon.word for hit in hits if hit.weapon.word]
    if chosen is None:
        return _fallback_explosion(reading)
    mentioned = [w for w in dict.fromkeys(others) if w != chosen.weapon.word]
    notes = [f"Other weapons mentioned: {', '.join(mentioned)}."] if mentioned else []
    return chosen.weapon, notes


def _fallback_explosion(reading: _Reading) -> tuple[_Weapon | None, list[str]]:
    for sentence in reading.sentences:
        if _EXPLOSION.pattern.search(reading.text, sentence.start, sentence.end):
            note = "Only an explosion is described, no weapon; check the event type."
            return _EXPLOSION, [note]
    return None, ["No weapon or attack type recognised; set the event type by hand."]


def _is_state_force(mention: _ActorMention) -> bool:
    return all(name.endswith(" forces") for name in mention.names)


# A command's release: "CENTCOM said forces under its command conducted a strike".
_COMMAND_SAID = (
    r"(?:said|says|announced|stated)\s+(?:that\s+)?(?:(?:forces|troops|aircraft|jets)\s+under\s+"
    r"its\s+command|its\s+(?:forces|troops|aircraft|jets)|it|they)\s+(?:had\s+)?"
)
_COMMAND_STRUCK = re.compile(
    rf"^\s+{_COMMAND_SAID}(?:conducted|carried out|launched|struck|hit)\b", re.IGNORECASE
)
_STRIKES_LAUNCHED = re.compile(
    rf"^\s+(?:{_COMMAND_SAID})?(?:(?:\w+\s+){{0,2}}?"
    r"(?:launched|carried out|conducted|began|resumed|mounted)\s+"
    r"(?:[\w-]+\s+){0,2})?$",
    re.IGNORECASE,
)


def _state_strikes(reading: _Reading, index: int) -> list[_WeaponHit]:
    """ "US and UK strikes", "Israeli forces carried out strikes": a state's air campaign."""
    forces = [a for a in reading.actors_in(index) if _is_state_force(a)]
    hits = _weapon_hits(reading.text, reading.sentences[index], (_STATE_STRIKE,))
    return [
        hit
        for hit in hits
        for actor in forces
        if actor.start <= hit.start < actor.end
        or (actor.end <= hit.start and _STRIKES_LAUNCHED.match(reading.text[actor.end : hit.start]))
    ]


def _choose_place(reading: _Reading) -> tuple[Place | None, list[str]]:
    background = {m: _background_reason(reading, m) for m in reading.places}
    usable = [m for m in reading.places if not background[m]]
    event = set(reading.event_sentences)
    candidates = [m for m in usable if reading.sentence_of(m.start) in event]
    notes: list[str] = []
    if not candidates:
        dateline = [m for m in reading.places if background[m] == "dateline"]
        if not usable and dateline:
            note = f"Only the dateline names a place; used {dateline[0].place.name}: check it."
            return dateline[0].place, [note]
        if not usable:
            return None, ["No known place named in the report; set the location by hand."]
        first = min(usable, key=lambda m: (reading.sentence_of(m.start), -m.rank))
        notes.append(
            f"No place is named with the attack; used {first.place.name}, "
            "the first place in the report."
        )
        return first.place, notes
    chosen = _earliest_most_specific(reading, candidates)
    inside = [m for m in candidates if _contains(chosen.place, m.place)]
    if inside:
        narrower = min(inside, key=lambda m: (-m.rank, m.start))
        notes.append(f"Narrowed {chosen.place.name} to {narrower.place.name}, named later.")
        chosen = narrower
    if chosen.place.kind == "sea":
        ports = [
            m
            for m in candidates
            if m.place.kind == "city" and _ANCHOR_BEFORE.search(reading.before(m.start))
        ]
        if ports:
            notes.append(
                f"At sea in the {chosen.place.name}: placed by the nearest port named, "
                f"{ports[0].place.name}."
            )
            chosen = ports[0]
        elif _SHIPPING_BEFORE.search(reading.before(chosen.start)):
            land = [m for m in candidates if m.place.kind not in ("sea", "country")]
            if land:
                chosen = _earliest_most_specific(reading, land)
                notes.append(f"The sea area is where shipping sails; used {chosen.place.name}.")
    notes += _place_notes(chosen.place, candidates, [m for m in reading.places if background[m]])
    return chosen.place, notes


def _earliest_most_specific(
    reading: _Reading, candidates: Sequence[_PlaceMention]
) -> _PlaceMention:
    first = min(reading.sentence_of(m.start) for m in candidates)
    in_first = [m for m in candidates if reading.sentence_of(m.start) == first]
    return min(
        in_first,
        key=lambda m: (
            -m.rank,
            bool(_REFERENCE_BEFORE.search(reading.before(m.start))),
            reading.cue_distance(m),
            m.start,
        ),
    )


def _place_notes(
    chosen: Place, candidates: Sequence[_PlaceMention], background: Sequence[_PlaceMention]
) -> list[str]:
    notes: list[str] = []
    rivals = _names(m.place for m in candidates if not _related(m.place, chosen))
    if rivals:
        notes.append(
            f"Places named near the attack: {', '.join([chosen.name, *rivals])}; "
            f"chose {chosen.name} (earliest and most specific)."
        )
    aside = _names(m.place for m in background if not _related(m.place, chosen))
    if aside:
        notes.append(f"Named as background, not used: {', '.join(aside)}.")
    return notes


def _related(place: Place, chosen: Place) -> bool:
    return place == chosen or _contains(place, chosen)


def _names(places: Iterable[Place]) -> list[str]:
    return list(dict.fromkeys(place.name for place in places))


def _background_reason(reading: _Reading, mention: _PlaceMention) -> str:
    """Why a place is not where the attack happened ("killed in Tehran"), or ""."""
    before = reading.before(mention.start)
    index = reading.sentence_of(mention.start)
    if any(start <= mention.start < end for start, end in reading.datelines):
        return "dateline"
    if _CLOCK_AFTER.match(reading.text, mention.end):
        return "clock"
    context = _CONTEXT_CLAUSE.search(reading.text, reading.sentences[index].start, mention.start)
    if context:
        return "context"
    if _ANCHOR_BEFORE.search(before):
        return ""
    if _ORIGIN_BEFORE.search(before):
        return "origin"
    match = _BACKGROUND_BEFORE.search(before)
    if match is None:
        return ""
    # "Three soldiers were killed in Jordan" is the attack itself.
    if match.group("harm") and index in reading.counted_casualty_sentences:
        return ""
    return "background"


def _after_context(reading: _Reading, position: int) -> bool:
    """Whether `position` follows "in response to", "three days after" in its sentence:
    a toll there is an earlier attack's."""
    sentence = reading.sentences[reading.sentence_of(position)]
    context = _CONTEXT_CLAUSE.search(reading.text, sentence.start, position)
    # The clause ends at a comma: "in response to attacks on US troops, killing a commander".
    return context is not None and "," not in reading.text[context.end() : position]


def _choose_casualty(
    reading: _Reading, kind: _CasualtyKind
) -> tuple[_Casualty | None, str, list[str]]:
    """The count for `kind`, the words of an uncounted one ("" if none), and notes."""
    found = [
        c
        for c in reading.casualties
        if c.kind == kind
        and not _CUMULATIVE.search(reading.sentence_text(reading.sentence_of(c.start)))
        and reading.sentence_of(c.start) not in reading.separate_sentences
        and not _after_context(reading, c.start)
    ]
    vague = [c for c in found if c.count is None]
    # "The crews were killed. No sailors on the tanker were hurt": the none is one group's,
    # and others were harmed, uncounted.
    counted = sorted(
        (c for c in found if c.count is not None and not (vague and c.count.value == 0)),
        key=lambda c: (
            -_revision(reading, c.start),
            reading.sentence_of(c.start) not in reading.attack_sentences,
            c.start,
        ),
    )
    notes = [f'"{_clip(c.wording)}": {kind}, but not a count.' for c in vague]
    uncounted = vague[0].victims.lower() if vague else ""
    if not counted:
        return None, uncounted, notes
    chosen = counted[0]
    # "... killed Fuad Shukr. Two children and a woman were also killed": one toll, in parts.
    also = [c for c in counted[1:] if c.count and re.search(r"\balso\b", c.wording, re.I)]
    if also and chosen.count and not re.search(r"\balso\b", chosen.wording, re.IGNORECASE):
        total = chosen.count.value + sum(c.count.value for c in also if c.count)
        notes.append(
            f"{kind.capitalize()}: {total}, adding those the report says were also {kind}."
        )
        chosen = _Casualty(
            kind,
            chosen.count.model_copy(update={"value": total}),
            chosen.wording,
            chosen.start,
            chosen.victims,
        )
        counted = [chosen, *(c for c in counted[1:] if c not in also)]
    other = list(dict.fromkeys(str(c.count) for c in counted[1:] if c.count != chosen.count))
    if other:
        notes.append(
            f"Other {kind} figures in the report: {', '.join(other)}; used {chosen.count}."
        )
    return chosen, uncounted, notes


# Words before a figure, in its own clause, that make it a later or an earlier toll.
_LATER_TOLL = re.compile(
    r"\b(?:later|subsequently|revised|updated|rose|risen|climbed|raised|increased|corrected|"
    r"since|latest|new toll|now)\b",
    re.IGNORECASE,
)
_BUT = re.compile(r",?\s+but\b(?!.*\bbut\b)", re.IGNORECASE | re.DOTALL)
_EARLIER_TOLL = re.compile(r"\b(?:first|initially|initial|originally|preliminary)\b", re.IGNORECASE)


def _revision(reading: _Reading, position: int) -> int:
    """1 for a toll the report gives as a correction, -1 for one it gives as superseded:
    a report that first gave 25 wounded and later more than 40 means more than 40."""
    sentence = reading.sentences[reading.sentence_of(position)]
    clause_start = max(sentence.start, reading.text.rfind(";", sentence.start, position) + 1)
    clause = reading.text[clause_start:position]
    # "initially put it at 25, but on Monday said more than 40": what follows "but" replaces
    # the earlier figure.
    contrast = _BUT.search(clause)
    if contrast and _EARLIER_TOLL.search(clause, 0, contrast.start()):
        return 1
    if contrast:
        clause = clause[contrast.end() :]
    if _LATER_TOLL.search(clause):
        return 1
    return -1 if _EARLIER_TOLL.search(clause) else 0


def _clip(wording: str, width: int = 60) -> str:
    wording = " ".join(wording.split())
    return wording if len(wording) <= width else wording[: width - 1] + "…"


def _find_claim(reading: _Reading) -> _Claim:
    text = reading.text
    denials = list(_NO_CLAIM.finditer(text))
    claims = [
        m
        for m in _CLAIM.finditer(text)
        if not any(m.start() < d.end() and d.start() < m.end() for d in denials)
    ]
    if not claims:
        return _Claim("none" if denials else "unknown")
    names = _claimant(reading, claims[0])
    notes: list[str] = []
    if not names:
        notes.append("The report says the attack was claimed but names no known group.")
    if denials:
        notes.append("The report also says no one claimed it; check which is current.")
    return _Claim("claimed", names, tuple(notes))


def _claimant(reading: _Reading, claim: re.Match[str]) -> tuple[str, ...]:
    """The group in "X claimed responsibility" or "claimed by X"."""
    sentence = reading.sentences[reading.sentence_of(claim.start())]
    actors = reading.actors_in(reading.sentence_of(claim.start()))
    if claim.group(0).lower().endswith("by"):
        after = [a for a in actors if a.start >= claim.end()]
        return after[0].names if after else ()
    # Skip an apposition: "The Islamic Resistance in Iraq, a coalition of Iran-backed
    # militias, claimed ..." is a claim by the first group, not the second.
    subject = _TRAILING_APPOSITION.sub("", reading.text[sentence.start : claim.start()])
    before = [a for a in actors if a.end <= sentence.start + len(subject)]
    if before:
        return before[-1].names
    # "Yahya Saree, the Houthi military spokesman, said ...": the apposition names the group.
    in_apposition = [a for a in actors if a.end <= claim.start()]
    if in_apposition:
        return in_apposition[-1].names
    # "The group said it ...": the group last named before.
    if _GROUP_PRONOUN.search(subject):
        earlier = [a for a in reading.actors if a.end <= sentence.start and not _is_state_force(a)]
        return earlier[-1].names if earlier else ()
    return ()


_GROUP_PRONOUN = re.compile(
    r"\b(?:the|this)\s+(?:group|movement|militia|organi[sz]ation|faction)\b", re.IGNORECASE
)
# Who speaks for a state's forces: their word that they struck is their claim.
_STATE_VOICES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        (
            "US forces",
            r"\b(?:Pentagon|CENTCOM|Central Command|White House|Defen[cs]e (?:Secretary|Department)"
            r"|(?:US|U\.S\.|American)\s+(?:(?:defen[cs]e|military|government|administration)\s+)?"
            r"officials?|(?:US|U\.S\.|American) military|[Tt]he command)\b",
        ),
        (
            "UK forces",
            r"\b(?:Ministry of Defence|MoD|Defence Secretary|British (?:government|officials?)|"
            r"UK (?:government|officials?))\b",
        ),
        ("Israeli forces", r"\b(?:IDF|Israeli military|Israel Defen[cs]e Forces)\b"),
        ("Coalition forces", r"\b(?:[Tt]he coalition|Operation Inherent Resolve|CJTF-OIR)\b"),
    )
)
# Several states speaking together: "the two governments said in a joint statement".
_JOINT_VOICE = re.compile(
    r"\b(?:(?:the two|both) (?:governments|countries|militaries)|joint statement)\b", re.I
)
_SPEECH = re.compile(
    r"\b(?:said|says|stated|announced|statement|described|acknowledged|confirmed)\b", re.I
)
_NOT_SAYING = re.compile(r"\b(?:denied|declined|did not|would not|refused)\b", re.IGNORECASE)


def _state_voice(text: str, names: Sequence[str]) -> bool:
    """Whether `text` holds a voice of the state forces `names` (all of them, if several)."""
    if len(names) > 1 and _JOINT_VOICE.search(text):
        return True
    return any(name in names and voice.search(text) for name, voice in _STATE_VOICES)


def _acknowledged(reading: _Reading, perpetrators: Sequence[str]) -> bool:
    """A state's forces struck and its own voice says so: a statement by the command, or the
    command's own release ("CENTCOM forces conducted a strike", with no one else quoted)."""
    if not perpetrators or not all(name.endswith(" forces") for name in perpetrators):
        return False
    for index in reading.attack_sentences:
        sentence = reading.sentence_text(index)
        if _NOT_SAYING.search(sentence):
            continue
        if _SPEECH.search(sentence) and _state_voice(sentence, perpetrators):
            return True
    release = not any(
        _SPEECH.search(s) for s in map(reading.sentence_text, reading.event_sentences)
    )
    commands = [
        actor
        for actor in reading.actors
        if actor.names == tuple(perpetrators)
        and _state_voice(reading.text[actor.start : actor.end], perpetrators)
    ]
    return release and bool(commands)


_BY_BEFORE = re.compile(r"\bby\s+(?:the\s+)?$", re.IGNORECASE)
# "clashes between the SDF and tribal fighters": the first party named is recorded first.
_CLASH_BETWEEN_BEFORE = re.compile(
    r"\b(?:clash(?:es|ed)?|fighting|battles?)\s+between\s+(?:the\s+)?$", re.IGNORECASE
)
_BLAME_BEFORE = re.compile(
    r"\b(?:blamed(?:\s+(?:it|the attack|the strike)\s+on)?|blaming|accused|attributed"
    r"(?:\s+\w+){0,3}\s+to|blamed\s+on|pointed(?:\s+the\s+finger)?\s+(?:at|to)|suspected)"
    r"\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_ATTACK_VERB_AFTER = re.compile(
    r"^(?:\s*,[^,]{0,80},)?\s+(?:(?!(?:was|were|is|are|been|being)\b)[\w-]+\s+){0,2}?"
    r"(?:launched|fired|struck|attacked|targeted|took part in|joined|"
    r"carried out|conducted|hit|bombed|shelled|shot(?!\s+down)|killed|ambushed|detonated|sank)\b",
    re.IGNORECASE,
)
_ATTACK_NOUN_END = re.compile(
    r"(?:strikes?|raids?|drones?|jets|warplanes|planes|aircraft|bombers?|helicopters?)$",
    re.IGNORECASE,
)
_SPEAKS_AFTER = re.compile(
    r"^\s+(?:\w+\s+)?(?:said|says|told|reported|announced|confirmed|stated)\b", re.IGNORECASE
)
_TARGET_BEFORE = re.compile(
    r"\b(?:on|against|targeting|targeted|at|hit|struck)\s+(?:the\s+)?(?:[\w-]+\s+)?$",
    re.IGNORECASE,
)


def _find_perpetrator(reading: _Reading, claim: _Claim) -> tuple[tuple[str, ...], list[str]]:
    if claim.names:
        return claim.names, []
    for actor in reading.actors:
        if _BLAME_BEFORE.search(reading.before(actor.start)):
            return actor.names, ["Perpetrator is who the report blames, not a claim."]
    for index in sorted(reading.attack_sentences):
        for actor in reading.actors_in(index):
            if _carries_out(reading, index, actor):
                note = "Perpetrator is the report's attribution, not a claim; check it."
                return actor.names, [note]
    return (), ["The report does not say who carried out the attack."]


def _carries_out(reading: _Reading, index: int, actor: _ActorMention) -> bool:
    """ "attacks by X", "X fired", or X's own weapon: "an Israeli airstrike"."""
    text = reading.text
    after = text[actor.end : reading.sentences[index].end]
    return bool(
        _BY_BEFORE.search(reading.before(actor.start))
        or _CLASH_BETWEEN_BEFORE.search(reading.before(actor.start))
        or _ATTACK_VERB_AFTER.match(after)
        or _ATTACK_NOUN_END.search(text, actor.start, actor.end)
        or (_is_state_force(actor) and _COMMAND_STRUCK.match(after))
    )


def _find_targets(reading: _Reading, perpetrator: Sequence[str]) -> list[str]:
    """Who the attack was aimed at or harmed, the most often named first."""
    tally: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for index in reading.event_sentences:
        for actor in reading.actors_in(index):
            if not _is_target(reading, index, actor):
                continue
            for name in actor.names:
                if name not in perpetrator:
                    tally[name] += 1
                    first_seen.setdefault(name, actor.start)
    ranked = sorted(tally, key=lambda name: (-tally[name], first_seen[name]))
    return ranked[:3]


def _is_target(reading: _Reading, index: int, actor: _ActorMention) -> bool:
    before = reading.before(actor.start)
    after = reading.text[actor.end : reading.sentences[index].end]
    # "attacks by X" names the attacker; "the US military said" names a source.
    if _BY_BEFORE.search(before) or _SPEAKS_AFTER.match(after):
        return False
    if _TARGET_BEFORE.search(before) or index in reading.casualty_sentences:
        return True
    return _is_state_force(actor) and not _ATTACK_NOUN_END.search(
        reading.text, actor.start, actor.end
    )


# "fired at the US base", "attacked the aircraft carrier USS Eisenhower".
_COALITION_TARGET = re.compile(
    r"\b(?:at|on|against|targeting|targeted|attacked|hit|struck|toward|towards|near|inside)\s+"
    r"(?:(?:the|a|an)\s+)?(?:[\w.'-]+\s+){0,3}?(?:(?:US|U\.S\.|American|coalition(?:'s)?)\s+"
    r"(?:[\w-]+\s+){0,2}?(?:bases?|embassy|facilit(?:y|ies)|garrison|outposts?|forces|troops|"
    r"personnel|convoys?|destroyers?|warships?|carriers?|vessels?|ships?|service members)\b"
    r"|USS\s+[A-Z]|US Navy)"
    # The victims say it: "an American service member was among the wounded".
    r"|\b(?:US|U\.S\.|American|coalition)\s+(?:[\w-]+\s+){0,2}?(?:service ?members?|soldiers?|"
    r"troops|personnel|contractors?|citizens?)\s+(?:was|were)\s+among\s+the\s+"
    r"(?:wounded|injured|dead|killed|casualties)\b"
)


def _direction(
    reading: _Reading, perpetrator: str | None, target: str | None, place: Place | None
) -> Direction:
    """By US/coalition forces when they acted; on them when they, or a base of theirs, were
    the target; other otherwise. Who acted decides first: a US strike that names the US
    troops it avenges is still a strike by them."""
    if perpetrator and direction_from_actors(perpetrator, "") is Direction.BY_COALITION:
        return Direction.BY_COALITION
    if target and direction_from_actors("", target) is Direction.ON_COALITION:
        return Direction.ON_COALITION
    if place is not None and place.hosts_coalition:
        return Direction.ON_COALITION
    aimed = any(
        _COALITION_TARGET.search(reading.sentence_text(index)) for index in reading.event_sentences
    )
    return Direction.ON_COALITION if aimed else Direction.OTHER


def _targets_for(direction: Direction, named: list[str], place: Place | None) -> list[str]:
    """The target, agreeing with the direction: an attack on a base or an embassy of the
    coalition's is aimed at it even when no force is named; a coalition strike's "in response to
    attacks on US troops" names its motive, not its target."""
    coalition = [n for n in named if direction_from_actors("", n) is Direction.ON_COALITION]
    if direction is Direction.BY_COALITION:
        return [name for name in named if name not in coalition]
    if direction is Direction.ON_COALITION and not coalition:
        facility = place.name if place is not None and place.hosts_coalition else None
        if facility and direction_from_actors("", facility) is Direction.ON_COALITION:
            return [facility, *named]
        return ["Coalition forces", *named]
    return named


# The report carries a denial that the attack, or what it is claimed to have done, happened.
_DISPUTE = re.compile(
    r"\b(?:claims?|reports?)\s+(?:was|were|is|are)\s+(?:false|untrue|baseless|unfounded|"
    r"fabricated)|\bdenied\s+that\s+(?:the|any|a|an)\s+(?:ship|vessel|base|carrier|destroyer|"
    r"aircraft|attack|strike|missile|drone)|\b(?:had|has|have|was|were)\s+not\s+(?:been\s+)?"
    r"(?:hit|attacked|struck|damaged|targeted)\b|\bno\s+(?:such\s+)?attack\s+(?:had\s+)?"
    r"(?:took place|taken place|occurred|happened)|\bno\s+(?:ship|vessel|aircraft|carrier|"
    r"destroyer|base)\s+(?:was|were|had been)\s+(?:hit|struck|damaged)",
    re.IGNORECASE,
)
# A denial of an attack is a dispute on its own; one of its effects only contradicts a claim.
_FALSE_CLAIM = re.compile(r"false|untrue|baseless|unfounded|fabricated|no such attack", re.I)
_QUOTED = re.compile(r"\b(?:said|says|told|reported)\b|\baccording to\b", re.IGNORECASE)
_NEUTRAL_SPEAKER = re.compile(
    r"\s*(?:(?:the|a|its|their|this|that)\s+)?(?:statement|release|group|movement|militia|"
    r"command|spokesman|spokesperson|it|they|he|she)?\s*",
    re.IGNORECASE,
)


def _verification(reading: _Reading, claim: _Claim, perpetrators: Sequence[str]) -> Verification:
    """Disputed when the report carries a denial that it happened; claimed when the only
    account is the perpetrator's own; else reported (one report is one source)."""
    denial = _DISPUTE.search(reading.text)
    if denial and (claim.status == "claimed" or _FALSE_CLAIM.search(denial.group(0))):
        return Verification.DISPUTED
    by_perpetrator = claim.status == "claimed" and claim.names == tuple(perpetrators)
    only_theirs = all(_own_voice(reading, span, claim.names) for span in _speakers(reading))
    if by_perpetrator and only_theirs:
        return Verification.CLAIMED
    return Verification.REPORTED


_CLAUSE_END = re.compile(r"[,.;]")


def _speakers(reading: _Reading) -> list[tuple[int, int]]:
    """Where each source the report quotes is named: "X said", "according to X"."""
    text = reading.text
    found = []
    for match in _QUOTED.finditer(text):
        sentence = reading.sentences[reading.sentence_of(match.start())]
        if match.group(0).lower() == "according to":
            stop = _CLAUSE_END.search(text, match.end(), sentence.end)
            found.append((match.end(), stop.start() if stop else sentence.end))
        else:
            start = max(
                sentence.start, *(text.rfind(c, sentence.start, match.start()) + 1 for c in ",;")
            )
            found.append((start, match.start()))
    return found


def _own_voice(reading: _Reading, span: tuple[int, int], names: Sequence[str]) -> bool:
    start, end = span
    if _NEUTRAL_SPEAKER.fullmatch(reading.text[start:end]):
        return True
    in_span = [a for a in reading.actors if start <= a.start < end]
    if any(set(a.names) <= set(names) for a in in_span):
        return True
    return _state_voice(reading.text[start:end], names)


# "said on Wednesday", "in a statement on Monday": when it was said, not when it happened.
_SPOKEN_BEFORE = re.compile(
    r"\b(?:said|says|announced|stated|told|claimed|statement|reported|added)\s+(?:\w+\s+)?"
    r"(?:on\s+|late\s+|early\s+)*$",
    re.IGNORECASE,
)


def _find_date(reading: _Reading, published: date | None) -> tuple[date | None, list[str]]:
    """The first date given with the attack; a date the report gives for when something was
    said counts only when the report gives no other."""
    spoken: list[_DateHit] = []
    for index in reading.event_sentences:
        hits = _dates_in(reading, index, published)
        said = [hit for hit in hits if _SPOKEN_BEFORE.search(reading.before(hit.start, 40))]
        spoken += said
        hits = [hit for hit in hits if hit not in said]
        if hits:
            hit = hits[0]
            if hit.value is None:
                return None, [f'"{hit.wording}" {hit.problem}; set the date by hand.']
            notes = []
            if published and hit.value > published:
                notes.append(f'"{hit.wording}" is after the publication date; check it.')
            return hit.value, notes
    if spoken and spoken[0].value is not None:
        note = f'"{spoken[0].wording}" is when it was said; the report gives no other date.'
        return spoken[0].value, [note]
    elsewhere = [
        hit.wording
        for index in range(len(reading.sentences))
        for hit in _dates_in(reading, index, published)
    ]
    if elsewhere:
        return None, [f"Dates appear only away from the attack ({', '.join(elsewhere)}); not used."]
    return None, ["The report gives no date for the attack."]


def _dates_in(reading: _Reading, index: int, published: date | None) -> list[_DateHit]:
    sentence = reading.sentences[index]
    text = reading.text
    hits: list[_DateHit] = []
    for pattern in (*_EXPLICIT_DATES, _ISO_DATE):
        for match in pattern.finditer(text, sentence.start, sentence.end):
            hits.append(_explicit_date(match, published))
    for match in _WEEKDAY.finditer(text, sentence.start, sentence.end):
        hits.append(_relative_date(match, published, _days_since_weekday))
    for match in _RELATIVE_DAY.finditer(text, sentence.start, sentence.end):
        hits.append(_relative_date(match, published, _days_since_word))
    return sorted(hits, key=lambda hit: hit.start)


def _explicit_date(match: re.Match[str], published: date | None) -> _DateHit:
    month_text = match.group("month")
    month = int(month_text) if month_text.isdigit() else _MONTHS.index(month_text[:3].lower()) + 1
    day = int(match.group("day"))
    year_text = match.group("year")
    wording = match.group(0)
    if year_text:
        year = int(year_text)
    elif published:
        # A day and month without a year is the latest such day up to publication.
        year = published.year - ((month, day) > (published.month, published.day))
    else:
        return _DateHit(match.start(), wording, None, "has no year and no publication date")
    try:
        return _DateHit(match.start(), wording, date(year, month, day))
    except ValueError:
        return _DateHit(match.start(), wording, None, "is not a valid date")


def _relative_date(
    match: re.Match[str], published: date | None, days_back: Callable[[re.Match[str], date], int]
) -> _DateHit:
    wording = match.group(0)
    if published is None:
        return _DateHit(match.start(), wording, None, "needs the publication date")
    return _DateHit(match.start(), wording, published - timedelta(days=days_back(match, published)))


def _days_since_weekday(match: re.Match[str], published: date) -> int:
    """ "On Monday" in a report is the latest Monday up to publication, that day included."""
    back = (published.weekday() - WEEKDAYS.index(match.group("weekday"))) % 7
    return 7 if back == 0 and match.group("last") else back


def _days_since_word(match: re.Match[str], published: date) -> int:
    return _DAYS_BACK[match.group("word").lower()]


def _severity(
    killed: _Casualty | None,
    injured: _Casualty | None,
    vague_killed: bool,
    vague_injured: bool,
    attack: bool,
) -> int:
    dead = killed.count.value if killed and killed.count else 0
    hurt = injured.count.value if injured and injured.count else 0
    troops_died = bool(killed and _MILITARY_VICTIMS.search(killed.victims))
    if dead and (troops_died or dead >= 10):
        return 5
    if dead or vague_killed or hurt >= 5:
        return 4
    if hurt or vague_injured:
        return 3
    return 2 if attack else 1


# ---------------------------------------------------------------------------------------------
# Composing the title and summary

_EVENT_WORDS = {
    "rocket": "rocket attack",
    "missile": "missile attack",
    "mortar": "mortar attack",
    "artillery": "artillery shelling",
    "drone": "drone attack",
    "airstrike": "airstrike",
    "IED": "IED attack",
    "suicide bomb": "suicide bombing",
    "grenade": "grenade attack",
    "gunfire": "shooting",
    "explosive": "explosion",
}
_SUB_EVENT_WORDS = {"Armed clash": "armed clash", "Abduction/forced disappearance": "abduction"}


def _event_words(weapon: _Weapon | None, attack: bool) -> str:
    if weapon is None:
        return "attack" if attack else "incident"
    if weapon.word:
        return _EVENT_WORDS.get(weapon.word, f"{weapon.word} attack")
    return _SUB_EVENT_WORDS.get(weapon.sub_event_type, "attack")


def _compose_title(words: str, place: Place | None) -> str:
    words = words[0].upper() + words[1:]  # not str.capitalize(), which would give "Ied"
    if place is None:
        return words
    return f"{words} {_at(place)} {place.name}"


def _where(place: Place | None) -> str:
    if place is None:
        return ""
    if place.kind in ("country", "sea"):
        return f" {_at(place)} {place.name}"
    shown = (place.country,) if place.kind == "province" else (place.admin1, place.country)
    within = ", ".join(part for part in shown if part)
    return f" {_at(place)} {place.name} ({within})"


def _at(place: Place) -> str:
    """The words before a place's name: on a base, in the Red Sea, in a town."""
    return {"base": "on", "sea": "in the"}.get(place.kind, "in")


def _outcome(
    killed: Count | None, injured: Count | None, vague_killed: str, vague_injured: str
) -> str:
    """ "left 3 dead"; a harm the report gives no number for keeps the report's words
    ("left dozens of people dead, with no figure given"), never a number."""
    harmed = []
    for count, vague, word in ((killed, vague_killed, "dead"), (injured, vague_injured, "injured")):
        if count is not None and count.value > 0:
            harmed.append(f"{count} {word}")
        elif count is None and vague:
            harmed.append(vague if vague.startswith("people ") else f"{_clip(vague)} {word}")
    if harmed:
        unnumbered = (
            ", with no figure given"
            if len(harmed)
            > sum(count is not None and count.value > 0 for count in (killed, injured))
            else ""
        )
        return " left " + " and ".join(harmed) + unnumbered
    if killed is not None and injured is not None:
        return " caused no reported casualties"
    if killed is not None:
        return " caused no reported deaths"
    return " was reported, with no casualty figures"


def _compose_summary(
    *,
    words: str,
    weapon: _Weapon | None,
    place: Place | None,
    occurred: date | None,
    target: str | None,
    killed: Count | None,
    injured: Count | None,
    vague_killed: str,
    vague_injured: str,
    claim: _Claim,
    perpetrator: str | None,
) -> str:
    article = "An" if words[0] in "aeiouAEIOU" else "A"
    when = f" on {occurred.day} {occurred:%B %Y}" if occurred else ""
    # Both sides of a clash are fighting; neither is simply "aimed at".
    role = "involving" if weapon and weapon.event_type == _BATTLES else "aimed at"
    aimed = f", {role} {target}," if target else ""
    outcome = _outcome(killed, injured, vague_killed, vague_injured)
    first = f"{article} {words}{_where(place)}{when}{aimed}{outcome}."
    return f"{first} {_responsibility(claim, perpetrator)}"


def _responsibility(claim: _Claim, perpetrator: str | None) -> str:
    if claim.status == "claimed":
        return f"{claim.group} claimed responsibility." if claim.group else "It was claimed."
    if claim.status == "none":
        blamed = f"; the report links it to {perpetrator}" if perpetrator else ""
        return f"No group has claimed responsibility{blamed}."
    if perpetrator:
        return f"The report attributes it to {perpetrator}."
    return "The report does not say who carried it out."


# ---------------------------------------------------------------------------------------------
# The entry point


# A report is a few thousand characters (a Telegram message holds at most 4,096); a feed
# item's linked page may run far longer, but a report gives its attack first. Only this much
# is read, so that the time a reading takes has a bound whatever arrives.
MAX_REPORT_CHARS = 8_000


def _within_cap(text: str) -> tuple[str, list[str]]:
    if len(text) <= MAX_REPORT_CHARS:
        return text, []
    # Cut at a space, not inside a word or a number.
    cut = text.rfind(" ", MAX_REPORT_CHARS // 2, MAX_REPORT_CHARS + 1)
    kept = text[: cut if cut > 0 else MAX_REPORT_CHARS]
    return kept, [f"Only the first {len(kept):,} characters of the report were read."]


def propose_incident(text: str, *, published: date | None = None) -> ReportProposal:
    """Read a pasted news report and propose the incident it describes.

    `published` (the report's date, or when it was pasted) resolves "on Monday" and dates
    written without a year. Only the first MAX_REPORT_CHARS characters are read.
    """
    text, cap_notes = _within_cap(text)
    reading = _Reading.of(text)
    weapon, weapon_notes = _choose_weapon(reading)
    place, place_notes = _choose_place(reading)
    killed, vague_killed, killed_notes = _choose_casualty(reading, "killed")
    injured, vague_injured, injured_notes = _choose_casualty(reading, "injured")
    claim = _find_claim(reading)
    perpetrators, perpetrator_notes = _find_perpetrator(reading, claim)
    if claim.status == "unknown" and _acknowledged(reading, perpetrators):
        claim = _Claim("claimed", perpetrators, ("The forces' own command says they struck.",))
    perpetrator = _join_names(perpetrators) if perpetrators else None
    targets = _find_targets(reading, perpetrators)
    direction = _direction(reading, perpetrator, _join_names(targets) if targets else None, place)
    targets = _targets_for(direction, targets, place)
    target = _join_names(targets) if targets else None
    occurred, date_notes = _find_date(reading, published)
    killed_count = killed.count if killed else None
    injured_count = injured.count if injured else None
    attack = weapon is not None or bool(reading.attack_sentences)
    words = _event_words(weapon, attack)
    return ReportProposal(
        title=_compose_title(words, place),
        occurred=occurred,
        place=place,
        country=place.country if place else None,
        event_type=weapon.event_type if weapon else None,
        sub_event_type=weapon.sub_event_type if weapon else None,
        weapon=weapon.word if weapon else None,
        killed=killed_count,
        injured=injured_count,
        perpetrator=perpetrator,
        target=target,
        actors=tuple(dict.fromkeys(name for actor in reading.actors for name in actor.names)),
        claimed_by=claim.group,
        claim_status=claim.status,
        direction=direction,
        verification=_verification(reading, claim, perpetrators),
        severity=_severity(killed, injured, bool(vague_killed), bool(vague_injured), attack),
        summary=_compose_summary(
            words=words,
            weapon=weapon,
            place=place,
            occurred=occurred,
            target=target,
            killed=killed_count,
            injured=injured_count,
            vague_killed=vague_killed,
            vague_injured=vague_injured,
            claim=claim,
            perpetrator=perpetrator,
        ),
        notes=tuple(
            dict.fromkeys(
                [
                    *place_notes,
                    *weapon_notes,
                    *killed_notes,
                    *injured_notes,
                    *claim.notes,
                    *perpetrator_notes,
                    *date_notes,
                    *cap_notes,
                ]
            )
        ),
    )
