"""A person talking to the bot through the fake Bot API, as the tests read best."""

from __future__ import annotations

from bot.sandbox.fake_api import FakeBotApi, FakeChat, FakeUser, SentMessage


class Person:
    def __init__(self, api: FakeBotApi, user: FakeUser, chat: FakeChat | None = None) -> None:
        self.api = api
        self.user = user
        self.chat = chat

    @property
    def chat_id(self) -> int:
        return self.chat.id if self.chat is not None else self.user.id

    async def says(self, text: str) -> SentMessage:
        """Send a message and return the bot's first reply to it."""
        self.api.send_message(self.user, text, chat=self.chat)
        return await self.next_reply()

    async def presses(self, message: SentMessage, button: str) -> SentMessage:
        self.api.press_button(self.user, message, button)
        return await self.next_reply()

    async def next_reply(self) -> SentMessage:
        return await self.api.next_reply(self.chat_id)
