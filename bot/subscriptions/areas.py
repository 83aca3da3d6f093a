"""What a subscription's places cover, from the gazetteer's hierarchy: region → country →
province → site.

A subscriber names places at any level (`/subscribe Levant`, `Iraq`, `Anbar`,
`Ain al-Asad`) and watches sites with a radius of their own (`/watch Ain al-Asad 30 km`).
Alerts are matched in SQL on what those choices cover: countries, provinces, and sites
with their coordinates and radius (a site followed with /subscribe reaches
DEFAULT_SITE_RADIUS_KM around it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.models import DEFAULT_SITE_RADIUS_KM, IncidentContent, Watch
from bot.places import SPECIFICITY, Place, PlaceQuery, gazetteer
from bot.regions import REGION_SEAS, REGIONS, region_named
from storage.incidents import PlaceFilter
from storage.outbox import AlertPlace
from storage.subscribers import SiteArea

_COUNTRIES_OF_REGIONS: tuple[str, ...] = tuple(
    dict.fromkeys(country for countries in REGIONS.values() for country in countries)
)
# The menu's order: regions, then their countries, then any other place chosen.
ORDER = {
    name: index for index, name in enumerate(dict.fromkeys([*REGIONS, *_COUNTRIES_OF_REGIONS]))
}


@dataclass(frozen=True)
class Coverage:
    countries: list[str]
    provinces: list[tuple[str, str]]  # (country, admin1)
    sites: list[SiteArea]


def place_named(text: str) -> str | None:
    """The region, country, province or site a user means ("levant", "anbar",
    "ain al asad"), by the name it is shown under; None if the bot knows no such place."""
    region = region_named(text)
    if region is not None:
        return region
    place = _place(text)
    return place.short_name if place else None


def site_named(text: str) -> Place | None:
    """The base or town a user means, or None."""
    return next((p for p in gazetteer().find(text) if p.is_site), None)


def suggestions(text: str, *, sites_only: bool = False) -> list[str]:
    """Names close to a spelling that matched nothing, for a "did you mean"."""
    if sites_only:
        return gazetteer().suggest(text, kinds={"base", "city"})
    return gazetteer().suggest(text, extra=REGIONS)


def longest_name_words() -> int:
    """The most words any place name or alias has, for reading names out of a sentence."""
    spellings = [s for p in gazetteer().places for s in p.spellings]
    return max(len(name.split()) for name in [*ORDER, *spellings])


def order_key(name: str) -> tuple[int, int, str]:
    """Regions and their countries in the menu's order, then provinces, then sites."""
    if name in ORDER:
        return (0, ORDER[name], name)
    place = _place(name)
    return (1, SPECIFICITY[place.kind] if place else 9, name)


def coverage(places: Sequence[str], watches: Iterable[Watch]) -> Coverage:
    countries: list[str] = []
    provinces: list[tuple[str, str]] = []
    sites: dict[str, SiteArea] = {}
    for name in places:
        if name in REGIONS:
            countries.extend(REGIONS[name])
            for sea in REGION_SEAS.get(name, ()):
                sites.setdefault(sea, _area(_site(sea), DEFAULT_SITE_RADIUS_KM, watched=False))
            continue
        place = _place(name)
        if place is None or place.kind == "country":
            countries.append(place.name if place else name)
        elif place.kind == "province":
            provinces.append((place.country, place.admin1))
        else:
            sites[place.name] = _area(place, DEFAULT_SITE_RADIUS_KM, watched=False)
    for watch in watches:
        place = site_named(watch.site)
        if place is not None:  # a watch names a site of the gazetteer when it is saved
            sites[place.name] = _area(place, watch.radius_km, watched=True)
    return Coverage(
        list(dict.fromkeys(countries)), list(dict.fromkeys(provinces)), [*sites.values()]
    )


def place_filter(query: PlaceQuery) -> PlaceFilter:
    """The incidents a place someone asks about (/latest, /search, /count) covers: the
    same ones its alerts reach — a region's countries and seas, a country, a province, a
    site by any of its spellings or within its area — and, for a part of a name ("Asad"),
    those whose location holds it."""
    if query.region is not None:
        covered = coverage([query.region], ())
    elif query.place is not None:
        covered = coverage([query.place.short_name], ())
    else:
        return PlaceFilter(text=query.text)
    place = query.place
    if place is None or place.kind == "country":
        return covered_filter(covered)
    # A province or site also by the name in a location the gazetteer does not know, as
    # reported ("Tower 22 (near Rukban)").
    spellings = place.spellings if place.is_site else ()
    return covered_filter(covered, spellings=spellings, text=query.term)


def covered_filter(
    covered: Coverage, *, spellings: Sequence[str] = (), text: str | None = None
) -> PlaceFilter:
    """The incidents alerts about `covered` reach, for reading and digests alike: also
    those at a gazetteer site inside one of its areas with no coordinates of their own,
    which alerts place at the site's (alert_place)."""
    return PlaceFilter(
        covered.countries,
        covered.provinces,
        covered.sites,
        spellings,
        text,
        sites_within=sites_placed_in(covered.sites),
    )


def _site(name: str) -> Place:
    """The site of the gazetteer with this canonical name."""
    found = gazetteer().site(name)
    if found is None or found.name != name:
        raise KeyError(name)
    return found


def _area(place: Place, radius_km: float, *, watched: bool) -> SiteArea:
    """A site's circle; a sea area covers its whole bounding box (an attack on a ship in
    the Red Sea is rarely within a radius of the point the gazetteer gives for it)."""
    box = place.bbox if place.kind == "sea" else None
    area = (box.south, box.north, box.west, box.east) if box else None
    return SiteArea(place.name, place.latitude, place.longitude, radius_km, watched, area)


def _place(text: str) -> Place | None:
    found = gazetteer().find(text)
    if not found:
        return None
    # A country or province before a site of the same name: "Erbil" is the province
    # around the city and the base; "Kuwait" the country.
    return min(found, key=lambda p: SPECIFICITY[p.kind])


def alert_place(incident: IncidentContent) -> AlertPlace:
    """Where an incident is, in the names and coordinates alerts are matched on."""
    known = gazetteer()
    site = known.site(incident.location, incident.country)
    province = known.province(incident.admin1, incident.country) if incident.admin1 else None
    if province is not None:
        admin1 = province.admin1
    else:
        admin1 = incident.admin1 or (site.admin1 if site else "")
    point: tuple[float | None, float | None] = (incident.latitude, incident.longitude)
    if incident.latitude is None and site is not None:
        point = (site.latitude, site.longitude)
    return AlertPlace(incident.country, admin1, site.name if site else incident.location, *point)


def sites_placed_in(areas: Iterable[SiteArea]) -> list[str]:
    """The gazetteer's sites lying in any of `areas`."""
    return sorted({name for area in areas for name in _sites_in(area)})


@lru_cache(maxsize=1024)
def _sites_in(area: SiteArea) -> tuple[str, ...]:
    south, north, west, east = area.box()
    return tuple(
        place.name
        for place in gazetteer().places
        if place.is_site
        and south <= place.latitude <= north
        and west <= place.longitude <= east
        and (
            area.area is not None
            or distance_km(area.latitude, area.longitude, place.latitude, place.longitude)
            <= area.radius_km
        )
    )


_EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance, as the SQL matching computes it."""
    dlat, dlon = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = (
        math.sin(dlat / 2) ** 2
        + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(dlon / 2) ** 2
    )
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def countries_covered(places: Sequence[str], watches: Iterable[Watch] = ()) -> list[str]:
    """Every country that holds one of the places: what digests list incidents from."""
    covered = coverage(places, watches)
    known = gazetteer()
    around = [c for c, _ in covered.provinces]
    for area in covered.sites:
        site = known.site(area.site)
        around.extend([site.country] if site else [])
    return list(dict.fromkeys([*covered.countries, *around]))


def tension_places(places: Sequence[str], watches: Iterable[Watch] = ()) -> list[str]:
    """The regions and countries whose tension a digest shows: a province or site is
    shown through its country, as the index is computed per country."""
    regions = [name for name in places if name in REGIONS]
    in_regions = {country for name in regions for country in REGIONS[name]}
    countries = [c for c in countries_covered(places, watches) if c not in in_regions]
    return list(dict.fromkeys([*regions, *countries]))
