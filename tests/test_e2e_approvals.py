"""The two-person rule: with approvals_required = 2, a second, different admin publishes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import NewsroomSettings, Settings
from bot.context import IncidentBotApp, services_of
from bot.lifecycle import polling
from tests.people import Person
from tests.test_e2e_admin import TOWER_FORM, table_counts


@pytest.fixture
async def strict_bot(settings: Settings, clock: ManualClock) -> AsyncIterator[IncidentBotApp]:
    settings.newsroom = NewsroomSettings(approvals_required=2)
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
