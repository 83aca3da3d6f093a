"""The bot token never reaches a log line, whichever library writes it."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import Settings
from bot.lifecycle import polling
from bot.log_setup import REDACTED, JsonLinesFormatter, RedactingFormatter
from bot.sandbox.fake_api import FakeBotApi
from tests.people import Person


@pytest.fixture
def log_output(settings: Settings) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(name)s %(message)s", [settings.require_token()]))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)


@pytest.mark.parametrize("backend", ["aiohttp", "httpx"])
async def test_request_urls_and_tracebacks_are_redacted(
    backend: str,
    settings: Settings,
    clock: ManualClock,
    telegram: FakeBotApi,
    log_output: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = settings.require_token()
    settings.telegram.http_backend = backend  # type: ignore[assignment]
    app = build_application(settings, clock)
    services = app.bot_data["services"]

    async def leaky(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"failed calling {settings.telegram.api_root}/bot{token}/getMe")

    monkeypatch.setattr(services.incidents, "latest", leaky)
    alice = Person(telegram, telegram.add_user("Alice"))
    async with polling(app, poll_timeout=1):
        reply = await alice.says("/latest")
    logged = log_output.getvalue()
    if backend == "httpx":
        assert "httpx" in logged and "getUpdates" in logged  # httpx logs every URL...
    assert token not in logged  # ...but never the token
    assert REDACTED in logged
    assert "RuntimeError" in logged  # the traceback is kept, redacted
    assert token not in reply.text and "failed calling" not in reply.text


def test_formatter_redacts_token_shaped_strings_it_was_not_told_about() -> None:
    formatter = RedactingFormatter("%(message)s", [])
    record = logging.LogRecord("x", logging.INFO, "f", 1, "GET /bot42:AAsecret/getMe", None, None)
    assert formatter.format(record) == f"GET /bot{REDACTED}/getMe"


def test_json_lines_are_one_object_per_event_and_redacted() -> None:
    formatter = JsonLinesFormatter("%(message)s", ["42:AAsecret"])
    try:
        raise RuntimeError("boom with 42:AAsecret inside")
    except RuntimeError:
        record = logging.LogRecord(
            "bot.x", logging.ERROR, "f", 1, "failed %s", ("42:AAsecret",), sys.exc_info()
        )
    line = formatter.format(record)
    assert "\n" not in line
    event = json.loads(line)
    assert event["level"] == "ERROR" and event["logger"] == "bot.x"
    assert event["message"] == f"failed {REDACTED}"
    assert "42:AAsecret" not in line and "RuntimeError" in event["exception"]
