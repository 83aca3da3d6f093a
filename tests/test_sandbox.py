"""`incident-bot sandbox`: the terminal rendering, the clock, scripts, and the documented demo.

Each docs/sandbox-*.txt script has its transcript next to it (.out), and the README
quotes them. To regenerate them after a change to what the bot says:

    REGENERATE_DOCS=1 pytest tests/test_sandbox.py
    # or, one by one: python -m bot sandbox --script docs/sandbox-demo.txt > docs/sandbox-demo.out
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.models import OutboxKind
from bot.render.telegram_html import parse_html
from bot.sandbox.clock import SandboxClock, describe_shift, parse_clock_change
from bot.sandbox.console import outcome_lines, parse_script, run_lines
from bot.sandbox.objects import SentMessage
from bot.sandbox.session import PEOPLE, Arrival, Outcome, Popup, Sandbox, SandboxOptions
from bot.sandbox.terminal import button_lines, buttons_of, first_words, format_text
from bot.sandbox.terminal import message_lines as lines_of
from tests.conftest import UNPACED_CHATS

ROOT = Path(__file__).resolve().parents[1]
DOC_SCRIPTS = sorted((ROOT / "docs").glob("sandbox-*.txt"))
BAGHDAD = ZoneInfo("Asia/Baghdad")
YOU, OWNER, ALICE, BOB, CAROL = PEOPLE


def sent(
    html: str = "",
    *,
    method: str = "sendMessage",
    keyboard: list[list[dict[str, str]]] | None = None,
    photo: bytes | None = None,
    chat_id: int = YOU.user_id,
    message_id: int = 1,
) -> SentMessage:
    parsed = parse_html(html)
    markup: dict[str, Any] | None = {"inline_keyboard": keyboard} if keyboard else None
    return SentMessage(
        chat_id=chat_id,
        message_id=message_id,
        method=method,
        html=html,
        text=parsed.text,
        entities=parsed.entities,
        parse_mode="HTML",
        reply_markup=markup,
        photo=photo,
        caption=html if photo is not None else None,
        date=0,
    )


PREVIEW_BUTTONS = [
    [
        {"text": "Publish", "callback_data": "draft:1:publish"},
        {"text": "Edit", "callback_data": "draft:1:edit"},
        {"text": "Cancel", "callback_data": "draft:1:cancel"},
    ],
    [{"text": "Read the report", "url": "https://wire.example.org/a"}],
]


# ---------------------------------------------------------------------- rendering


def test_script_output_drops_styles_but_keeps_link_addresses() -> None:
    parsed = parse_html(
        '<b>Rockets</b> hit <i>the base</i> — <a href="https://wire.example.org/a">Example Wire</a>'
    )
    assert format_text(parsed.text, parsed.entities, ansi=False) == (
        "Rockets hit the base — Example Wire (https://wire.example.org/a)"
    )


@pytest.mark.parametrize("label", ["https://example.org/", "example.org", "https://example.org"])
def test_a_link_that_shows_its_own_address_is_not_repeated(label: str) -> None:
    parsed = parse_html(f'<a href="https://example.org/">{label}</a>')
    assert format_text(parsed.text, parsed.entities, ansi=False) == label


def test_terminal_output_nests_styles_and_closes_them_at_each_line_end() -> None:
    parsed = parse_html("<b>bold <i>both\nstill</i></b> plain")
    assert format_text(parsed.text, parsed.entities, ansi=True) == (
        "\x1b[1mbold \x1b[0m\x1b[1;3mboth\x1b[0m\n\x1b[1;3mstill\x1b[0m plain"
    )


def test_entity_offsets_count_utf16_so_emoji_before_them_do_not_shift_them() -> None:
    parsed = parse_html('🚨 <b>New</b> 🇮🇶 <a href="https://a.example/x">card</a> <s>old</s>')
    assert format_text(parsed.text, parsed.entities, ansi=True) == (
        "🚨 \x1b[1mNew\x1b[0m 🇮🇶 \x1b[4;34mcard\x1b[0m\x1b[2m (https://a.example/x)\x1b[0m "
        "\x1b[9mold\x1b[0m"
    )


def test_buttons_are_numbered_across_rows_and_links_show_where_they_go() -> None:
    message = sent("Draft 1", keyboard=PREVIEW_BUTTONS)
    assert button_lines(buttons_of(message)) == [
        "[1] Publish  [2] Edit  [3] Cancel",
        "[4] Read the report (https://wire.example.org/a)",
    ]
    numbered = [button for row in buttons_of(message) for button in row]
    assert [(b.number, b.callback_data) for b in numbered][:2] == [
        (1, "draft:1:publish"),
        (2, "draft:1:edit"),
    ]
    assert numbered[3].callback_data is None and numbered[3].url == "https://wire.example.org/a"


def test_a_photo_is_named_by_where_it_was_saved_and_its_caption_follows() -> None:
    message = sent("<b>Tension</b>\nIraq: high", photo=b"\x89PNG...")
    assert lines_of(message, ansi=False, photo_path="photos/photo-1.png") == [
        "[photo saved to photos/photo-1.png]",
        "Tension",
        "Iraq: high",
    ]


def test_an_edit_shows_only_the_lines_that_changed() -> None:
    menu = "<b>Your subscription</b>\n\nPlaces: everywhere\nAlerts: 3+\nDigest: daily"
    before = sent(menu, keyboard=PREVIEW_BUTTONS[:1])
    after = sent(
        menu.replace("everywhere", "Iraq"), method="editMessageText", keyboard=PREVIEW_BUTTONS[:1]
    )
    assert lines_of(after, ansi=False, previous=before) == [
        "(edited) …",
        "Places: Iraq",
        "…",
        "[1] Publish  [2] Edit  [3] Cancel",
    ]
    # Not knowing the earlier version, the console shows the whole message.
    assert lines_of(after, ansi=False)[:2] == ["(edited) Your subscription", ""]


def test_an_edit_that_takes_the_buttons_away_says_so() -> None:
    before = sent("Draft 1\n\nRockets hit the base", keyboard=PREVIEW_BUTTONS[:1])
    after = sent(
        "Draft 1\n\nRockets hit the base\n\n✅ Published as #19.", method="editMessageText"
    )
    assert lines_of(after, ansi=False, previous=before) == [
        "(edited) …",
        "✅ Published as #19.",
        "(buttons removed)",
    ]


def test_the_gist_of_a_message_joins_a_short_heading_to_the_next_line() -> None:
    alert = sent("🚨 <b>New incident</b>\n\n<b>Rockets strike Ain al-Asad Air Base</b>  #17\n…")
    assert first_words(alert) == "🚨 New incident — Rockets strike Ain al-Asad Air Base  #17"
    long = sent("A heading that is long enough to stand on its own, and longer still than that")
    assert first_words(long, width=40) == "A heading that is long enough to stand…"


def test_messages_to_others_are_summarised_and_counted_when_many() -> None:
    alert = sent("🚨 <b>New incident</b>\n\nRockets fired at Victory Base Complex")
    few = Outcome(arrivals=[Arrival(YOU, alert, OutboxKind.ALERT)])
    assert outcome_lines(few, OWNER, ansi=False) == [
        "  ↳ alert to You: 🚨 New incident — Rockets fired at Victory Base Complex"
    ]
    many = Outcome(
        arrivals=[Arrival(persona, alert, OutboxKind.ALERT) for persona in (YOU, ALICE, BOB, CAROL)]
        + [Arrival(ALICE, sent("📰 Daily digest"), OutboxKind.DIGEST)]
    )
    assert outcome_lines(many, OWNER, ansi=False) == [
        "  ↳ 4 alerts to You, Alice, Bob and Carol",
        "  ↳ 1 digest to Alice",
    ]


def test_a_popup_comes_first_and_silence_is_said() -> None:
    outcome = Outcome(popup=Popup("Saved", alert=False))
    assert outcome_lines(outcome, YOU, ansi=False) == ["  [notice] Saved"]
    assert outcome_lines(Outcome(), YOU, ansi=False) == ["  (no reply)"]


# ---------------------------------------------------------------------- the clock


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("+1d", timedelta(days=1)),
        ("+3h", timedelta(hours=3)),
        ("+30m", timedelta(minutes=30)),
        ("+1d12h", timedelta(days=1, hours=12)),
        ("+ 1d 3h", timedelta(days=1, hours=3)),
        ("+2w", timedelta(weeks=2)),
        ("-2H", -timedelta(hours=2)),
    ],
)
def test_steps_move_the_clock_by_that_much(text: str, step: timedelta) -> None:
    assert parse_clock_change(text, BAGHDAD) == step


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2024-08-10 12:00", datetime(2024, 8, 10, 9, 0, tzinfo=UTC)),
        ("2024-08-10T12:00", datetime(2024, 8, 10, 9, 0, tzinfo=UTC)),
        ("2024-08-10", datetime(2024, 8, 9, 21, 0, tzinfo=UTC)),
        ("2024-08-10 12:00+00:00", datetime(2024, 8, 10, 12, 0, tzinfo=UTC)),
    ],
)
def test_times_are_read_in_the_bot_timezone_unless_they_carry_an_offset(
    text: str, moment: datetime
) -> None:
    assert parse_clock_change(text, BAGHDAD) == moment


@pytest.mark.parametrize("text", ["", "tomorrow", "+0d", "+1x", "1d", "+d", "2024-13-01"])
def test_anything_else_is_refused_with_examples(text: str) -> None:
    with pytest.raises(ValueError, match=r"/clock \+1d"):
        parse_clock_change(text, BAGHDAD)


def test_the_sandbox_clock_runs_on_from_wherever_it_was_set() -> None:
    real = [datetime(2026, 3, 1, 8, 0, tzinfo=UTC)]
    clock = SandboxClock(lambda: real[0])
    assert clock.now() == real[0]
    clock.set(datetime(2024, 8, 10, 12, 0, tzinfo=UTC))
    real[0] += timedelta(seconds=5)
    assert clock.now() == datetime(2024, 8, 10, 12, 0, 5, tzinfo=UTC)
    clock.advance(timedelta(days=1))
    assert clock.now() == datetime(2024, 8, 11, 12, 0, 5, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.set(datetime(2024, 8, 10, 12, 0))


def test_shifts_are_described_for_people() -> None:
    assert describe_shift(timedelta(days=1)) == "+1 day"
    assert describe_shift(timedelta(days=2, hours=3, minutes=1)) == "+2 days 3 hours 1 minute"
    assert describe_shift(-timedelta(minutes=30)) == "-30 minutes"


# ---------------------------------------------------------------------- scripts


def test_scripts_have_comments_blank_lines_and_continued_lines() -> None:
    entries = parse_script(["# hello", "", "/latest 3", "/post \\", "title: x\\", "country: Iraq"])
    assert [(entry.kind, entry.text) for entry in entries] == [
        ("comment", "# hello"),
        ("blank", ""),
        ("line", "/latest 3"),
        ("line", "/post\ntitle: x\ncountry: Iraq"),
    ]


async def run_script(script: str, options: SandboxOptions | None = None) -> tuple[int, str]:
    out = io.StringIO()
    # Unpaced, as in the rest of the suite: a transcript does not depend on the pace.
    settings = Settings(delivery=UNPACED_CHATS)
    async with Sandbox.open(settings, options or SandboxOptions()) as sandbox:
        status = await run_lines(sandbox, script.splitlines(), out)
    return status, out.getvalue()


@pytest.mark.parametrize("script", DOC_SCRIPTS, ids=[path.stem for path in DOC_SCRIPTS])
async def test_each_documented_script_gives_its_documented_transcript(script: Path) -> None:
    status, transcript = await run_script(script.read_text("utf-8"))
    documented = script.with_suffix(".out")
    if os.environ.get("REGENERATE_DOCS"):
        documented.write_text(transcript, "utf-8")
    assert transcript == documented.read_text("utf-8")
    assert status == 0


async def test_console_commands_switch_people_press_buttons_and_report_mistakes(
    tmp_path: Path,
) -> None:
    script = """\
/clock 2024-08-10 12:00
/as
/as nobody
/press 1
/latest 1
/press Older
/subscribe
[Iraq]
[99]
/as alice
/clock +1h
/clock soon
/tension Iraq
/quit
/start
"""
    status, transcript = await run_script(script, SandboxOptions(photos_dir=tmp_path))
    assert status == 1  # four lines were refused
    answers = answers_in(transcript)
    assert answers[0] == [
        "You> /clock 2024-08-10 12:00",
        "  [sandbox] clock: Sat 10 Aug 2024, 12:00 UTC",
    ]
    assert "    owner  Owner  id 100002  owner" in answers[1]
    assert "    you    You    id 100001        ← typing" in answers[1]
    assert answers[2][1] == (
        "  [sandbox] There is nobody called 'nobody' here; choose from you, owner, alice, bob, "
        "carol"
    )
    assert answers[3][1] == "  [sandbox] There is no message with buttons in You's chat"
    assert "  #18 · 9 Aug 2024 · Rumalyn Landing Zone, Hasakah, Syria" in answers[4]
    assert answers[4][-1] == "  [1] Older ▸"
    assert "  #17 · 5 Aug 2024 · Ain al-Asad Air Base, Anbar, Iraq" in answers[5]
    assert "  [5] Iraq  [6] Syria  [7] Levant" in answers[6]
    assert answers[7][:5] == [
        "You> [Iraq]",
        "  [notice] Saved",
        "  (edited) …",
        "  📍 Places: Iraq",
        "  …",
    ]
    assert "  [5] ✅ Iraq  [6] Syria  [7] Levant" in answers[7]
    assert answers[8][1].startswith("  [sandbox] The latest message with buttons has no button")
    assert answers[9] == ["You> /as alice", "  [sandbox] now typing as Alice (id 100003)"]
    assert answers[10] == [
        "Alice> /clock +1h",
        "  [sandbox] clock: Sat 10 Aug 2024, 13:00 UTC (+1 hour)",
    ]
    assert answers[11][1].startswith("  [sandbox] I can't read 'soon'")
    chart = tmp_path / "photo-1.png"
    assert answers[12][1] == f"  [photo saved to {chart}]"
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert answers[13] == ["Alice> /quit"]
    assert len(answers) == 14  # nothing runs after /quit


def answers_in(transcript: str) -> list[list[str]]:
    """The transcript cut at each echoed line: the line, then what came of it."""
    answers: list[list[str]] = []
    for line in transcript.splitlines():
        if re.match(r"^[A-Z][a-z]+> ", line):
            answers.append([line])
        elif line and answers:
            answers[-1].append(line)
    return answers


async def test_moving_the_clock_far_sends_each_digest_on_the_way() -> None:
    script = "/subscribe Iraq\n/settings chart off\n/clock +2d12h"
    start = datetime(2024, 8, 10, 12, 0, tzinfo=UTC)
    status, transcript = await run_script(script, SandboxOptions(start=start))
    assert status == 0
    moved = answers_in(transcript)[2]
    assert moved[1] == "  [sandbox] clock: Tue 13 Aug 2024, 00:00 UTC (+2 days 12 hours)"
    # Not skipped as "missed by more than the grace period": the bot ran all along.
    assert [line for line in moved if "Daily digest" in line] == [
        "  📰 Daily digest · 11 Aug 2024",
        "  📰 Daily digest · 12 Aug 2024",
    ]


async def test_as_admin_makes_you_an_owner() -> None:
    status, transcript = await run_script("/as\n/audit 1", SandboxOptions(as_admin=True))
    assert status == 0
    assert "    you    You    id 100001  owner ← typing" in transcript
    assert "Not authorised" not in transcript


async def test_a_script_describes_photos_it_was_not_asked_to_keep() -> None:
    status, transcript = await run_script("/tension Iraq")
    assert status == 0
    assert answers_in(transcript)[0][1] == "  [photo, 1200×510]"


def test_the_command_line_reads_a_script_from_standard_input() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("INCIDENT_BOT")}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--script", "-"],
        input="/clock 2024-08-10 12:00\n/incident 17\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # the sandbox logs warnings only, and there were none
    assert done.stdout.startswith(
        "You> /clock 2024-08-10 12:00\n  [sandbox] clock: Sat 10 Aug 2024, 12:00 UTC\n\n"
        "You> /incident 17\n  Rockets strike Ain al-Asad Air Base  #17\n"
    )


def test_the_sandbox_refuses_the_bots_own_database(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite3"
    env = {key: value for key, value in os.environ.items() if not key.startswith("INCIDENT_BOT")}
    env["INCIDENT_BOT_STORAGE__PATH"] = str(live)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--db", str(live)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "give the sandbox a copy: incident-bot db backup COPY" in done.stderr
    assert not live.exists()


def test_transcripts_quoted_in_the_readme_are_current() -> None:
    """A README example that starts at a sandbox prompt must be part of a transcript."""
    readme = (ROOT / "README.md").read_text("utf-8")
    transcripts = [script.with_suffix(".out").read_text("utf-8") for script in DOC_SCRIPTS]
    prompts = tuple(f"{persona.name}> " for persona in PEOPLE)
    for block in re.findall(r"^```text\n(.*?)^```", readme, flags=re.MULTILINE | re.DOTALL):
        if block.startswith(prompts):
            assert any(block in transcript for transcript in transcripts), block
