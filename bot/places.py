"""The one gazetteer: every country, province and site the bot knows, and how to find them.

Everything that takes a place from a person or a file checks it here — the forms, `/edit`,
imports, the article extractor, and the commands that ask about a place (`/latest`,
`/search`, `/subscribe`, `/tension`) — so that "Al Anbar" from an ACLED export and
"Anbar" typed in `/post` land on the same name, and "Irak" is answered with a suggestion
rather than with an empty result.

The hierarchy is country → province (admin1) → site (a base, town or sea area). Provinces
and sites know their country (a sea area the one whose record it is mostly in); sites carry
coordinates; countries and sea areas a generous bounding box.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.models import IncidentContent
from bot.regions import REGIONS, region_named

PlaceKind = Literal["base", "city", "sea", "province", "country"]

# A base is more specific than the city it serves, and so on up; a sea area is a site
# beside the towns.
SPECIFICITY: dict[str, int] = {"country": 0, "province": 1, "city": 2, "sea": 2, "base": 3}
SITE_KINDS: frozenset[str] = frozenset({"base", "city", "sea"})
# Places with a bounding box: an incident's coordinates must lie in one.
_BOXED_KINDS: frozenset[str] = frozenset({"country", "sea"})


@dataclass(frozen=True)
class BoundingBox:
    south: float
    west: float
    north: float
    east: float

    def holds(self, latitude: float, longitude: float) -> bool:
        return self.south <= latitude <= self.north and self.west <= longitude <= self.east


def _area(box: BoundingBox | None) -> float:
    return (box.north - box.south) * (box.east - box.west) if box else 0.0


@dataclass(frozen=True)
class Place:
    """A place from the gazetteer, with the spellings it is found by."""

    name: str  # canonical, e.g. "Ain al-Asad Air Base"
    kind: str  # "base" | "city" | "sea" | "province" | "country"
    country: str  # spelled as in bot.regions
    admin1: str  # province/governorate as incidents record it; "" for a country
    latitude: float
    longitude: float
    aliases: tuple[str, ...]
    bbox: BoundingBox | None = None  # countries and sea areas
    # Spellings of a province's admin1 in data ("Al Basrah"), not looked for in prose.
    admin1_aliases: tuple[str, ...] = ()
    # A base where US or coalition forces are stationed: an attack on it is one on them.
    hosts_coalition: bool = False

    @property
    def spellings(self) -> tuple[str, ...]:
        """The name, the aliases and, for a province, the admin1 names incidents use."""
        extra = (self.admin1,) if self.kind == "province" and self.admin1 else ()
        return (self.name, *self.aliases, *extra, *self.admin1_aliases)

    @property
    def short_name(self) -> str:
        """How people name it: a province by its admin1 ("Anbar"), others by name."""
        return self.admin1 if self.kind == "province" and self.admin1 else self.name

    @property
    def is_site(self) -> bool:
        return self.kind in SITE_KINDS


class _BoxRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    south: float = Field(ge=-90, le=90)
    west: float = Field(ge=-180, le=180)
    north: float = Field(ge=-90, le=90)
    east: float = Field(ge=-180, le=180)


class _PlaceRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    kind: PlaceKind
    country: str = Field(min_length=1)
    admin1: str
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    aliases: tuple[str, ...] = ()
    bbox: _BoxRecord | None = None
    admin1_aliases: tuple[str, ...] = ()
    hosts_coalition: bool = False

    @model_validator(mode="after")
    def _countries_have_boxes(self) -> _PlaceRecord:
        if (self.kind in _BOXED_KINDS) != (self.bbox is not None):
            raise ValueError("a country or sea area, and only these, has a bounding box")
        if self.admin1_aliases and self.kind != "province":
            raise ValueError("only a province has admin1 aliases")
        if self.hosts_coalition and self.kind != "base":
            raise ValueError("only a base hosts coalition forces")
        return self


class _GazetteerFile(BaseModel):
    note: str = ""
    places: list[_PlaceRecord]


_SUGGESTION_CUTOFF = 0.72
# No place name is longer than about 60 characters: a longer text is no slip for one, and
# comparing it with every spelling would hold up the bot for everyone (a paste of 4,000
# characters took a tenth of a second per command).
LONGEST_PLACE_CHARS = 80
# How much of a name that matched nothing a reply quotes: a paste must not swamp it.
_QUOTED_CHARS = 40


# Letters that transliterations of the same Arabic or Persian sound swap freely.
_SOUNDS = str.maketrans({"q": "k", "c": "k", "w": "u", "y": "i", "e": "i", "o": "u"})
# Only suggestions nearly as close as the closest: "Irak" is Iraq rather than Iran.
_SUGGESTION_SPREAD = 0.05


def _likeness(typed: str, known: str) -> float:
    """difflib's similarity, averaged with that of the letters in any order (a transposed
    "Sirya" is a slip) and with that of the sounds ("Irak" sounds like "Iraq")."""
    in_order = difflib.SequenceMatcher(None, typed, known).ratio()
    any_order = difflib.SequenceMatcher(None, sorted(typed), sorted(known)).ratio()
    sounds = difflib.SequenceMatcher(
        None, typed.translate(_SOUNDS), known.translate(_SOUNDS)
    ).ratio()
    return (in_order + any_order + sounds) / 3


# Arabic's article, as transliterations write it or leave it out: "Al Mafraq" = "Mafraq".
_ARTICLES = frozenset({"al", "el", "ar", "as", "ad", "an", "at", "ash", "az"})


def spelling_key(text: str) -> str:
    """What two spellings must share to name the same place: case, dashes, quotes, spacing
    and the Arabic article aside ("Ain al-Asad" = "ain Asad"; "Dar'a" = "Dara")."""
    folded = re.sub(r"['\u2019\u2018`\u02bc]", "", text.casefold())
    words = re.findall(r"[^\W_]+", folded)
    kept = [word for word in words if word not in _ARTICLES]
    return " ".join(kept or words)


class Gazetteer:
    """Look-ups by any spelling, and suggestions for a spelling that matches nothing."""

    def __init__(self, places: Iterable[Place]) -> None:
        self.places: tuple[Place, ...] = tuple(places)
        self._by_key: dict[str, list[Place]] = {}
        for place in sorted(self.places, key=lambda p: -SPECIFICITY[p.kind]):
            for spelling in place.spellings:
                found = self._by_key.setdefault(spelling_key(spelling), [])
                if place not in found:
                    found.append(place)

    @cached_property
    def countries(self) -> tuple[Place, ...]:
        return tuple(place for place in self.places if place.kind == "country")

    def find(self, text: str) -> list[Place]:
        """Every place spelled `text`, most specific first ("Erbil": the city, then the
        province)."""
        return list(self._by_key.get(spelling_key(text), ()))

    def country(self, text: str) -> Place | None:
        """The country spelled `text` ("iraq", "UAE"), or None."""
        return next((p for p in self.find(text) if p.kind == "country"), None)

    def country_named_by(self, text: str) -> Place:
        """The country `text` spells; ValueError naming close ones (or all) when none."""
        country = self.country(text)
        if country is None:
            names = self.suggest(text, kinds={"country"})
            hint = did_you_mean(names) or (
                f"; known countries: {', '.join(p.name for p in self.countries)}"
            )
            raise ValueError(f"unknown country “{text}”{hint}")
        return country

    def country_named(self, name: str) -> Place:
        """The country with this canonical name; KeyError for one the gazetteer lacks."""
        found = self.country(name)
        if found is None or found.name != name:
            raise KeyError(name)
        return found

    def province(self, text: str, country: str | None = None) -> Place | None:
        """The province (admin1) spelled `text`, in `country` when given."""
        return next(
            (
                p
                for p in self.find(text)
                if p.kind == "province" and (country is None or p.country == country)
            ),
            None,
        )

    def site(self, text: str, country: str | None = None) -> Place | None:
        """The base, town or sea area spelled `text`, in `country` when given (a sea area
        borders several countries: it is found whichever is given)."""
        return next(
            (
                p
                for p in self.find(text)
                if p.is_site and (country is None or p.country == country or p.kind == "sea")
            ),
            None,
        )

    def in_country(self, country: str, latitude: float, longitude: float) -> bool:
        """Whether a point lies within the country's (generous) bounding box."""
        box = self.country_named(country).bbox
        return box is not None and box.holds(latitude, longitude)

    def sea_area_at(self, latitude: float, longitude: float) -> Place | None:
        """The smallest sea area whose (generous) bounding box holds the point, or None."""
        holding = [
            p
            for p in self.places
            if p.kind == "sea" and p.bbox is not None and p.bbox.holds(latitude, longitude)
        ]
        return min(holding, key=lambda p: _area(p.bbox), default=None)

    def admin1_names(self, country: str) -> frozenset[str]:
        """The admin1 names incidents in `country` use: its provinces' and its sites'."""
        return frozenset(p.admin1 for p in self.places if p.country == country and p.admin1)

    def suggest(
        self,
        text: str,
        *,
        kinds: Iterable[str] | None = None,
        country: str | None = None,
        extra: Iterable[str] = (),
        limit: int = 3,
    ) -> list[str]:
        """Short names close to a spelling that matched nothing ("Irak" → Iraq);
        `extra` adds other names to choose from, such as the regions. A text longer than
        any place name gets none."""
        if len(text) > LONGEST_PLACE_CHARS:
            return []
        wanted = set(kinds) if kinds is not None else None
        names_by_key: dict[str, str] = {spelling_key(name): name for name in extra}
        for place in self.places:
            if wanted is not None and place.kind not in wanted:
                continue
            if country is not None and place.country != country:
                continue
            for spelling in place.spellings:
                names_by_key.setdefault(spelling_key(spelling), place.short_name)
        key = spelling_key(text)
        scored = sorted(
            ((_likeness(key, known), known) for known in names_by_key),
            key=lambda pair: -pair[0],
        )
        if not scored or scored[0][0] < _SUGGESTION_CUTOFF:
            return []
        floor = max(_SUGGESTION_CUTOFF, scored[0][0] - _SUGGESTION_SPREAD)
        close = [known for score, known in scored if score >= floor]
        return list(dict.fromkeys(names_by_key[known] for known in close))[:limit]

    def mentions(self, text: str) -> bool:
        """Whether `text` is part of some known spelling ("Asad" of "Ain al-Asad")."""
        key = spelling_key(text)
        return len(key) >= 3 and any(key in known for known in self._by_key)


def _gazetteer_text() -> str:
    return resources.files("bot.data").joinpath("gazetteer.json").read_text("utf-8")


@lru_cache(maxsize=1)
def gazetteer_fingerprint() -> str:
    """A digest of the bundled gazetteer: stored places are re-spelled when it changes."""
    return hashlib.sha256(_gazetteer_text().encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The bundled gazetteer; the file is read and validated once per process."""
    parsed = _GazetteerFile.model_validate_json(_gazetteer_text())
    return Gazetteer(
        Place(
            **record.model_dump(exclude={"bbox"}),
            bbox=BoundingBox(**record.bbox.model_dump()) if record.bbox else None,
        )
        for record in parsed.places
    )


def quoted(text: str) -> str:
    """A name typed by someone, as a reply repeats it: cut short with "…" when long."""
    return text if len(text) <= _QUOTED_CHARS else text[: _QUOTED_CHARS - 1] + "…"


def did_you_mean(names: list[str]) -> str:
    """ " — did you mean Iraq?", or "" without suggestions."""
    if not names:
        return ""
    if len(names) == 1:
        return f" — did you mean {names[0]}?"
    return f" — did you mean {', '.join(names[:-1])} or {names[-1]}?"


# ---------------------------------------------------------------------------------------------
# Places people ask about: /latest, /search, /subscribe, /tension


class UnknownPlace(ValueError):
    """A place name that is neither a region nor in the gazetteer."""

    ANY_PLACE = ". Try a region, country, province or base, e.g. Levant, Iraq, Anbar or Tower 22."

    def __init__(self, text: str, suggestions: list[str], otherwise: str = ANY_PLACE) -> None:
        """`otherwise` is what to say after the name when there is nothing to suggest."""
        self.text = text
        self.suggestions = suggestions
        hint = did_you_mean(suggestions) or otherwise
        super().__init__(f"I don't know the place {quoted(text)}{hint}")


@dataclass(frozen=True)
class PlaceQuery:
    """What someone asking about `text` means: a region's countries, or one name that a
    country, an admin1 region or a location may carry."""

    text: str
    region: str | None = None
    place: Place | None = None

    @property
    def term(self) -> str:
        """The name to match in incidents: the canonical one when the place is known."""
        if self.place is None:
            return self.text
        return self.place.admin1 if self.place.kind == "province" else self.place.name

    @property
    def label(self) -> str:
        return self.region or (self.place.name if self.place else self.text)


def not_a_region_or_country(text: str) -> str:
    """Why `text` is not a region or country, for a command that takes only those
    (/troops): a province or site names its country, anything else gets "I don't know the
    place X — did you mean …?"."""
    text = " ".join(text.split())
    known = gazetteer().find(text)
    if known:
        country = known[0].country
        where = "a sea area off" if known[0].kind == "sea" else "in"
        return (
            f"{quoted(text)} is {where} {country}; choose its country ({country}) or region here."
        )
    suggestions = gazetteer().suggest(text, kinds={"country"}, extra=REGIONS)
    return str(UnknownPlace(text, suggestions, ". Try a region or country, e.g. Levant or Iraq."))


# A key naming a region or a place of the gazetteer in little room (a button's callback
# data holds 64 bytes): this mark, then a digest of the canonical name.
_KEY_MARK = "="


def _name_digest(name: str) -> str:
    return _KEY_MARK + hashlib.blake2b(name.encode("utf-8"), digest_size=5).hexdigest()


@lru_cache(maxsize=1)
def _queries_by_key() -> dict[str, PlaceQuery]:
    known = {_name_digest(region): PlaceQuery(region, region=region) for region in REGIONS}
    for place in gazetteer().places:
        known.setdefault(_name_digest(place.name), PlaceQuery(place.name, place=place))
    return known


def place_key(query: PlaceQuery) -> str:
    """A short key for the place asked about (11 characters for a region or a place of the
    gazetteer; a part of a name as typed), read back by place_of_key."""
    if query.region is not None:
        return _name_digest(query.region)
    if query.place is not None:
        return _name_digest(query.place.name)
    return query.text


def place_of_key(key: str) -> PlaceQuery | None:
    """The place a key from place_key names; None for a key that names none (forged, or
    from a gazetteer since changed)."""
    if key.startswith(_KEY_MARK):
        return _queries_by_key().get(key)
    try:
        return resolve_place(key)
    except UnknownPlace:
        return None


def resolve_place(text: str) -> PlaceQuery:
    """Read a place someone asks about; UnknownPlace (with suggestions) when it is none."""
    text = " ".join(text.split())
    if region := region_named(text):
        return PlaceQuery(text, region=region)
    known = gazetteer()
    found = known.find(text)
    if found:
        # A country or province before a site: "Erbil" asks about the province around it.
        return PlaceQuery(text, place=min(found, key=lambda p: SPECIFICITY[p.kind]))
    if known.mentions(text):
        return PlaceQuery(text)
    raise UnknownPlace(text, known.suggest(text, extra=REGIONS))


# ---------------------------------------------------------------------------------------------
# Where an incident happened: checked against the gazetteer wherever one is written


class PlaceProblems(ValueError):
    """Everything wrong with an incident's place, keyed by the model field at fault."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {text}" for name, text in problems.items()))
        self.problems = problems


_Incident = TypeVar("_Incident", bound=IncidentContent)


def settle_place(incident: _Incident) -> _Incident:
    """The incident with its place in the gazetteer's names, or PlaceProblems."""
    settled = settle(
        incident.country, incident.admin1, incident.location, incident.latitude, incident.longitude
    )
    return incident.model_copy(update=settled)


def settle(
    country_text: str,
    admin1_text: str,
    location: str,
    latitude: float | None,
    longitude: float | None,
) -> dict[str, object]:
    """The place's fields as the gazetteer names them, or PlaceProblems.

    The country must be known; a province is written as the gazetteer writes it; a known
    site takes its canonical name (and its province and coordinates when none are given);
    a site the gazetteer lacks needs coordinates; coordinates must lie in the country, or
    in the sea area named as the location.
    """
    known = gazetteer()
    try:
        country = known.country_named_by(country_text)
    except ValueError as unknown:
        raise PlaceProblems({"country": str(unknown)}) from None
    problems: dict[str, str] = {}
    settled: dict[str, object] = {"country": country.name}
    admin1 = _settle_admin1(admin1_text, country.name, problems)
    site = known.site(location, country.name) if location else None
    wider = known.find(location) if location else []
    if site is not None:
        settled["location"] = site.name
        if admin1 and site.admin1 and admin1 != site.admin1 and "admin1" not in problems:
            problems["admin1"] = (
                f"{site.name} is in {site.admin1}, not {admin1}: write {site.admin1}, or "
                "leave the province out"
            )
        admin1 = admin1 or site.admin1
    elif not location or any(
        p.kind in ("province", "country") and p.country == country.name for p in wider
    ):
        pass  # an event recorded at province or country level
    elif latitude is None or longitude is None:
        elsewhere = sorted({p.country for p in wider if p.country != country.name})
        note = f" (that is in {', '.join(elsewhere)})" if elsewhere else ""
        names = known.suggest(location, kinds=SITE_KINDS, country=country.name)
        problems["location"] = (
            f"I don't know “{location}” in {country.name}{note}"
            f"{did_you_mean(names) or '.'} A place not in the gazetteer needs its coordinates."
        )
    if latitude is not None and longitude is not None:
        problem = _point_problem(country.name, site, latitude, longitude)
        if problem:
            problems["latitude"] = problem
    if problems:
        raise PlaceProblems(problems)
    settled["admin1"] = admin1
    return settled


def respell(country_text: str, admin1_text: str, location: str) -> tuple[str, str, str]:
    """A stored place (country, admin1, location) in the gazetteer's spelling, for rows
    written before it knew them ("Al Anbar", "Ain al Asad Airbase"): each name it knows
    takes its canonical form, a known site gives an empty admin1 its province, and
    whatever it does not know stays as it is."""
    known = gazetteer()
    country = known.country(country_text)
    if country is None:
        return country_text, admin1_text, location
    site = known.site(location, country.name) if location else None
    admin1 = admin1_text
    if admin1:
        admin1 = _known_admin1(admin1, country.name) or admin1
    elif site is not None:
        admin1 = site.admin1
    return country.name, admin1, site.name if site else location


def _point_problem(country: str, site: Place | None, latitude: float, longitude: float) -> str:
    """Why the point cannot be where the incident is, or "": it must lie in the country
    or, at sea, in the sea area named as the location."""
    known = gazetteer()
    if known.in_country(country, latitude, longitude):
        return ""
    point = f"{latitude:g}, {longitude:g}"
    if site is not None and site.kind == "sea":
        if site.bbox is not None and site.bbox.holds(latitude, longitude):
            return ""
        return f"{point} is neither in {country} nor in the {site.name}"
    at_sea = known.sea_area_at(latitude, longitude)
    # Only a sea off this country, or one away from every country's box, is worth naming:
    # a point off Yemen is no hint for an incident recorded in Iraq.
    if at_sea is not None and (
        at_sea.country == country
        or not any(c.bbox and c.bbox.holds(latitude, longitude) for c in known.countries)
    ):
        return (
            f"{point} is not in {country}; for a place at sea give the sea area as "
            f"location ({at_sea.name})"
        )
    return f"{point} is not in {country}"


def _settle_admin1(text: str, country: str, problems: dict[str, str]) -> str:
    """A province as the gazetteer writes it; one it lacks stays as given unless it looks
    like a slip for one it has."""
    if not text:
        return ""
    if spelled := _known_admin1(text, country):
        return spelled
    known = gazetteer()
    names = known.suggest(text, kinds={"province"}, country=country)
    if names:
        problems["admin1"] = f"unknown province “{text}” in {country}{did_you_mean(names)}"
    return text


def _known_admin1(text: str, country: str) -> str | None:
    """The admin1 name a province or site of `country` spells `text` as, or None."""
    known = gazetteer()
    province = known.province(text, country)
    if province is not None:
        return province.admin1
    by_key = {spelling_key(name): name for name in known.admin1_names(country)}
    return by_key.get(spelling_key(text))
