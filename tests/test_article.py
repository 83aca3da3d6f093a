"""Proposing an incident draft from a pasted news report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.models import Count, Qualifier
from bot.newsroom.extracted_form import fields_from_proposal
from bot.newsroom.extractor import ReportProposal, propose_incident
from bot.places import gazetteer
from bot.regions import REGIONS

FIXTURES = Path(__file__).parent / "fixtures"
AIN_AL_ASAD_REPORT = FIXTURES / "ain_al_asad_article.txt"


def exactly(value: int) -> Count:
    return Count(value=value)


def at_least(value: int) -> Count:
    return Count(value=value, qualifier=Qualifier.AT_LEAST)


def place_name(draft: ReportProposal) -> str | None:
    return draft.place.name if draft.place else None


# --- The acceptance report: a rocket attack on Ain al-Asad among much background


@pytest.fixture(scope="module")
def ain_al_asad() -> ReportProposal:
    return propose_incident(AIN_AL_ASAD_REPORT.read_text("utf-8"))


def test_the_fixture_keeps_its_distractors() -> None:
    text = AIN_AL_ASAD_REPORT.read_text("utf-8")
    for distractor in ("Iraq\u2019s northern plain", "Tehran", "Beirut", "Gaza", "Yemen"):
        assert distractor in text
    assert "2,500 US troops" in text and "900" in text
    assert "at least two missiles" in text and "a number of British soldiers" in text


def test_report_places_the_attack_at_ain_al_asad_in_iraq(ain_al_asad: ReportProposal) -> None:
    assert ain_al_asad.place is not None
    assert ain_al_asad.place.name == "Ain al-Asad Air Base"
    assert ain_al_asad.place.kind == "base"
    assert ain_al_asad.place.admin1 == "Anbar"
    assert ain_al_asad.country == "Iraq"


def test_report_is_a_rocket_attack(ain_al_asad: ReportProposal) -> None:
    assert ain_al_asad.weapon == "rocket"
    assert ain_al_asad.event_type == "Explosions/Remote violence"
    assert ain_al_asad.sub_event_type == "Shelling/artillery/missile attack"


def test_report_counts_at_least_five_injured_and_no_dead(ain_al_asad: ReportProposal) -> None:
    assert ain_al_asad.injured == at_least(5)
    assert ain_al_asad.killed is None
    assert ain_al_asad.severity == 4


def test_report_says_no_one_claimed_it(ain_al_asad: ReportProposal) -> None:
    assert ain_al_asad.claimed_by is None
    assert ain_al_asad.claim_status == "none"


def test_report_names_the_armed_actors(ain_al_asad: ReportProposal) -> None:
    for actor in ("Iran-backed militias", "UK forces", "US forces", "Hezbollah", "Hamas"):
        assert actor in ain_al_asad.actors
    assert {"Houthis", "Islamic State", "Israeli forces"} <= set(ain_al_asad.actors)
    assert ain_al_asad.perpetrator == "Iran-backed militias"
    assert ain_al_asad.target == "US and UK forces"


def test_report_notes_the_vague_count_and_the_background_places(
    ain_al_asad: ReportProposal,
) -> None:
    notes = "\n".join(ain_al_asad.notes)
    assert "a number of British soldiers" in notes
    assert "Tehran" in notes and "Beirut" in notes
    assert "chose Ain al-Asad Air Base" in notes


def test_report_title_and_summary_are_composed_not_copied(ain_al_asad: ReportProposal) -> None:
    assert ain_al_asad.title == "Rocket attack on Ain al-Asad Air Base"
    assert ain_al_asad.summary == (
        "A rocket attack on Ain al-Asad Air Base (Anbar, Iraq), aimed at US and UK forces, "
        "left at least 5 injured. No group has claimed responsibility; the report links it "
        "to Iran-backed militias."
    )
    assert ain_al_asad.occurred is None


# --- Other kinds of attack

TOWER_22 = (
    "Three US soldiers were killed and more than 40 wounded when a one-way attack drone "
    "struck Tower 22, a small US outpost in northeastern Jordan near the Syrian border, on "
    "Sunday, US officials said. The Islamic Resistance in Iraq, an umbrella group of "
    "Iran-backed militias, claimed responsibility for the attack. President Joe Biden blamed "
    "Iran-backed militant groups operating in Syria and Iraq."
)


def test_deadly_drone_attack_on_tower_22_claimed_by_the_islamic_resistance() -> None:
    draft = propose_incident(TOWER_22, published=date(2024, 1, 29))
    assert place_name(draft) == "Tower 22"
    assert draft.country == "Jordan"
    assert (draft.weapon, draft.sub_event_type) == ("drone", "Air/drone strike")
    assert draft.killed == exactly(3)
    assert draft.injured == Count(value=40, qualifier=Qualifier.MORE_THAN)
    assert draft.severity == 5
    assert draft.claimed_by == "Islamic Resistance in Iraq"
    assert draft.claim_status == "claimed"
    assert draft.perpetrator == "Islamic Resistance in Iraq"
    assert draft.target == "US forces"
    assert draft.occurred == date(2024, 1, 28)
    assert draft.title == "Drone attack on Tower 22"


HODEIDAH = (
    "US and UK strikes hit Houthi targets in Hodeidah on Friday, the Pentagon said, in "
    "response to the group's drone and missile attacks on shipping in the Red Sea. Houthi "
    "officials said five fighters were killed and six wounded."
)


def test_us_and_uk_strikes_on_hodeidah_are_airstrikes() -> None:
    draft = propose_incident(HODEIDAH, published=date(2024, 2, 4))
    assert place_name(draft) == "Hodeidah"
    assert draft.country == "Yemen"
    assert draft.weapon == "airstrike"
    assert draft.event_type == "Explosions/Remote violence"
    assert draft.sub_event_type == "Air/drone strike"
    assert draft.perpetrator == "US and UK forces"
    assert draft.target == "Houthis"
    assert (draft.killed, draft.injured) == (exactly(5), exactly(6))
    assert draft.occurred == date(2024, 2, 2)


def test_a_militias_strike_is_not_an_airstrike() -> None:
    draft = propose_incident("The strike on Harir base was the third this week.")
    assert draft.weapon is None
    assert place_name(draft) == "Harir Air Base"


ROADSIDE_BOMB = (
    "A roadside bomb struck a logistics convoy on the highway near Diwaniyah on 5 August "
    "2024, Iraqi security officials said. The blast damaged a truck, but no one was hurt. "
    "No group claimed responsibility."
)


def test_roadside_bomb_is_an_ied() -> None:
    draft = propose_incident(ROADSIDE_BOMB)
    assert draft.weapon == "IED"
    assert draft.sub_event_type == "Remote explosive/landmine/IED"
    assert draft.title == "IED attack in Diwaniyah"
    assert draft.occurred == date(2024, 8, 5)
    assert (draft.killed, draft.injured) == (exactly(0), exactly(0))
    assert draft.severity == 2
    assert draft.claim_status == "none"


def test_suicide_bombing_outranks_the_car_bomb_it_used() -> None:
    draft = propose_incident("A suicide car bomb killed 12 people at a market in Kirkuk.")
    assert (draft.weapon, draft.sub_event_type) == ("suicide bomb", "Suicide bomb")
    assert draft.severity == 5


def test_clashes_are_battles() -> None:
    draft = propose_incident(
        "Clashes between SDF fighters and tribal gunmen in Deir ez-Zor province killed nine."
    )
    assert (draft.event_type, draft.sub_event_type) == ("Battles", "Armed clash")
    assert place_name(draft) == "Deir ez-Zor Governorate"
    assert draft.killed == exactly(9)


def test_an_israeli_drone_strike_in_south_lebanon() -> None:
    draft = propose_incident(
        "An Israeli drone strike killed two Hezbollah fighters in southern Lebanon on Monday.",
        published=date(2024, 8, 7),
    )
    assert place_name(draft) == "South Lebanon"
    assert draft.perpetrator == "Israeli forces"
    assert draft.target == "Hezbollah"
    assert draft.killed == exactly(2)
    assert draft.occurred == date(2024, 8, 5)


def test_an_israeli_airstrike_names_its_perpetrator_and_victims() -> None:
    draft = propose_incident(
        "An Israeli airstrike on a building in Damascus killed five members of the Revolutionary "
        "Guards, Iranian state media reported."
    )
    assert (draft.weapon, draft.perpetrator, draft.target) == (
        "airstrike",
        "Israeli forces",
        "IRGC",
    )
    assert draft.killed == exactly(5)


def test_a_force_quoted_as_a_source_is_not_the_target() -> None:
    draft = propose_incident(
        "Houthi rebels fired two anti-ship missiles at a tanker in the Red Sea, the US military "
        "said. No injuries were reported."
    )
    assert (draft.perpetrator, draft.target) == ("Houthis", None)
    assert place_name(draft) == "Red Sea"
    assert (draft.killed, draft.injured, draft.severity) == (exactly(0), exactly(0), 2)


# --- Dates


@pytest.mark.parametrize(
    ("wording", "published", "expected"),
    [
        ("on 5 August 2024", None, date(2024, 8, 5)),
        ("on August 5, 2024", None, date(2024, 8, 5)),
        ("on 2024-08-05", None, date(2024, 8, 5)),
        ("on Aug. 5", date(2024, 8, 7), date(2024, 8, 5)),
        ("on Aug. 5", date(2025, 1, 10), date(2024, 8, 5)),
        ("on Monday", date(2024, 8, 7), date(2024, 8, 5)),
        ("on Wednesday", date(2024, 8, 7), date(2024, 8, 7)),
        ("late Sunday", date(2024, 8, 7), date(2024, 8, 4)),
        ("yesterday", date(2024, 8, 7), date(2024, 8, 6)),
    ],
)
def test_the_date_of_the_attack(wording: str, published: date | None, expected: date) -> None:
    draft = propose_incident(f"A rocket attack hit Erbil Air Base {wording}.", published=published)
    assert draft.occurred == expected


def test_a_weekday_without_a_publication_date_is_left_for_the_admin() -> None:
    draft = propose_incident("A rocket attack hit Erbil Air Base on Monday.")
    assert draft.occurred is None
    assert any('"Monday" needs the publication date' in note for note in draft.notes)


def test_dates_of_background_events_are_not_used() -> None:
    draft = propose_incident(
        "A rocket attack hit Erbil Air Base. Haniyeh was killed in Tehran on 31 July 2024."
    )
    assert draft.occurred is None
    assert any("31 July 2024" in note for note in draft.notes)


# --- Places


def test_no_known_place_leaves_the_place_empty_with_a_note() -> None:
    draft = propose_incident("A rocket attack targeted a checkpoint; three people were wounded.")
    assert draft.place is None
    assert draft.country is None
    assert draft.title == "Rocket attack"
    assert any("No known place" in note for note in draft.notes)


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("Ayn al-Asad", "Ain al-Asad Air Base"),
        ("Ain al Asad", "Ain al-Asad Air Base"),
        ("AIN AL-ASAD", "Ain al-Asad Air Base"),
        ("Ain el-Asad", "Ain al-Asad Air Base"),
        ("the al-Asad airbase", "Ain al-Asad Air Base"),
        ("Erbil airport", "Erbil Air Base"),
        ("Rmelan", "Rumalyn Landing Zone"),
        ("Green Village", "Al-Omar Oil Field"),
        ("Abu Kamal", "Albu Kamal"),
        ("Deir el-Zor", "Deir ez-Zor"),
        ("Sana\u2019a", "Sanaa"),
        ("Al Udeid", "Al Udeid Air Base"),
        ("Muwaffaq al-Salti", "Muwaffaq Salti Air Base"),
        ("Khan Yunis", "Khan Younis"),
        ("Beirut\u2019s southern suburbs", "Dahiyeh"),
        ("the U.S. embassy in Baghdad", "US Embassy Baghdad"),
        ("K-1", "K1 Air Base"),
    ],
)
def test_places_are_found_by_their_alternate_spellings(spelling: str, expected: str) -> None:
    assert place_name(propose_incident(f"A drone attack targeted {spelling}.")) == expected


def test_every_gazetteer_spelling_finds_its_place() -> None:
    missed = [
        (alias, place.name)
        for place in gazetteer().places
        for alias in (place.name, *place.aliases)
        if place_name(propose_incident(f"A rocket attack hit {alias} overnight.")) != place.name
    ]
    assert missed == []


def test_the_attack_site_beats_where_a_leader_was_killed() -> None:
    draft = propose_incident(
        "A drone attack targeted Erbil Air Base, days after Ismail Haniyeh was killed in Tehran."
    )
    assert place_name(draft) == "Erbil Air Base"
    assert any("background" in note and "Tehran" in note for note in draft.notes)


def test_the_launch_site_is_not_the_attack_site() -> None:
    draft = propose_incident("A drone launched from Yemen struck Eilat, wounding a man.")
    assert place_name(draft) == "Eilat"
    assert draft.country == "Israel"
    assert draft.injured == exactly(1)


def test_a_country_is_narrowed_to_the_base_named_later() -> None:
    draft = propose_incident(
        "Rockets were fired at US forces in western Iraq on Tuesday. "
        "Two of the rockets struck inside Ain al-Asad Air Base, officials said."
    )
    assert place_name(draft) == "Ain al-Asad Air Base"
    assert any("Narrowed Iraq" in note for note in draft.notes)


def test_a_group_named_after_a_country_is_not_a_place() -> None:
    draft = propose_incident("The Islamic Resistance in Iraq said it launched a drone attack.")
    assert draft.place is None
    assert draft.actors == ("Islamic Resistance in Iraq",)


def test_bashar_al_asad_is_not_the_air_base() -> None:
    draft = propose_incident("Bashar al-Asad condemned the drone attack on Homs.")
    assert place_name(draft) == "Homs"


def test_tyre_the_city_is_not_a_car_tyre() -> None:
    assert place_name(propose_incident("A drone strike hit a car in Tyre.")) == "Tyre"
    assert propose_incident("The rocket attack burst a tyre on the truck.").place is None


# --- Casualty counts


def test_troop_numbers_and_missiles_are_not_casualties() -> None:
    draft = propose_incident(
        "Nearly 2, 500 US troops are stationed in Iraq, with 900 more in Syria. "
        "At least two missiles landed near Erbil airport."
    )
    assert (draft.killed, draft.injured) == (None, None)


def test_a_number_of_injured_is_noted_not_counted() -> None:
    draft = propose_incident("A rocket attack on Camp Taji injured a number of soldiers.")
    assert draft.injured is None
    assert draft.severity == 3
    assert any('"injured a number of"' in note for note in draft.notes)


@pytest.mark.parametrize(
    ("wording", "expected"),
    [
        ("at least five people were injured", at_least(5)),
        ("about 20 people were wounded", Count(value=20, qualifier=Qualifier.ABOUT)),
        ("nearly 30 people were hurt", Count(value=30, qualifier=Qualifier.NEARLY)),
        ("more than 40 were wounded", Count(value=40, qualifier=Qualifier.MORE_THAN)),
        ("up to 15 people were hurt", Count(value=15, qualifier=Qualifier.UP_TO)),
        ("seven soldiers were injured", exactly(7)),
        ("twenty-one people were wounded", exactly(21)),
        ("1,200 people were injured", exactly(1200)),
        ("wounding 14 others", exactly(14)),
    ],
)
def test_injured_counts_and_their_qualifiers(wording: str, expected: Count) -> None:
    draft = propose_incident(f"A drone attack hit Erbil Air Base and {wording}.")
    assert draft.injured == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Three soldiers were killed when rockets hit Camp Taji.", exactly(3)),
        ("Rockets hit Camp Taji, killing at least 12.", at_least(12)),
        ("A US soldier was killed when a mortar round hit Camp Taji.", exactly(1)),
        ("Rockets hit Camp Taji, leaving four dead.", exactly(4)),
        ("Rockets hit Camp Taji; no one was killed.", exactly(0)),
        ("Three U.S. soldiers were killed when rockets hit Camp Taji.", exactly(3)),
        ("Rockets hit Camp Taji. Five may have died.", exactly(5)),
        ("Three were killed and 17 wounded when rockets hit Camp Taji.", exactly(3)),
    ],
)
def test_killed_counts(sentence: str, expected: Count) -> None:
    assert propose_incident(sentence).killed == expected


def test_a_wars_death_toll_is_not_the_attacks() -> None:
    draft = propose_incident(
        "An Israeli airstrike killed two people in Rafah. "
        "The war in Gaza has killed more than 40,000 people since October."
    )
    assert draft.killed == exactly(2)


def test_a_date_is_not_a_casualty_count() -> None:
    draft = propose_incident("The rocket attack on Aug. 5 injured four contractors at Al Udeid.")
    assert draft.injured == exactly(4)


# --- Claims of responsibility


@pytest.mark.parametrize(
    ("sentence", "status", "group"),
    [
        ("No group has claimed responsibility for the attack.", "none", None),
        ("No one has yet claimed it.", "none", None),
        ("This, despite the fact that no team has already claimed responsibility.", "none", None),
        ("The attack has not been claimed.", "none", None),
        ("Kataib Hezbollah claimed responsibility.", "claimed", "Kataib Hezbollah"),
        (
            "It was claimed by the Islamic Resistance in Iraq.",
            "claimed",
            "Islamic Resistance in Iraq",
        ),
        ("The Houthis said they carried out the attack.", "claimed", "Houthis"),
        (
            "The Islamic Resistance in Iraq, an umbrella of Iran-aligned groups, said in a "
            "statement that it had attacked the base.",
            "claimed",
            "Islamic Resistance in Iraq",
        ),
        ("Officials are investigating.", "unknown", None),
    ],
)
def test_claims_of_responsibility(sentence: str, status: str, group: str | None) -> None:
    draft = propose_incident(f"A rocket attack hit Erbil Air Base. {sentence}")
    assert (draft.claim_status, draft.claimed_by) == (status, group)


# --- Severity


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("A drone attack killed two US soldiers at Tower 22.", 5),
        ("A car bomb killed 11 civilians in Mosul.", 5),
        ("A car bomb killed two civilians in Mosul.", 4),
        ("A rocket attack wounded six people in Erbil.", 4),
        ("A rocket attack wounded two people in Erbil.", 3),
        ("A rocket attack hit Erbil; no one was hurt.", 2),
        ("Officials in Erbil met to discuss the budget.", 1),
    ],
)
def test_severity(text: str, severity: int) -> None:
    assert propose_incident(text).severity == severity


def test_a_report_of_no_attack_proposes_a_plain_incident() -> None:
    draft = propose_incident("Officials in Erbil met on Monday to discuss the budget.")
    assert (draft.title, draft.event_type, draft.weapon) == ("Incident in Erbil", None, None)
    assert any("set the event type by hand" in note for note in draft.notes)


# --- The gazetteer


def test_gazetteer_covers_every_country_of_every_region() -> None:
    countries = {place.country for place in gazetteer().places}
    expected = {country for members in REGIONS.values() for country in members}
    assert countries == expected
    named = {place.name for place in gazetteer().places if place.kind == "country"}
    assert named == expected


def test_gazetteer_places_are_well_formed() -> None:
    places = gazetteer().places
    assert len({place.name for place in places}) == len(places)
    for place in places:
        assert place.kind in {"base", "city", "sea", "province", "country"}
        if place.kind == "country":
            assert place.admin1 == "", place.name
        elif place.kind in ("base", "city"):
            assert place.admin1, place.name
        assert 10 <= place.latitude <= 40 and 33 <= place.longitude <= 62, place.name


@pytest.mark.parametrize(
    "name",
    [
        "Ain al-Asad Air Base",
        "Erbil Air Base",
        "Harir Air Base",
        "Victory Base Complex",
        "US Embassy Baghdad",
        "Union III",
        "Balad Air Base",
        "Camp Taji",
        "Qayyarah Airfield West",
        "K1 Air Base",
        "Jurf al-Sakhar",
        "Al-Tanf Garrison",
        "Conoco Gas Field",
        "Al-Omar Oil Field",
        "Rumalyn Landing Zone",
        "Kharab al-Jir",
        "Tower 22",
        "Muwaffaq Salti Air Base",
        "Dahiyeh",
        "Gaza City",
        "Bab el-Mandeb",
        "Natanz Nuclear Facility",
        "Al Udeid Air Base",
        "Camp Arifjan",
        "Al Dhafra Air Base",
        "Prince Sultan Air Base",
        "NSA Bahrain",
    ],
)
def test_gazetteer_knows_the_places_attacks_happen_at(name: str) -> None:
    assert name in {place.name for place in gazetteer().places}


def test_every_iraqi_province_is_known() -> None:
    provinces = [p for p in gazetteer().places if p.country == "Iraq" and p.kind == "province"]
    assert len(provinces) >= 19


def test_uncounted_injuries_are_not_reported_and_keep_their_words() -> None:
    proposal = propose_incident(
        "A drone struck Harir Air Base on Tuesday, causing minor injuries to several soldiers. "
        "No group has claimed the attack."
    )
    fields = fields_from_proposal(proposal)
    assert (fields["injured"], fields["killed"]) == (["not reported"], ["not reported"])
    assert "minor injuries" in proposal.summary
    assert fields["claimed_by"] == ["no group has claimed"]


def test_a_report_silent_on_the_claim_proposes_not_reported() -> None:
    proposal = propose_incident("A drone struck Harir Air Base on Tuesday.")
    assert fields_from_proposal(proposal)["claimed_by"] == ["not reported"]


@pytest.mark.parametrize(
    ("sentence", "words"),
    [
        ("Dozens of people were killed when rockets hit Kirkuk.", "dozens of people dead"),
        ("A drone struck Harir Air Base, wounding several soldiers.", "several soldiers injured"),
        ("A drone hit Tanf, causing minor injuries.", "people with minor injuries"),
    ],
)
def test_a_vague_toll_is_not_reported_and_kept_in_words(sentence: str, words: str) -> None:
    draft = propose_incident(sentence)
    assert draft.killed is None and draft.injured is None
    assert words in draft.summary and "no figure given" in draft.summary
    fields = fields_from_proposal(draft)
    assert fields["killed"] == fields["injured"] == ["not reported"]
