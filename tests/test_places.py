"""The one gazetteer: look-ups by any spelling, suggestions, bounding boxes, place queries."""

from __future__ import annotations

import pytest

from bot.places import UnknownPlace, gazetteer, resolve_place, spelling_key
from bot.subscriptions.areas import place_filter


def test_spellings_differing_in_case_dashes_and_quotes_share_a_key() -> None:
    assert spelling_key("Ain al-Asad") == spelling_key("ain  AL asad")
    assert spelling_key("Dar'a") == spelling_key("Dara")


@pytest.mark.parametrize(
    ("spelling", "name", "kind"),
    [
        ("iraq", "Iraq", "country"),
        ("UAE", "United Arab Emirates", "country"),
        ("Al Anbar", "Anbar Governorate", "province"),
        ("Anbar", "Anbar Governorate", "province"),
        ("Ain al Asad Airbase", "Ain al-Asad Air Base", "base"),
        ("ain al-asad", "Ain al-Asad Air Base", "base"),
        # The names the bases go by in US statements and reports.
        ("Mission Support Site Conoco", "Conoco Gas Field", "base"),
        ("MSS Green Village", "Al-Omar Oil Field", "base"),
        ("Mission Support Site Green Village", "Al-Omar Oil Field", "base"),
        ("Baghdad Diplomatic Support Center", "Victory Base Complex", "base"),
        ("Rukban camp", "Rukban", "city"),
        ("red sea", "Red Sea", "sea"),
    ],
)
def test_places_are_found_by_any_spelling(spelling: str, name: str, kind: str) -> None:
    found = gazetteer().find(spelling)
    assert (found[0].name, found[0].kind) == (name, kind)


def test_acled_province_spellings_find_the_province_not_the_city() -> None:
    for spelling, admin1 in [("Al Basrah", "Basra"), ("Al Mafraq", "Mafraq"), ("Idleb", "Idlib")]:
        province = gazetteer().province(spelling)
        assert province is not None and province.admin1 == admin1


def test_provinces_and_sites_know_their_country_and_sites_their_coordinates() -> None:
    known = gazetteer()
    province = known.province("Al Anbar")
    site = known.site("Ain al Asad Airbase")
    assert province is not None and province.country == "Iraq" and province.admin1 == "Anbar"
    assert site is not None and (site.country, site.admin1) == ("Iraq", "Anbar")
    assert known.in_country("Iraq", site.latitude, site.longitude)


def test_a_lookup_within_a_country_ignores_other_countries() -> None:
    assert gazetteer().site("Aleppo", country="Iraq") is None
    assert gazetteer().province("Anbar", country="Syria") is None


def test_every_site_lies_in_its_countrys_box() -> None:
    known = gazetteer()
    outside = [
        p.name
        for p in known.places
        # A sea area lies off its country, within a box of its own.
        if p.kind not in ("country", "sea")
        and not known.in_country(p.country, p.latitude, p.longitude)
    ]
    assert outside == []


def test_coordinates_far_from_a_country_are_outside_it() -> None:
    assert not gazetteer().in_country("Iraq", 33.5, 36.3)  # Damascus
    assert not gazetteer().in_country("Jordan", 95.0, 200.0)


@pytest.mark.parametrize(
    ("spelling", "suggested"),
    [("Irak", "Iraq"), ("Sirya", "Syria"), ("Anbr", "Anbar"), ("Lebannon", "Lebanon")],
)
def test_a_misspelling_gets_the_place_it_resembles(spelling: str, suggested: str) -> None:
    assert gazetteer().country(spelling) is None
    assert suggested in gazetteer().suggest(spelling)


def test_a_name_like_nothing_gets_no_suggestion() -> None:
    assert gazetteer().suggest("Narnia", kinds={"country"}) == []


def test_suggestions_can_be_limited_to_a_kind() -> None:
    assert gazetteer().suggest("Irak", kinds={"country"}) == ["Iraq"]


@pytest.mark.parametrize(
    ("text", "countries", "term"),
    [
        ("levant", ("Lebanon", "Israel", "Palestine", "Jordan"), "levant"),
        ("jordan", ("Jordan",), "Jordan"),
        ("Al Anbar", (), "Anbar"),
        ("Ain al Asad Airbase", (), "Ain al-Asad Air Base"),
        ("al-Asad", (), "Ain al-Asad Air Base"),
        ("Tanf Garr", (), "Tanf Garr"),
    ],
)
def test_a_place_query_reads_regions_countries_provinces_sites_and_parts_of_names(
    text: str, countries: tuple[str, ...], term: str
) -> None:
    query = resolve_place(text)
    assert (tuple(place_filter(query).countries), query.term) == (countries, term)


def test_the_red_sea_is_the_sea_area_and_the_region_named_after_it_covers_it() -> None:
    sea = resolve_place("Red Sea")
    assert sea.region is None and sea.place is not None and sea.place.kind == "sea"
    region = place_filter(resolve_place("Red Sea/Yemen"))
    assert tuple(region.countries) == ("Yemen",)
    assert {area.site for area in region.sites} == {"Red Sea", "Bab el-Mandeb", "Gulf of Aden"}


def test_an_unknown_place_query_says_so_with_suggestions() -> None:
    with pytest.raises(UnknownPlace) as raised:
        resolve_place("Irak")
    assert str(raised.value) == "I don't know the place Irak — did you mean Iraq?"


def test_a_text_longer_than_any_place_name_is_compared_with_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def compared(typed: str, known: str) -> float:
        raise AssertionError(f"compared {typed[:20]}… with {known}")

    monkeypatch.setattr("bot.places._likeness", compared)
    junk = " ".join(["qwzx"] * 800)
    assert gazetteer().suggest(junk) == []
    with pytest.raises(UnknownPlace) as raised:
        resolve_place(junk)
    assert raised.value.suggestions == []
