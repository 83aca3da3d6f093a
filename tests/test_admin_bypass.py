"""Every admin command and draft button against everyone who is not allowed to use it:
a stranger, an editor (for owners' commands), an anonymous group administrator and a
channel writing in a group. Only the numeric id of a person who was granted counts."""

from __future__ import annotations

import pytest

from bot.commands import ADMIN_COMMANDS
from bot.context import IncidentBotApp, services_of
from bot.newsroom.admins import Role
from bot.sandbox.fake_api import FakeBotApi, FakeChat
from tests.people import Person
from tests.test_e2e_admin import TOWER_FORM, table_counts

pytestmark = pytest.mark.usefixtures("running_bot")

GUARDED = [c for c in ADMIN_COMMANDS if c.name != "cancel"]
OWNERS_ONLY = [c.name for c in GUARDED if c.role is Role.OWNER]
EDITORS = [c.name for c in GUARDED if c.role is Role.EDITOR]
REFUSED = "Not authorised: /{command} is for the bot's {who}. Nothing was changed."


async def test_an_editor_is_refused_every_owners_command(
    owner: Person, alice: Person, running_bot: IncidentBotApp
) -> None:
    await owner.says(f"/grant {alice.user.id}")
    before = await table_counts(services_of(running_bot).db)
    for command in OWNERS_ONLY:
        reply = await alice.says(f"/{command} 3001")
        assert reply.text == REFUSED.format(command=command, who="owners"), command
    assert await table_counts(services_of(running_bot).db) == before
    for command in EDITORS:
        reply = await alice.says(f"/{command}")
        assert not reply.text.startswith("Not authorised"), command
        if command == "post":
            await alice.says("/cancel")


@pytest.fixture
def newsroom(telegram: FakeBotApi, owner: Person, alice: Person) -> FakeChat:
    """A group where the bot's owner is an administrator and can post anonymously."""
    return telegram.add_group("Desk", admins=[owner.user], members=[alice.user])


@pytest.mark.parametrize("signed_by", ["the group (anonymous admin)", "a channel"])
async def test_messages_signed_by_a_chat_never_pass_for_an_admin(
    telegram: FakeBotApi, newsroom: FakeChat, running_bot: IncidentBotApp, signed_by: str
) -> None:
    signer = newsroom if signed_by.startswith("the group") else telegram.add_channel("Feed")
    before = await table_counts(services_of(running_bot).db)
    for info in GUARDED:
        telegram.send_as_chat(newsroom, f"/{info.name} 3001\n{TOWER_FORM}", signed_by=signer)
        reply = await telegram.next_reply(newsroom.id, timeout=20)
        who = "owners" if info.role is Role.OWNER else "editors"
        assert reply.text == REFUSED.format(command=info.name, who=who), info.name
    assert await table_counts(services_of(running_bot).db) == before


async def test_draft_buttons_from_a_stranger_are_refused(
    owner: Person, bob: Person, telegram: FakeBotApi, running_bot: IncidentBotApp
) -> None:
    preview = await owner.says(TOWER_FORM)
    draft = dict(preview.buttons[0])["Publish"]
    own = await bob.says("/start")
    before = await table_counts(services_of(running_bot).db)
    for action in ("publish", "edit", "cancel"):
        query = telegram.press_forged(bob.user, own, draft.replace("publish", action))
        await telegram.wait_for_request("answerCallbackQuery", timeout=5)
        answer = telegram.callback_answers[query]
        assert answer["text"].startswith("Not authorised"), answer
    assert await table_counts(services_of(running_bot).db) == before
    async with services_of(running_bot).db.reader.execute("SELECT status FROM drafts") as cursor:
        assert [row[0] for row in await cursor.fetchall()] == ["open"]
