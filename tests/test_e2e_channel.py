"""The channel feed mirrors publications, and follows edits and retractions."""

from __future__ import annotations

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import Settings
from bot.lifecycle import polling
from bot.sandbox.fake_api import FakeBotApi
from tests.people import Person
from tests.test_e2e_admin import TOWER_FORM


async def test_published_incidents_are_posted_and_corrections_edit_the_post(
    settings: Settings, clock: ManualClock, telegram: FakeBotApi, owner: Person
) -> None:
    channel = telegram.add_channel("Incidents", username="incident_feed")
    settings.telegram.channel_id = "@incident_feed"
    async with polling(build_application(settings, clock), poll_timeout=1):
        preview = await owner.says(TOWER_FORM)
        await owner.presses(preview, "Publish")
        published = await owner.next_reply()
        incident_id = int(published.text.split("#")[1].split(".")[0])

        post = await telegram.next_reply(channel.id)
        assert post.text.startswith("Drone strikes Tower 22 again")

        await owner.says(f"/edit {incident_id}\ninjured: at least 4")
        edited = await telegram.next_reply(channel.id)
        assert edited.method == "editMessageText" and edited.message_id == post.message_id
        assert "at least 4 injured" in edited.text
        assert "Corrected 15 Jan 2025: injured: about 3 → at least 4" in edited.text

        await owner.says(f"/retract {incident_id} Misdated report")
        retracted = await telegram.next_reply(channel.id)
        assert "Retracted: Misdated report" in retracted.text


async def test_a_failing_channel_does_not_stop_publication(
    settings: Settings, clock: ManualClock, telegram: FakeBotApi, owner: Person
) -> None:
    settings.telegram.channel_id = "@no_such_channel"
    async with polling(build_application(settings, clock), poll_timeout=1):
        preview = await owner.says(TOWER_FORM)
        await owner.presses(preview, "Publish")
        published = await owner.next_reply()
        assert "Published as #" in published.text
