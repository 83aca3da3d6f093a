"""Whole numbers typed by people or carried in callback data, read strictly.

Only ASCII digits count (`str.isdigit` also takes "²" and "٣", which `int` then refuses or
reads), and every number is bounded before it goes anywhere: SQLite stores integers of at
most 64 bits, so a larger id or count must be refused here, not by a crash in storage.
"""

from __future__ import annotations

import re

SQLITE_MAX_INTEGER = 2**63 - 1
# The Bot API gives user ids "at most 52 significant bits".
TELEGRAM_USER_ID_MAX = 2**52 - 1
_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def looks_numeric(text: str) -> bool:
    """Whether `text` is meant as a number (digits of any script, maybe signed)."""
    unsigned = text.strip().lstrip("+-")
    return bool(unsigned) and all(char.isdigit() or char == "," for char in unsigned)


def bounded_int(text: str, low: int = 1, high: int = SQLITE_MAX_INTEGER) -> int | None:
    """The number `text` spells in ASCII digits if it is within low..high, else None."""
    digits = text.strip()
    # The length check keeps int() from converting a megabyte of digits.
    if len(digits) > len(str(high)) + 1 or not _ASCII_DIGITS.fullmatch(digits):
        return None
    value = int(digits)
    return value if low <= value <= high else None
