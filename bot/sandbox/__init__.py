"""An offline Telegram for the bot: a strict fake Bot API server and its people and chats."""

from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.faults import ApiError, Fault, RateLimits
from bot.sandbox.objects import FakeChat, FakeUser, SentMessage, WebhookInfo
from bot.sandbox.wire import Upload

__all__ = [
    "ApiError",
    "FakeBotApi",
    "FakeChat",
    "FakeUser",
    "Fault",
    "RateLimits",
    "SentMessage",
    "Upload",
    "WebhookInfo",
]
