"""The regional groupings people ask about, as sets of countries."""

from __future__ import annotations

REGIONS: dict[str, tuple[str, ...]] = {
    "Iraq": ("Iraq",),
    "Syria": ("Syria",),
    "Levant": ("Lebanon", "Israel", "Palestine", "Jordan"),
    "Red Sea/Yemen": ("Yemen",),
    "Gulf/Iran": (
        "Iran",
        "Saudi Arabia",
        "United Arab Emirates",
        "Qatar",
        "Bahrain",
        "Kuwait",
        "Oman",
    ),
}

# The sea areas (of the gazetteer) a region covers besides its countries: a tanker hit in
# the Red Sea is recorded under whichever coast's country the report names, yet belongs to
# the region named after that sea. The tension index stays per country.
REGION_SEAS: dict[str, tuple[str, ...]] = {
    "Red Sea/Yemen": ("Red Sea", "Bab el-Mandeb", "Gulf of Aden"),
    "Gulf/Iran": ("Persian Gulf", "Strait of Hormuz"),
}

# "Red Sea" and "Persian Gulf" are not aliases: they name the gazetteer's sea areas.
_ALIASES = {"yemen": "Red Sea/Yemen", "gulf": "Gulf/Iran"}


def region_named(text: str) -> str | None:
    """The region a user means by `text` ("levant", "yemen"), or None."""
    wanted = text.strip().casefold()
    for name in REGIONS:
        if name.casefold() == wanted:
            return name
    return _ALIASES.get(wanted)
