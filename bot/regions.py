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

_ALIASES = {"red sea": "Red Sea/Yemen", "yemen": "Red Sea/Yemen", "gulf": "Gulf/Iran"}


def region_named(text: str) -> str | None:
    """The region a user means by `text` ("levant", "Red Sea"), or None."""
    wanted = text.strip().casefold()
    for name in REGIONS:
        if name.casefold() == wanted:
            return name
    return _ALIASES.get(wanted)
