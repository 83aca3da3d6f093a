"""Property-based tests: whatever arrives, every parser answers with a value in range or
a user-facing refusal, and everything rendered is valid Telegram HTML within the limits."""

from __future__ import annotations

import contextlib
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.models import Incident, Status
from bot.newsroom.changes import NewsroomError, Preview
from bot.newsroom.forms import FormError, check_field, incident_from_fields, parse_form
from bot.newsroom.transfer import TransferError, import_file
from bot.numbers import SQLITE_MAX_INTEGER, bounded_int
from bot.outgoing import CAPTION_LIMIT, TEXT_LIMIT
from bot.record.incidents import MAX_LATEST
from bot.render.delivery import alert_text
from bot.render.incidents import incident_card, incident_list
from bot.render.newsroom import preview
from bot.render.telegram_html import parse_html, split_html
from bot.subscriptions.service import (
    SubscriptionError,
    parse_clock_time,
    parse_quiet_hours,
    parse_timezone,
    resolve_places,
)
from handlers.admin import _user_id_argument
from handlers.counts import parse_count_args
from handlers.incidents import parse_incident_id, parse_latest_args, parse_older_data
from handlers.replies import UsageError
from storage.codec import FIRST_STORABLE, LAST_STORABLE
from storage.db import Database
from storage.transfer import iter_incidents
from tests.factories import incident_content

# Modest: the whole hostile-input suite must stay well under a minute in CI.
QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ZONE = ZoneInfo("Asia/Baghdad")
NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)

# Text as people (and attackers) type it: digits of every script, markup, control
# characters, wildcards, very long runs.
hostile_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80
) | st.sampled_from(["²", "٣", "-1", "0", "99999999999999999999999", "%", "_", "<b>", "&amp"])
words = st.lists(hostile_text.filter(lambda w: w.strip() and " " not in w), max_size=5)


@QUICK
@given(words)
def test_latest_takes_a_count_in_range_or_refuses(args: list[str]) -> None:
    try:
        query = parse_latest_args(args)
    except UsageError:
        return
    assert 1 <= query.count <= MAX_LATEST


@QUICK
@given(words)
def test_ids_are_positive_and_within_sqlite_or_refused(args: list[str]) -> None:
    for parse in (parse_incident_id, lambda a: _user_id_argument(a, "/grant")):
        try:
            value = parse(args)
        except UsageError:
            continue
        assert 1 <= value <= SQLITE_MAX_INTEGER


@QUICK
@given(hostile_text)
def test_bounded_int_reads_only_ascii_digits_in_range(text: str) -> None:
    value = bounded_int(text, 1, 5)
    assert value is None or (1 <= value <= 5 and text.strip().isascii())


@QUICK
@given(words)
def test_count_arguments_are_a_query_or_a_usage_answer(args: list[str]) -> None:
    try:
        query = parse_count_args(args)
    except UsageError:
        return
    for day in (query.since, query.until):
        assert day is None or FIRST_STORABLE.year <= day.year <= LAST_STORABLE.year


@QUICK
@given(hostile_text)
def test_subscription_settings_parse_or_refuse_in_words(text: str) -> None:
    for parse in (parse_clock_time, parse_quiet_hours, parse_timezone, resolve_places):
        with contextlib.suppress(SubscriptionError):
            parse(text)  # type: ignore[operator]


@QUICK
@given(st.text(max_size=64))
def test_older_button_data_is_ours_or_ignored(data: str) -> None:
    parsed = parse_older_data(f"older:{data}")
    if parsed is not None:
        cursor = parsed.older_than
        assert 1 <= parsed.count <= MAX_LATEST
        assert cursor is not None and 1 <= cursor <= SQLITE_MAX_INTEGER


form_keys = st.sampled_from(
    ["title", "occurred", "country", "region", "location", "type", "subtype", "claimed_by",
     "killed", "injured", "severity", "source", "tags", "summary", "lat", "lon", "direction"]
)  # fmt: skip


@QUICK
@given(st.lists(st.tuples(form_keys, hostile_text), max_size=12))
def test_the_one_shot_form_gives_a_storable_incident_or_lists_its_problems(
    lines: list[tuple[str, str]],
) -> None:
    text = "\n".join(f"{key}: {value}" for key, value in lines)
    parsed = parse_form(text)
    try:
        content = incident_from_fields(parsed.fields, ZONE, NOW)
    except FormError as error:
        assert error.problems
        return
    assert FIRST_STORABLE <= content.occurred_at <= LAST_STORABLE
    for count in (content.killed, content.injured):
        assert count is None or 0 <= count.value <= SQLITE_MAX_INTEGER


@QUICK
@given(form_keys, st.lists(hostile_text, min_size=1, max_size=3))
def test_each_guided_answer_is_accepted_or_answered_with_a_problem(
    key: str, values: list[str]
) -> None:
    problem = check_field(key, values, ZONE, NOW)
    assert problem is None or isinstance(problem, str)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=6,
)
row_keys = st.sampled_from(
    ["external_id", "occurred_at", "title", "event_type", "country", "location", "severity",
     "killed", "injured", "killed_qualifier", "sources", "tags", "status", "latitude"]
)  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.dictionaries(row_keys, json_values, max_size=8), min_size=1, max_size=4))
async def test_import_rows_are_stored_or_named_and_the_record_stays_readable(
    rows: list[dict[str, object]],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        path = folder / "rows.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
        async with Database(folder / "db.sqlite3") as db:
            try:
                report = await import_file(
                    db, path, skip_invalid=True, clock=ManualClock(NOW), progress=False
                )
            except TransferError:
                return
            assert all(problem.line >= 1 for problem in report.problems)
            stored = [incident async for incident in iter_incidents(db.reader)]
            assert len(stored) == report.imported


def _incident(title: str, summary: str, location: str, reason: str | None) -> Incident:
    content = incident_content(
        title=title or "x", summary=summary, location=location or "x",
        sources=[{"name": f"{title[:40] or 's'}", "url": "https://example.org/a"}],
    )  # fmt: skip
    return Incident(
        **content.model_dump(), id=7, created_at=NOW, updated_at=NOW,
        status=Status.RETRACTED if reason else Status.PUBLISHED, retraction_reason=reason,
    )  # fmt: skip


def _valid_within_limits(html: str, limit: int) -> None:
    for piece in split_html(html, limit):
        assert parse_html(piece).length <= limit


long_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")))


@QUICK
@given(
    st.text(max_size=200).filter(str.strip),
    long_text.filter(lambda t: len(t) <= 3000),
    st.text(max_size=200).filter(str.strip),
    st.none() | long_text.filter(lambda t: len(t) <= 1500),
)
def test_every_rendering_is_valid_telegram_html_and_splits_within_the_limits(
    title: str, summary: str, location: str, reason: str | None
) -> None:
    try:
        incident = _incident(title, summary, location, reason)
    except ValueError:
        return  # the model refuses it: nothing to render
    for html in (
        incident_card(incident, ZONE),
        incident_list("Latest incidents", [incident] * 5, ZONE),
        alert_text(incident, ZONE),
        preview(Preview(draft_id=3, incident=incident, possible_duplicates=[incident]), ZONE),
    ):
        parse_html(html)
        _valid_within_limits(html, TEXT_LIMIT)
        _valid_within_limits(html, CAPTION_LIMIT)


def test_refusals_from_the_newsroom_are_worded_for_people() -> None:
    assert str(NewsroomError("That draft does not exist, or it is not yours."))
