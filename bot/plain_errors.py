"""Pydantic's validation problems in plain words, for every place a person reads them.

Pydantic words its messages for programmers ("Input should be a valid integer, unable
to parse string as an integer"). The config loader, the importer and the admin forms
all show validation problems to people, so they all word them here: by the error's
type and its context, never by pydantic's own text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic_core import ErrorDetails

_Words = Callable[[Mapping[str, Any]], str]

_BY_TYPE: dict[str, _Words] = {
    "missing": lambda ctx: "is required",
    "extra_forbidden": lambda ctx: "is not a known field",
    "int_type": lambda ctx: "must be a whole number",
    "int_parsing": lambda ctx: "must be a whole number",
    "int_from_float": lambda ctx: "must be a whole number, without a fraction",
    "float_type": lambda ctx: "must be a number",
    "float_parsing": lambda ctx: "must be a number",
    "bool_type": lambda ctx: "must be true or false",
    "bool_parsing": lambda ctx: "must be true or false",
    "string_type": lambda ctx: "must be text",
    "list_type": lambda ctx: "must be a list, e.g. [1, 2]",
    "dict_type": lambda ctx: "must be a table of keys and values",
    "model_type": lambda ctx: "must be a table of keys and values",
    "model_attributes_type": lambda ctx: "must be a table of keys and values",
    "none_required": lambda ctx: "must be left out",
    "greater_than": lambda ctx: f"must be more than {_number(ctx['gt'])}",
    "greater_than_equal": lambda ctx: f"must be {_number(ctx['ge'])} or more",
    "less_than": lambda ctx: f"must be less than {_number(ctx['lt'])}",
    "less_than_equal": lambda ctx: f"must be {_number(ctx['le'])} or less",
    "finite_number": lambda ctx: "must be a finite number",
    "string_too_short": lambda ctx: _at_least(ctx["min_length"], "character"),
    "string_too_long": lambda ctx: _at_most(ctx["max_length"], "character"),
    "too_short": lambda ctx: _at_least(ctx["min_length"], "item"),
    "too_long": lambda ctx: _at_most(ctx["max_length"], "item"),
    "string_pattern_mismatch": lambda ctx: f"must match the pattern {ctx['pattern']}",
    "literal_error": lambda ctx: f"must be {ctx['expected']}",
    "enum": lambda ctx: f"must be {ctx['expected']}",
    "url_parsing": lambda ctx: "must be a web address such as https://example.org",
    "url_type": lambda ctx: "must be a web address such as https://example.org",
    "url_scheme": lambda ctx: f"must be a web address starting with {ctx['expected_schemes']}",
    "url_too_long": lambda ctx: _at_most(ctx["max_length"], "character"),
    "datetime_parsing": lambda ctx: "must be a date and time such as 2024-08-05T21:00:00Z",
    "datetime_from_date_parsing": lambda ctx: "must be a date such as 2024-08-05",
    "datetime_type": lambda ctx: "must be a date and time such as 2024-08-05T21:00:00Z",
    "date_parsing": lambda ctx: "must be a date such as 2024-08-05",
    "date_from_datetime_parsing": lambda ctx: "must be a date such as 2024-08-05",
    "timezone_aware": lambda ctx: "must say its offset from UTC, e.g. 2024-08-05T21:00+03:00",
}


def plain_message(detail: ErrorDetails) -> str:
    """One validation problem in plain words, without the field's name or its value.

    A message written by the project's own validators (a ValueError) is kept as it is;
    a type of problem not listed above still never shows pydantic's phrasing.
    """
    kind = detail["type"]
    if kind in ("value_error", "assertion_error"):
        return detail["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    words = _BY_TYPE.get(kind)
    context = detail.get("ctx") or {}
    if words is not None:
        try:
            return words(context)
        except KeyError:
            pass
    return _reword(detail["msg"])


def _reword(message: str) -> str:
    subject, should, rest = message.partition(" should ")
    if should and subject in ("Input", "String", "List", "Dictionary", "Value"):
        return f"must {rest}"
    return message


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _at_least(count: int, unit: str) -> str:
    return f"must have at least {count} {unit}{'' if count == 1 else 's'}"


def _at_most(count: int, unit: str) -> str:
    return f"must have at most {count} {unit}{'' if count == 1 else 's'}"
