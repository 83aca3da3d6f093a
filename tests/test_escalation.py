"""Escalation notices: the ordinal, the distance and which site an attack was on."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.config import EscalationSettings
from bot.render.escalation import ordinal
from bot.subscriptions.areas import distance_km
from bot.subscriptions.escalation import EscalationNotices
from tests.factories import incident_content

NOTICES = EscalationNotices(EscalationSettings(), ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("number", "text"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
     (21, "21st"), (22, "22nd"), (101, "101st"), (111, "111th")],
)  # fmt: skip
def test_ordinals(number: int, text: str) -> None:
    assert ordinal(number) == text


def test_distance_is_great_circle() -> None:
    # One degree of latitude is about 111.2 km anywhere; of longitude, less away from the equator.
    assert distance_km(33.0, 42.0, 34.0, 42.0) == pytest.approx(111.2, abs=0.1)
    assert distance_km(60.0, 10.0, 60.0, 11.0) == pytest.approx(55.6, abs=0.1)


def test_an_attack_is_on_the_site_it_names_or_the_nearest_within_the_radius() -> None:
    named = incident_content(location="Ain al Asad Airbase", latitude=None, longitude=None)
    assert (site := NOTICES.site_of(named)) is not None and site.name == "Ain al-Asad Air Base"
    # 0.18° north of the base: 20 km; the town of Baghdadi lies further.
    near = incident_content(location="Desert road", latitude=33.9656, longitude=42.4412)
    assert (site := NOTICES.site_of(near)) is not None and site.name == "Ain al-Asad Air Base"
    # In the desert between Rutba and Akashat, more than 50 km from any known site.
    far = incident_content(location="Desert road", latitude=33.2, longitude=41.0)
    assert NOTICES.site_of(far) is None
