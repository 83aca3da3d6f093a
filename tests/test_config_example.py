"""config.example.toml documents every setting the bot accepts, and nothing else.

The keys come from the settings models in bot/config.py, so a key added there and
not to the example (or the other way round) fails here, with the lines to add.
"""

from __future__ import annotations

import json
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from bot.config import Settings, load_settings

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
_HEADER = re.compile(r"^#?\s*\[\[?\s*([A-Za-z0-9_.]+)\s*\]\]?\s*$")
_KEY = re.compile(r"^#?\s*([A-Za-z_][A-Za-z0-9_]*)\s*=")


@dataclass(frozen=True)
class DocumentedKey:
    line: int
    explained: bool  # a prose comment in the same paragraph says what it is


def model_keys(model: type[BaseModel], section: str = "") -> dict[str, FieldInfo]:
    """Every leaf key of the settings, as `section.key` (`a.b.key` in nested tables)."""
    keys: dict[str, FieldInfo] = {}
    for name, field in model.model_fields.items():
        dotted = f"{section}.{name}" if section else name
        table = _table_model(field.annotation)
        if table is not None:
            keys.update(model_keys(table, dotted))
        elif section:
            keys[dotted] = field
        else:
            raise AssertionError(f"Settings.{name} is not a section: put it in a [table]")
    return keys


def _table_model(annotation: object) -> type[BaseModel] | None:
    """The model of a [table] or [[array of tables]] field, if the field is one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType):
        for argument in typing.get_args(annotation):
            found = _table_model(argument)
            if found is not None:
                return found
    return None


def documented_keys(text: str) -> dict[str, DocumentedKey]:
    """Keys in the example, set or shown commented out (`# token = ...`), under their table."""
    found: dict[str, DocumentedKey] = {}
    section = ""
    paragraph_explained = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            paragraph_explained = False
            continue
        header = _HEADER.match(line)
        key = _KEY.match(line)
        if header:
            section = header.group(1)
            paragraph_explained = False
        elif key and section:
            found.setdefault(
                f"{section}.{key.group(1)}", DocumentedKey(number, paragraph_explained)
            )
        elif line.startswith("#"):
            paragraph_explained = True
    return found


def _suggestion(missing: dict[str, FieldInfo]) -> str:
    """The lines to add, under each table's header, for the failure message."""
    by_section: dict[str, list[str]] = {}
    for key, field in sorted(missing.items()):
        section, name = key.rsplit(".", 1)
        default = None if field.is_required() else field.get_default(call_default_factory=True)
        if default is None:
            value_line = f"# {name} = ..."
        else:
            if isinstance(default, BaseModel):
                default = default.model_dump(mode="json")
            value_line = f"{name} = {json.dumps(default, default=str)}"
        what = field.description or "what it is, its unit, when to change it"
        by_section.setdefault(section, []).append(f"# {what}\n{value_line}")
    return "\n\n".join(
        f"[{section}]\n" + "\n".join(entries) for section, entries in by_section.items()
    )


def test_the_example_documents_every_setting() -> None:
    documented = documented_keys(EXAMPLE.read_text(encoding="utf-8"))
    missing = {key: field for key, field in model_keys(Settings).items() if key not in documented}
    if missing:
        pytest.fail(
            f"config.example.toml does not document {', '.join(sorted(missing))}. Every key "
            "of the settings models in bot/config.py must appear in config.example.toml under "
            "its [table], after a comment saying what it is and when to change it (shown "
            "commented out, '# key = ...', when it has no default or is a secret). Add, "
            "for example (and say more than the field's description where it helps):\n\n"
            + _suggestion(missing),
            pytrace=False,
        )


def test_every_key_in_the_example_exists_and_is_explained() -> None:
    documented = documented_keys(EXAMPLE.read_text(encoding="utf-8"))
    known = model_keys(Settings)
    stale = sorted(key for key in documented if key not in known)
    assert not stale, (
        f"config.example.toml names {', '.join(stale)}, which the settings models in "
        "bot/config.py do not accept: correct or remove it"
    )
    unexplained = sorted(key for key, doc in documented.items() if not doc.explained)
    assert not unexplained, (
        f"config.example.toml: {', '.join(unexplained)} has no comment saying what it is; "
        "add a '# ...' line above it, in the same paragraph (no blank line between)"
    )


def test_the_example_is_a_valid_configuration(tmp_path: Path) -> None:
    settings = load_settings(EXAMPLE, environ={})
    assert settings == Settings(), "the example's values should be the defaults"


def test_the_checker_sees_a_missing_key_and_says_what_to_add() -> None:
    text = "[telegram]\n# The token.\n# token = '1:a'\n\n[storage]\n# Where.\npath = 'x'\n"
    documented = documented_keys(text)
    assert set(documented) == {"telegram.token", "storage.path"}
    assert all(doc.explained for doc in documented.values())
    assert "telegram.admins" not in documented
    keys = model_keys(Settings)
    suggestion = _suggestion({key: keys[key] for key in ("telegram.admins", "webhook.public_url")})
    assert suggestion == (
        "[telegram]\n# Numeric Telegram user ids of the owners.\nadmins = []\n\n"
        "[webhook]\n# The https URL at which Telegram reaches this server.\n# public_url = ..."
    )
