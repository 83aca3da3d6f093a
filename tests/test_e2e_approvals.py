"""The two-person rule: with approvals_required = 2, a second, different admin publishes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import NewsroomSettings, Settings
from bot.context import IncidentBotApp, services_of
from bot.lifecycle import polling
from bot.record.sample import load_sample
from bot.sandbox.fake_api import FakeBotApi, SentMessage
from storage.db import Database
from tests.people import Person
from tests.test_e2e_admin import TOWER_FORM, table_counts
from tests.test_long_and_double import everything_said


@pytest.fixture
async def strict_bot(settings: Settings, clock: ManualClock) -> AsyncIterator[IncidentBotApp]:
    settings.newsroom = NewsroomSettings(approvals_required=2)
    async with Database(settings.storage.path) as database:
        await load_sample(database, clock)
    async with polling(build_application(settings, clock), poll_timeout=1) as app:
        yield app


async def test_one_admins_publish_is_an_approval_and_a_second_admins_publishes(
    strict_bot: IncidentBotApp, owner: Person, alice: Person
) -> None:
    db = services_of(strict_bot).db
    await owner.says(f"/grant {alice.user.id}")
    preview = await owner.says(TOWER_FORM)
    before = await table_counts(db)

    approved = await owner.presses(preview, "Publish")
    assert approved.method == "editMessageText"
    assert approved.text.endswith("Approved by Olivia (1/2)")
    said = await owner.next_reply()
    assert said.text.startswith("Approved by Olivia (1/2). Sent to 1 other admin(s)")
    assert (await table_counts(db))["incidents"] == before["incidents"]

    # The same admin pressing again does not count as the second approval.
    again = await owner.presses(approved, "Publish")
    assert again.text.startswith("Approved by Olivia (1/2). Sent to 1")
    assert (await table_counts(db))["incidents"] == before["incidents"]
    queue = await owner.says("/queue")
    assert "Waiting for a second approval" in queue.text
    assert "Drone strikes Tower 22 again — approved by Olivia (1/2)" in queue.text

    asked = await alice.next_reply()
    assert asked.text.startswith("Approved by Olivia (1/2)")
    assert "Drone strikes Tower 22 again" in asked.text
    assert asked.button_texts == ["Approve and publish", "Cancel"]
    await alice.next_reply()  # the same request again, from the second press
    closed = await alice.presses(asked, "Approve and publish")
    assert "Published as #" in closed.text
    published = await alice.next_reply()
    assert published.text.startswith("Published as #")
    assert (await table_counts(db))["incidents"] == before["incidents"] + 1

    audit = await owner.says("/audit 3")
    assert "approve" in audit.text and "publish" in audit.text
    entries = await services_of(strict_bot).admins.recent_actions(3)
    actions = [(entry.action, entry.actor_id) for entry in entries]
    assert ("approve", owner.user.id) in actions and ("publish", alice.user.id) in actions


async def test_without_a_second_admin_the_first_is_told_to_grant_one(
    strict_bot: IncidentBotApp, owner: Person
) -> None:
    preview = await owner.says(TOWER_FORM)
    await owner.presses(preview, "Publish")
    told = await owner.next_reply()
    assert "No other admin can give the second approval" in told.text
    assert "/grant USER_ID" in told.text


async def test_a_correction_waits_for_a_second_admin_who_applies_it(
    strict_bot: IncidentBotApp, owner: Person, alice: Person
) -> None:
    incidents = services_of(strict_bot).incidents
    await owner.says(f"/grant {alice.user.id}")
    before = await incidents.get(17)
    assert before is not None

    own = await owner.says("/edit 17\ninjured: at least 9")
    assert own.text.startswith("Correction of #17 approved by Olivia (1/2)")
    assert "Correction of #17 — not applied yet" in own.text and "injured: at least 9" in own.text
    assert own.button_texts == ["Approve and apply", "Cancel"]
    said = await owner.next_reply()
    assert said.text.endswith(
        "Sent to 1 other admin(s); it is applied when one of them approves it."
    )
    assert await incidents.get(17) == before

    # The same admin approving again does not count.
    again = await owner.presses(own, "Approve and apply")
    assert again.text.startswith("Correction of #17 approved by Olivia (1/2). Sent to 1")
    assert await incidents.get(17) == before

    asked = await alice.next_reply()
    assert asked.button_texts == ["Approve and apply", "Cancel"]
    await alice.next_reply()  # the same request again, from the second press
    closed = await alice.presses(asked, "Approve and apply")
    assert closed.text.endswith("✅ Applied to #17.")
    applied = await alice.next_reply()
    assert applied.text.startswith("#17 updated:\ninjured: ")
    after = await incidents.get(17)
    assert after is not None and after.injured != before.injured

    # Either copy pressed afterwards changes nothing more.
    late = await owner.presses(own, "Cancel")
    assert late.text.endswith("That correction of #17 was already applied.")
    entries = await services_of(strict_bot).admins.recent_actions(5)
    approvals = {e.actor_id: e.subject for e in entries if e.action == "approve"}
    assert approvals == {
        owner.user.id: "draft 1: edit of incident 17",
        alice.user.id: "draft 1: edit of incident 17",
    }
    edit = next(entry for entry in entries if entry.action == "edit")
    assert edit.actor_id == alice.user.id
    assert edit.detail["approved_by"] == [owner.user.id, alice.user.id]


async def test_a_retraction_either_admin_cancels_stays_unapplied(
    strict_bot: IncidentBotApp, owner: Person, alice: Person
) -> None:
    incidents = services_of(strict_bot).incidents
    await owner.says(f"/grant {alice.user.id}")
    own = await owner.says("/retract 16 Duplicate of #17")
    assert own.text.startswith("Retraction of #16 approved by Olivia (1/2)")
    assert "Reason: Duplicate of #17" in own.text
    await owner.next_reply()
    asked = await alice.next_reply()
    cancelled = await alice.presses(asked, "Cancel")
    assert cancelled.text.endswith("✖️ Cancelled. #16 is unchanged.")
    refused = await owner.presses(own, "Approve and apply")
    assert refused.text.endswith("That retraction of #16 was already cancelled.")
    incident = await incidents.get(16)
    assert incident is not None and not incident.is_retracted
    assert "Waiting for a second approval" not in (await owner.says("/queue")).text


async def test_a_retraction_without_a_second_admin_asks_for_an_editor(
    strict_bot: IncidentBotApp, owner: Person
) -> None:
    own = await owner.says("/retract 16 Duplicate of #17")
    assert own.button_texts == ["Approve and apply", "Cancel"]
    told = await owner.next_reply()
    assert "No other admin can give the second approval" in told.text
    assert "press Approve and apply again" in told.text
    queue = await owner.says("/queue")
    assert "retraction of #16 — approved by Olivia (1/2)" in queue.text


async def approved_once(owner: Person, *editors: Person) -> dict[Person, SentMessage]:
    """The owner grants the editors and publishes a draft; each editor's request to approve."""
    for person in editors:
        await owner.says(f"/grant {person.user.id}")
    preview = await owner.says(TOWER_FORM)
    await owner.presses(preview, "Publish")
    await owner.next_reply()
    return {person: await person.next_reply() for person in editors}


async def test_two_admins_approving_at_the_same_moment_publish_once(
    strict_bot: IncidentBotApp, telegram: FakeBotApi, owner: Person, alice: Person, bob: Person
) -> None:
    db = services_of(strict_bot).db
    before = await table_counts(db)
    asked = await approved_once(owner, alice, bob)
    for person, message in asked.items():
        telegram.press_button(person.user, message, "Approve and publish")
    said = {person: await everything_said(strict_bot, telegram, person.chat_id) for person in asked}
    texts = ["\n".join(m.text for m in messages) for messages in said.values()]
    assert sum("Published as #" in text for text in texts) == 1
    assert sum("That draft was already published as #" in text for text in texts) == 1
    assert (await table_counts(db))["incidents"] == before["incidents"] + 1


async def test_approve_and_cancel_pressed_together_agree_with_the_record(
    strict_bot: IncidentBotApp, telegram: FakeBotApi, owner: Person, alice: Person, bob: Person
) -> None:
    db = services_of(strict_bot).db
    before = await table_counts(db)
    asked = await approved_once(owner, alice, bob)
    telegram.press_button(alice.user, asked[alice], "Approve and publish")
    telegram.press_button(bob.user, asked[bob], "Cancel")
    approver = "\n".join(m.text for m in await everything_said(strict_bot, telegram, alice.chat_id))
    canceller = "\n".join(m.text for m in await everything_said(strict_bot, telegram, bob.chat_id))
    published = (await table_counts(db))["incidents"] - before["incidents"]
    if published:
        assert "Published as #" in approver
        assert "already published as #" in canceller and "Cancelled" not in canceller
    else:
        assert "Cancelled. Nothing was published." in canceller
        assert "already closed; nothing was published" in approver
        assert "Published as #" not in approver
    assert published in (0, 1)
    assert (await services_of(strict_bot).newsroom.awaiting_approval()) == []


async def test_an_approval_by_an_editor_revoked_since_no_longer_counts(
    strict_bot: IncidentBotApp, telegram: FakeBotApi, owner: Person, alice: Person
) -> None:
    db = services_of(strict_bot).db
    await owner.says(f"/grant {alice.user.id}")
    preview = await alice.says(TOWER_FORM)
    await alice.presses(preview, "Publish")
    await everything_said(strict_bot, telegram, alice.chat_id)
    (asked,) = [
        m for m in await everything_said(strict_bot, telegram, owner.chat_id) if m.button_texts
    ]
    await owner.says(f"/revoke {alice.user.id}")
    before = await table_counts(db)

    telegram.press_button(owner.user, asked, "Approve and publish")
    said = "\n".join(m.text for m in await everything_said(strict_bot, telegram, owner.chat_id))
    assert "Published as #" not in said
    assert "Approved by Olivia (1/2)" in said
    assert (await table_counts(db))["incidents"] == before["incidents"]


async def test_another_admins_draft_cannot_be_taken_over_with_forged_buttons(
    strict_bot: IncidentBotApp, telegram: FakeBotApi, owner: Person, alice: Person
) -> None:
    db = services_of(strict_bot).db
    await owner.says(f"/grant {alice.user.id}")
    preview = await owner.says(TOWER_FORM)
    await owner.says("/post")
    await owner.says("Secret headline in progress")
    guided = await owner.next_reply()
    assert guided.text.startswith("2/")
    own_drafts = await db.reader.execute_fetchall("SELECT id FROM drafts ORDER BY id")
    preview_id, guided_id = (row[0] for row in own_drafts)
    help_message = await alice.says("/help")
    before = await table_counts(db)

    for draft_id in (guided_id, preview_id):
        for action in ("use", "publish", "edit", "cancel"):
            telegram.press_forged(alice.user, help_message, f"draft:{action}:{draft_id}")
    said = await everything_said(strict_bot, telegram, alice.chat_id)
    assert all(m.method == "sendMessage" for m in said)  # /help is not edited
    refusals = [m.text for m in said]
    assert len(refusals) == 8
    assert refusals.count(f"Draft {guided_id} is still being written with /post; no button "
                          "acts on it.") == 4  # fmt: skip
    assert all("another admin's" in text for text in refusals[4:])
    assert "Secret headline" not in "\n".join(refusals)
    statuses = await db.reader.execute_fetchall("SELECT status FROM drafts ORDER BY id")
    assert [row[0] for row in statuses] == ["open", "open"]
    assert (await table_counts(db))["incidents"] == before["incidents"]
    (refused,) = await services_of(strict_bot).admins.recent_actions(1)
    assert (refused.action, refused.actor_id) == ("refused", alice.user.id)
    assert refused.subject == f"use of draft {guided_id}"  # once per window, like others

    # The owner's conversation carries on where it was, and their preview still works.
    assert not await everything_said(strict_bot, telegram, owner.chat_id)
    carried_on = await owner.says("2024-08-10 01:30")
    assert carried_on.text.startswith("3/")
    published = await owner.presses(preview, "Publish")
    assert published.text.endswith("Approved by Olivia (1/2)")
