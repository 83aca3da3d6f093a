"""What an admin has typed survives a restart of the bot, graceful or not."""

from __future__ import annotations

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import Settings
from bot.lifecycle import polling
from bot.sandbox.fake_api import FakeBotApi
from tests.people import Person


async def test_a_guided_draft_carries_on_after_a_restart(
    settings: Settings, clock: ManualClock, telegram: FakeBotApi, owner: Person
) -> None:
    async with polling(build_application(settings, clock), poll_timeout=1):
        await owner.says("/post")
        await owner.next_reply()
        assert (await owner.says("Rocket attack on Union III")).text.startswith("2/11")
        assert (await owner.says("2024-09-10 23:30")).text.startswith("3/11")

    async with polling(build_application(settings, clock), poll_timeout=1):
        # The conversation state came back: a plain answer goes on where it stopped.
        assert (await owner.says("Union III, Baghdad, Iraq")).text.startswith("4/11")


async def test_after_a_kill_post_alone_resumes_the_stored_draft(
    settings: Settings, clock: ManualClock, telegram: FakeBotApi, owner: Person
) -> None:
    app = build_application(settings, clock)
    async with polling(app, poll_timeout=1):
        await owner.says("/post")
        await owner.next_reply()
        assert (await owner.says("Rocket attack on Union III")).text.startswith("2/11")
        # A kill loses the conversation state not yet flushed; simulate by wiping it.
        async with app.bot_data["services"].db.transaction() as conn:
            await conn.execute("DELETE FROM conversations")

    async with polling(build_application(settings, clock), poll_timeout=1):
        resumed = await owner.says("/post")
        assert resumed.text.startswith("Carrying on with your unfinished draft")
        assert (await owner.next_reply()).text.startswith("2/11 When did it happen?")
