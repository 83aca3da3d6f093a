"""Messages at Telegram's length limits, and a preview's buttons pressed twice."""

from __future__ import annotations

import pytest

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import NewsroomSettings, Settings
from bot.context import IncidentBotApp, services_of
from bot.lifecycle import polling
from bot.sandbox.fake_api import FakeBotApi, SentMessage
from tests.delivery_helpers import settled
from tests.people import Person
from tests.test_e2e_admin import TOWER_FORM

# A valid incident whose card is close to Telegram's 4,096 characters.
LONG_SUMMARY = " ".join(f"Sentence {n} of a long but valid account." for n in range(70))[:2990]
LONG_FORM = TOWER_FORM.replace(
    "summary: A drone struck the outpost.\nThree people were reported hurt.",
    f"summary: {LONG_SUMMARY}",
).replace(
    "tags: drone",
    "".join(
        f"source: Regional wire service number {n} https://wire.example.org/{n}\n"
        for n in range(24)
    )
    + "tags: drone",
)


async def everything_said(
    app: IncidentBotApp, telegram: FakeBotApi, chat_id: int
) -> list[SentMessage]:
    """All the bot said (or edited) in the chat since the last look, once it has finished."""
    await settled(app, telegram)
    said = telegram.pending_replies(chat_id)
    for _ in said:
        await telegram.next_reply(chat_id)
    return said


async def test_a_long_incident_reaches_subscribers_and_the_channel_and_can_be_retracted(
    settings: Settings, clock: ManualClock, telegram: FakeBotApi, owner: Person, alice: Person
) -> None:
    channel = telegram.add_channel("Incidents", username="incident_feed")
    settings.telegram.channel_id = "@incident_feed"
    async with polling(build_application(settings, clock), poll_timeout=1) as app:
        await alice.says("/subscribe everywhere")
        preview = await owner.says(LONG_FORM)
        assert preview.reply_markup is not None, preview.text[:200]
        assert len(preview.text) > 3900, len(preview.text)
        telegram.press_button(owner.user, preview, "Publish")
        owner_saw = await everything_said(app, telegram, owner.chat_id)
        assert any(m.text.startswith("Published as #") for m in owner_saw), owner_saw
        assert all(m.reply_markup is None for m in owner_saw if m.message_id == preview.message_id)

        alert = await everything_said(app, telegram, alice.chat_id)
        assert LONG_SUMMARY[-40:] in "".join(m.text for m in alert)
        post = await everything_said(app, telegram, channel.id)
        assert LONG_SUMMARY[-40:] in "".join(m.text for m in post)

        incident = (await services_of(app).incidents.latest(1)).incidents[0]
        reason = "Misdated: " + "the report gave the wrong day. " * 50
        await owner.says(f"/retract {incident.id} {reason}")
        retracted = await everything_said(app, telegram, channel.id)
        assert retracted[0].method == "editMessageText"
        assert retracted[0].message_id == post[0].message_id
        assert "Retracted" in "".join(m.text for m in retracted)
    assert [e for e in telegram.errors if "too long" in str(e[2])] == []


@pytest.mark.parametrize(
    ("second", "never_said"),
    [("Cancel", "Cancelled. Nothing was published."), ("Edit", "Change what needs changing")],
)
async def test_publish_and_another_button_pressed_together_publish_once_and_say_so(
    owner: Person, telegram: FakeBotApi, running_bot: IncidentBotApp, second: str, never_said: str
) -> None:
    preview = await owner.says(TOWER_FORM)
    telegram.press_button(owner.user, preview, "Publish")
    telegram.press_button(owner.user, preview, second)
    said = await everything_said(running_bot, telegram, owner.chat_id)
    texts = "\n".join(m.text for m in said)
    assert "Published as #" in texts and "already published as #" in texts
    assert never_said not in texts
    async with services_of(running_bot).db.reader.execute(
        "SELECT count(*) FROM incidents WHERE title = 'Drone strikes Tower 22 again'"
    ) as cursor:
        assert (await cursor.fetchone())[0] == 1  # type: ignore[index]


async def test_four_quick_taps_on_a_preview_publish_once_and_never_go_wrong(
    owner: Person, telegram: FakeBotApi, running_bot: IncidentBotApp
) -> None:
    preview = await owner.says(TOWER_FORM)
    for button in ("Publish", "Cancel", "Publish", "Edit"):
        telegram.press_button(owner.user, preview, button)
    said = await everything_said(running_bot, telegram, owner.chat_id)
    texts = "\n".join(m.text for m in said)
    # The later taps close the preview with the line the first already wrote.
    assert texts.count("Published as #") == 2  # the preview's line and the reply
    assert "something went wrong" not in texts
    assert [e for e in telegram.errors if "not modified" in str(e[2])] != []


async def test_a_forged_button_for_a_missing_or_unreadable_draft_changes_nothing(
    owner: Person, telegram: FakeBotApi, running_bot: IncidentBotApp
) -> None:
    preview = await owner.says(TOWER_FORM)
    draft_id = int(dict(preview.buttons[0])["Publish"].rsplit(":", 1)[1])
    own = await owner.says("/latest 1")
    forged = ("draft:cancel:999999", "draft:publish:99999999999999999999999", "draft:edit:٣")
    for data in forged:
        telegram.press_forged(owner.user, own, data)
        await settled(running_bot, telegram)
    said = "\n".join(m.text for m in await everything_said(running_bot, telegram, owner.chat_id))
    assert "That draft no longer exists." in said
    assert "That button does not name anything I know." in said
    assert "Published as #" not in said and "something went wrong" not in said
    async with services_of(running_bot).db.reader.execute(
        "SELECT status FROM drafts WHERE id = ?", (draft_id,)
    ) as cursor:
        assert (await cursor.fetchone())[0] == "open"  # type: ignore[index]


async def test_a_long_draft_reaches_the_second_admin_for_approval(
    settings: Settings, clock: ManualClock, telegram: FakeBotApi, owner: Person, alice: Person
) -> None:
    settings.newsroom = NewsroomSettings(approvals_required=2)
    async with polling(build_application(settings, clock), poll_timeout=1) as app:
        await owner.says(f"/grant {alice.user.id}")
        preview = await owner.says(LONG_FORM)
        telegram.press_button(owner.user, preview, "Publish")
        owner_saw = "\n".join(m.text for m in await everything_said(app, telegram, owner.chat_id))
        assert "Sent to 1 other admin(s)" in owner_saw, owner_saw

        asked = await everything_said(app, telegram, alice.chat_id)
        assert len(asked) > 1 and asked[0].text.startswith("Approved by Olivia (1/2)")
        assert LONG_SUMMARY[-40:] in "".join(m.text for m in asked)
        assert asked[-1].button_texts == ["Approve and publish", "Cancel"]
        telegram.press_button(alice.user, asked[-1], "Approve and publish")
        alice_saw = "\n".join(m.text for m in await everything_said(app, telegram, alice.chat_id))
        assert "Published as #" in alice_saw
    assert [e for e in telegram.errors if "too long" in str(e[2])] == []
