"""The desk, faster: /draft's "Use this draft" button opens the normal preview, once."""

from __future__ import annotations

import threading
from datetime import date

import pytest

import handlers.posting
from bot.context import IncidentBotApp, services_of
from bot.newsroom.extractor import ReportProposal, propose_incident
from bot.newsroom.guided_post import ANSWERED, STEPS
from bot.sandbox.fake_api import FakeBotApi
from tests.people import Person
from tests.test_e2e_admin import table_counts
from tests.test_long_and_double import everything_said

REPORT = (
    "Rockets struck Ain al-Asad Air Base in Iraq on 5 August 2024, injuring at least five US "
    "service members, officials said. No group has claimed responsibility. "
    "Full story: https://wire.example.org/ain-al-asad?id=7&src=feed."
)


async def test_use_this_draft_opens_the_preview_once_and_only_publish_publishes(
    owner: Person, telegram: FakeBotApi, running_bot: IncidentBotApp
) -> None:
    db = services_of(running_bot).db
    before = await table_counts(db)
    proposed = await owner.says(f"/draft {REPORT}")
    assert proposed.button_texts == ["Use this draft"]
    assert "source: https://wire.example.org/ain-al-asad?id=7&src=feed" in proposed.text

    # Pressed twice at once: one preview, and the second press says so.
    telegram.press_button(owner.user, proposed, "Use this draft")
    telegram.press_button(owner.user, proposed, "Use this draft")
    said = await everything_said(running_bot, telegram, owner.chat_id)
    previews = [m for m in said if "not published yet" in m.text and m.method == "sendMessage"]
    assert len(previews) == 1
    preview = previews[0]
    assert preview.button_texts == ["Publish", "Edit", "Cancel"]
    assert "Where: Ain al-Asad Air Base" in preview.text
    assert any(m.text.endswith("preview is already open above.") for m in said)
    assert (await table_counts(db))["incidents"] == before["incidents"]

    await owner.presses(preview, "Publish")
    published = await owner.next_reply()
    assert published.text.startswith("Published as #")
    assert (await table_counts(db))["incidents"] == before["incidents"] + 1

    # The button again, after the draft was used (a stale copy, say): nothing happens.
    draft_data = dict(proposed.buttons[0])["Use this draft"]
    telegram.press_forged(owner.user, proposed, draft_data)
    said = await everything_said(running_bot, telegram, owner.chat_id)
    assert said[-1].text.startswith("That draft was already published as #")
    assert (await table_counts(db))["incidents"] == before["incidents"] + 1


async def test_others_are_answered_while_a_report_is_being_read(
    owner: Person,
    bob: Person,
    telegram: FakeBotApi,
    running_bot: IncidentBotApp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A reading that lasts until Bob has had his answer: were it done on the event loop,
    # Bob would never get one (and the reading would give up after 30 s).
    bob_answered = threading.Event()

    def slow_reading(text: str, *, published: date | None = None) -> ReportProposal:
        bob_answered.wait(timeout=30)
        return propose_incident(text, published=published)

    monkeypatch.setattr(handlers.posting, "propose_incident", slow_reading)
    telegram.send_message(owner.user, f"/draft {REPORT}")
    answer = await bob.says("/start")
    bob_answered.set()
    assert answer.text
    proposed = await owner.next_reply()
    assert proposed.button_texts == ["Use this draft"]


async def test_use_this_draft_of_a_form_with_blanks_lists_what_is_missing(
    owner: Person, running_bot: IncidentBotApp
) -> None:
    proposed = await owner.says("/draft A drone struck Harir Air Base in Erbil on Tuesday.")
    problems = await owner.presses(proposed, "Use this draft")
    assert problems.text.startswith("The form needs fixing:")
    assert "source" in problems.text
    # The form stays, with its button, to be completed and sent as /post.
    (kept,) = [
        m for m in owner.api.messages_in(owner.chat_id) if m.message_id == proposed.message_id
    ]
    assert kept.button_texts == ["Use this draft"]


async def test_the_guided_post_collects_sources_over_several_messages_until_done(
    owner: Person, running_bot: IncidentBotApp
) -> None:
    # Every question before the sources is answered already (a draft kept from before).
    newsroom = services_of(running_bot).newsroom
    kept = await newsroom.guided_draft(owner.user.id)
    answered = {
        "title": ["Rocket attack on Union III"], "occurred": ["2024-09-10 23:30"],
        "location": ["Union III"], "region": ["Baghdad"], "country": ["Iraq"],
        "type": ["Explosions/Remote violence"], "killed": ["0"], "injured": ["0"],
        "claimed_by": ["none"], "direction": ["on"], "verification": ["reported"],
        "severity": ["2"],
        ANSWERED: [step.name for step in STEPS if step.name not in {"source", "summary"}],
    }  # fmt: skip
    assert await newsroom.answer(kept.id, answered) is None
    await owner.says("/post")
    assert (await owner.next_reply()).text.startswith("10/11 Sources: send them in one")

    exchange = [
        ("done", "No source yet: send at least one before “done”."),
        ("Example Wire https://wire.example.org/union-iii", "Sources so far (1):"),
        ("ftp://files.example.org/report", "“ftp://files.example.org/report” is not a web"),
        ("https://a.example.org/1 Second Desk https://b.example.org/2", "Sources so far (3):"),
        ("Example Wire https://wire.example.org/union-iii", "Sources so far (3):"),
        ("done", "11/11"),
    ]
    replies = []
    for message, expected in exchange:
        replies.append(await owner.says(message))
        assert expected in replies[-1].text, (message, replies[-1].text)
    # The same source again is not listed twice.
    assert replies[4].text.startswith(
        "Sources so far (3):\n1. Example Wire https://wire.example.org/union-iii\n"
        "2. https://a.example.org/1\n3. Second Desk https://b.example.org/2\n"
    )

    preview = await owner.says("-")
    assert preview.text.startswith("Draft ")
    assert "Sources: Example Wire, a.example.org, Second Desk" in preview.text
    for link in ("wire.example.org/union-iii", "a.example.org/1", "b.example.org/2"):
        assert f'href="https://{link}"' in (preview.html or "")
