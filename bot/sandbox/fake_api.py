"""A fake Telegram Bot API server that is as strict as Telegram.

The real PTB ``Application`` talks to it over HTTP exactly as it talks to
api.telegram.org::

    async with FakeBotApi() as api:
        app = (
            ApplicationBuilder()
            .token(api.token)
            .base_url(f"{api.api_root}/bot")
            .base_file_url(f"{api.api_root}/file/bot")
            .build()
        )

Tests then act as Telegram users (``send_message``, ``press_button``) and read
what the bot did (``next_reply``, ``messages_in``). The fake refuses whatever
Telegram refuses, with Telegram's error descriptions and status codes, because a
lenient fake lets through exactly the bugs these tests exist to catch: markup
that does not parse, messages that are too long, edits that change nothing,
callback data that does not fit.

Time: message dates, flood control and callback-query expiry use the injected
``clock``; long-poll timeouts and webhook retry back-off use the event loop's
own time, because they are about real waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from bot.render.telegram_html import Entity, utf16_length
from bot.sandbox.faults import (
    ApiError,
    Fault,
    FloodControl,
    RateLimits,
    bad_request,
    forbidden,
    migrated,
    too_many_requests,
)
from bot.sandbox.objects import (
    FakeChat,
    FakeUser,
    MemberStatus,
    SentMessage,
    WebhookInfo,
    member_json,
)
from bot.sandbox.validation import (
    DEFAULT_UPDATE_TYPES,
    Image,
    allowed_update_types,
    caption_text,
    check_text,
    check_webhook_url,
    formatted_text,
    reply_markup_param,
    sniff_image,
    validate_commands,
)
from bot.sandbox.wire import Upload, coerce_params, read_params

# Telegram's service accounts in `from` of messages signed by a chat (sender_chat).
_GROUP_ANONYMOUS_BOT: JsonDict = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
_CHANNEL_BOT: JsonDict = {
    "id": 136817688,
    "is_bot": True,
    "first_name": "Channel",
    "username": "Channel_Bot",
}

# The people, chats and faults are re-exported so that tests can import everything from here.
__all__ = [
    "FakeBotApi",
    "FakeChat",
    "FakeUser",
    "Fault",
    "RateLimits",
    "SentMessage",
    "WebhookInfo",
]

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]
_Handler = Callable[[JsonDict], Awaitable[Any]]

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_TOKEN = re.compile(r"^(\d+):[A-Za-z0-9_-]+$")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LANGUAGE_CODE = re.compile(r"^([a-z]{2})?$")
_COMMAND = re.compile(r"(?<![^\s])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")
_MENTION = re.compile(r"(?<![\w@/])@[A-Za-z][A-Za-z0-9_]{3,31}(?![\w@])")
_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
_FIRST_UPDATE_ID = 100_000_000
_FIRST_USER_ID = 100_000_001
_FIRST_GROUP_ID = -4_000_000_001
_FIRST_SUPERGROUP_ID = -1_002_000_000_001
_SUPERGROUP_ID_LIMIT = -1_000_000_000_000
_CLOSE_COOLDOWN = 600.0
_DELETE_WINDOW = 48 * 3600
_MAX_ANSWER_TEXT = 200


class _Signal:
    """Wakes every waiter when state changes.

    A waiter takes ``event()`` *before* looking at the state it waits on, so a
    change between the look and the wait cannot be missed.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def event(self) -> asyncio.Event:
        return self._event

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()


@dataclass
class _Stored:
    """A message in a chat, the bot's or a user's."""

    chat: FakeChat
    message_id: int
    date: int
    from_bot: bool
    sender: FakeUser | None  # None for the bot and for anonymous service messages
    text: str | None = None
    entities: tuple[Entity, ...] = ()
    caption: str | None = None
    caption_entities: tuple[Entity, ...] = ()
    photo: _PhotoFile | None = None
    inline_markup: JsonDict | None = None
    reply_to: _Stored | None = None
    edit_date: int | None = None
    extra: JsonDict = field(default_factory=dict)
    deleted: bool = False
    snapshot: SentMessage | None = None


@dataclass
class _PhotoFile:
    data: bytes
    image: Image
    sizes: list[JsonDict]
    file_path: str


@dataclass
class _Query:
    created: float
    answered: bool = False


@dataclass
class _Poll:
    conflict: str | None = None


@dataclass
class _InjectedFault:
    method: str
    fault: Fault
    chat_id: int | str | None
    remaining: int


class FakeBotApi:
    """An in-process Telegram Bot API server for tests, the sandbox and benchmarks."""

    def __init__(
        self,
        token: str = "123456789:TEST-token-not-real",
        *,
        bot_username: str = "incident_test_bot",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        match = _TOKEN.match(token)
        if match is None:
            raise ValueError("a bot token looks like '123456789:secret'")
        self.token = token
        self.bot_username = bot_username
        self.host = host
        self.port = port
        self.clock = clock
        self.bot_id = int(match.group(1))
        first_name = bot_username.removesuffix("_bot").replace("_", " ").title() + " Bot"
        self.bot_user: JsonDict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

        # Knobs a test may turn.
        self.rate_limits = RateLimits()
        # Telegram's default: in groups the bot sees only commands, replies to it and mentions.
        self.privacy_mode = True
        # Seconds after which a callback query can no longer be answered, on ``clock``.
        self.callback_query_ttl: float | None = 15.0
        self.webhook_retry_delay = 0.05
        self.webhook_max_retry_delay = 2.0
        self.webhook_timeout = 10.0
        # Benchmarks switch this off so that ``requests`` (and wait_for_request) stop growing.
        self.record_requests = True

        # What happened, for assertions.
        self.requests: list[tuple[str, JsonDict]] = []
        self.errors: list[tuple[str, JsonDict, JsonDict]] = []
        self.callback_answers: dict[str, JsonDict] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.deleted_messages: list[tuple[int, int]] = []
        self.rate_limited = 0
        self.messages_sent = 0  # every message the bot sent, for benchmarks that count

        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, FakeChat] = {}
        self._blocked: set[int] = set()
        self._deactivated: set[int] = set()
        self._started: set[int] = set()
        self._next_user_id = _FIRST_USER_ID
        self._next_group_id = _FIRST_GROUP_ID
        self._next_supergroup_id = _FIRST_SUPERGROUP_ID

        self._messages: dict[tuple[int, int], _Stored] = {}
        self._last_message_id: dict[int, int] = {}
        self._replies: dict[int, deque[SentMessage]] = {}
        self._replies_signal = _Signal()

        self._updates: list[JsonDict] = []
        self._last_update_id = _FIRST_UPDATE_ID - 1
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._updates_signal = _Signal()
        self._active_poll: _Poll | None = None

        self._webhook: WebhookInfo | None = None
        self._webhook_task: asyncio.Task[None] | None = None

        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._files: dict[str, _PhotoFile] = {}
        self._files_by_path: dict[str, _PhotoFile] = {}
        self._photo_count = 0
        self._queries: dict[str, _Query] = {}
        self._next_query = 4_382_000_000_000_000_000
        self._faults: list[_InjectedFault] = []

        self._completed: list[tuple[str, JsonDict]] = []
        self._completed_cursor: dict[str, int] = {}
        self._completed_signal = _Signal()

        self._flood = FloodControl(clock)
        self._started_at = clock()
        self._logged_out = False
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._api_root: str | None = None

        self._methods: dict[str, tuple[str, _Handler]] = {
            name.lower(): (name, handler)
            for name, handler in (
                ("getMe", self._get_me),
                ("logOut", self._log_out),
                ("close", self._close),
                ("getUpdates", self._get_updates),
                ("setWebhook", self._set_webhook),
                ("deleteWebhook", self._delete_webhook),
                ("getWebhookInfo", self._get_webhook_info),
                ("setMyCommands", self._set_my_commands),
                ("getMyCommands", self._get_my_commands),
                ("deleteMyCommands", self._delete_my_commands),
                ("sendMessage", self._send_message),
                ("sendPhoto", self._send_photo),
                ("sendChatAction", self._send_chat_action),
                ("editMessageText", self._edit_message_text),
                ("editMessageCaption", self._edit_message_caption),
                ("editMessageReplyMarkup", self._edit_message_reply_markup),
                ("deleteMessage", self._delete_message),
                ("answerCallbackQuery", self._answer_callback_query),
                ("getChat", self._get_chat),
                ("getChatMember", self._get_chat_member),
                ("getChatAdministrators", self._get_chat_administrators),
                ("getFile", self._get_file),
            )
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeBotApi is already running")
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        # Handler cancellation lets a client that gave up (a PTB timeout, a cancelled long
        # poll) end its request here too, so nothing lingers past stop().
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        port = runner.addresses[0][1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._api_root = f"http://{host}:{port}"
        self._session = aiohttp.ClientSession()
        self._started_at = self.clock()
        self._closing = False

    async def stop(self) -> None:
        self._closing = True
        self._updates_signal.notify()
        await self._stop_webhook_delivery()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def api_root(self) -> str:
        """``http://host:port`` of the running server; PTB's base_url is this plus ``/bot``."""
        if self._api_root is None:
            raise RuntimeError("FakeBotApi.start() has not been awaited")
        return self._api_root

    @property
    def webhook(self) -> WebhookInfo | None:
        return self._webhook

    # ------------------------------------------------------------------ the world

    def add_user(
        self,
        first_name: str,
        *,
        user_id: int | None = None,
        username: str | None = None,
        language_code: str = "en",
        started: bool = True,
    ) -> FakeUser:
        """A user and their private chat with the bot (chat id == user id).

        ``started=False`` makes a user who never opened the bot: Telegram does not
        let a bot write first, so sends fail until the user sends something.
        """
        if user_id is None:
            user_id = self._next_user_id
            while user_id in self._users:
                user_id += 1
            self._next_user_id = user_id + 1
        if user_id <= 0 or user_id == self.bot_id:
            raise ValueError("user ids are positive and differ from the bot's")
        if user_id in self._users:
            raise ValueError(f"user {user_id} already exists")
        user = FakeUser(
            id=user_id, first_name=first_name, username=username, language_code=language_code
        )
        self._users[user_id] = user
        self._chats[user_id] = FakeChat(
            id=user_id,
            type="private",
            user=user,
            members={user_id: "member", self.bot_id: "member"},
        )
        if started:
            self._started.add(user_id)
        return user

    def add_group(
        self,
        title: str,
        *,
        chat_id: int | None = None,
        admins: Iterable[FakeUser] = (),
        members: Iterable[FakeUser] = (),
        supergroup: bool = True,
        username: str | None = None,
        bot_is_admin: bool = False,
    ) -> FakeChat:
        """A group the bot is in. The first admin is the group's creator."""
        if chat_id is None:
            chat_id = self._allocate_chat_id(supergroup=supergroup)
        self._check_group_id(chat_id, supergroup=supergroup)
        chat = FakeChat(
            id=chat_id,
            type="supergroup" if supergroup else "group",
            title=title,
            username=username if supergroup else None,
        )
        for index, admin in enumerate(admins):
            self._require_user(admin)
            chat.members[admin.id] = "creator" if index == 0 else "administrator"
        for member in members:
            self._require_user(member)
            chat.members.setdefault(member.id, "member")
        chat.members[self.bot_id] = "administrator" if bot_is_admin else "member"
        self._chats[chat_id] = chat
        return chat

    def add_channel(
        self, title: str, *, chat_id: int | None = None, username: str | None = None
    ) -> FakeChat:
        """A channel where the bot is an administrator allowed to post."""
        if chat_id is None:
            chat_id = self._allocate_chat_id(supergroup=True)
        self._check_group_id(chat_id, supergroup=True)
        chat = FakeChat(
            id=chat_id,
            type="channel",
            title=title,
            username=username,
            members={self.bot_id: "administrator"},
        )
        self._chats[chat_id] = chat
        return chat

    def add_member(self, chat: FakeChat, user: FakeUser, status: MemberStatus = "member") -> None:
        self._require_user(user)
        if self._chats.get(chat.id) is not chat or chat.type == "private":
            raise ValueError("members can only be added to a group or channel the fake knows")
        chat.members[user.id] = status

    def block_bot(self, user: FakeUser) -> None:
        """The user blocks the bot; sends to them answer 403 until they write again."""
        self._require_user(user)
        if user.id in self._blocked:
            return
        self._blocked.add(user.id)
        chat = self._chats.get(user.id)
        if chat is not None:
            self._queue_my_chat_member(chat, user, old="member", new="kicked")

    def deactivate(self, user: FakeUser) -> None:
        """The user deletes their account; sends to them answer 403."""
        self._require_user(user)
        self._deactivated.add(user.id)

    def forget_chat(self, chat_id: int) -> None:
        """Telegram no longer knows the chat; every call naming it answers "chat not found"."""
        if self._chats.pop(chat_id, None) is None:
            raise ValueError(f"chat {chat_id} is unknown to the fake")

    def lose_pending_updates(self) -> None:
        """The updates not yet fetched are gone, as Telegram keeps none longer than 24 hours:
        what a bot that was away for a day never hears of."""
        self._updates.clear()

    def migrate_group(self, chat: FakeChat, new_chat_id: int) -> FakeChat:
        """Upgrade a basic group to a supergroup, as Telegram does when a group grows.

        Calls naming the old id then fail with ``migrate_to_chat_id``; both
        chats get the service messages Telegram posts.
        """
        if self._chats.get(chat.id) is not chat or chat.type != "group":
            raise ValueError("only a basic group the fake knows can be migrated")
        if chat.migrated_to is not None:
            raise ValueError("the group has already been migrated")
        self._check_group_id(new_chat_id, supergroup=True)
        new_chat = FakeChat(
            id=new_chat_id, type="supergroup", title=chat.title, members=dict(chat.members)
        )
        self._chats[new_chat_id] = new_chat
        actor = next(
            (self._users[uid] for uid, status in chat.members.items() if status == "creator"),
            None,
        )
        old_notice = self._store_user_message(
            chat, actor, extra={"migrate_to_chat_id": new_chat_id}
        )
        chat.migrated_to = new_chat_id
        new_notice = self._store_user_message(
            new_chat, actor, extra={"migrate_from_chat_id": chat.id}
        )
        self._queue_update("message", self._message_json(old_notice))
        self._queue_update("message", self._message_json(new_notice))
        return new_chat

    def chat(self, chat_id: int) -> FakeChat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise KeyError(chat_id)
        return chat

    # ------------------------------------------------------------------ acting as users

    def send_message(
        self,
        user: FakeUser,
        text: str,
        *,
        chat: FakeChat | None = None,
        reply_to: SentMessage | None = None,
    ) -> int:
        """``user`` writes ``text`` (default: in their private chat); returns the update_id.

        Returns 0 when Telegram would not show the message to the bot: in a group
        with privacy mode on, a message that is not a command for this bot, a
        reply to it or a mention of it.
        """
        self._require_user(user)
        if user.id in self._deactivated:
            raise ValueError("a deactivated user cannot send messages")
        if not text:
            raise ValueError("Telegram clients cannot send an empty message")
        target = self._chats.get(chat.id if chat is not None else user.id)
        if target is None or (chat is not None and target is not chat):
            raise ValueError("the chat is unknown to the fake (forgotten?)")
        if target.migrated_to is not None:
            raise ValueError(f"the group moved to {target.migrated_to}; write there")
        if target.type == "channel":
            raise ValueError("users do not write in channels")
        if target.type == "private":
            if target.id != user.id:
                raise ValueError("a user can only write in their own private chat with the bot")
            if user.id in self._blocked:
                # Writing to a bot one blocked means pressing "Restart", which unblocks it.
                self._blocked.discard(user.id)
                self._queue_my_chat_member(target, user, old="kicked", new="member")
            self._started.add(user.id)
        elif not target.is_member(user.id):
            raise ValueError(f"{user.first_name} is not a member of {target.title}")
        replied: _Stored | None = None
        if reply_to is not None:
            replied = self._messages.get((reply_to.chat_id, reply_to.message_id))
            if replied is None or replied.deleted or replied.chat is not target:
                raise ValueError("reply_to must be a live message in the same chat")
        stored = self._store_user_message(
            target, user, text=text, entities=self._user_entities(text), reply_to=replied
        )
        if not self._bot_sees(target, stored):
            return 0
        return self._queue_update("message", self._message_json(stored))

    def send_as_chat(self, chat: FakeChat, text: str, *, signed_by: FakeChat) -> int:
        """A message in group ``chat`` signed by a chat rather than a person: by the group
        itself (an anonymous administrator) or by a channel (a linked channel's post, or
        someone writing as their channel). Telegram puts one of its service accounts in
        ``from`` and the signing chat in ``sender_chat``. Returns the update_id (0 when
        the bot would not see it)."""
        if chat.type not in ("group", "supergroup"):
            raise ValueError("only groups carry messages signed by a chat")
        service = _GROUP_ANONYMOUS_BOT if signed_by is chat else _CHANNEL_BOT
        stored = self._store_user_message(
            chat, None, text=text, entities=self._user_entities(text),
            extra={"from": service, "sender_chat": signed_by.to_api()},
        )  # fmt: skip
        if not self._bot_sees(chat, stored):
            return 0
        return self._queue_update("message", self._message_json(stored))

    def press_button(self, user: FakeUser, message: SentMessage, button: str) -> str:
        """``user`` presses the inline button whose text or callback_data is ``button``.

        The message's current keyboard counts, not the one in a stale snapshot.
        Returns the callback query id.
        """
        stored = self._pressable(user, message)
        rows = (stored.inline_markup or {}).get("inline_keyboard", [])
        for row in rows:
            for candidate in row:
                if button not in (candidate.get("text"), candidate.get("callback_data")):
                    continue
                data = candidate.get("callback_data")
                if not isinstance(data, str):
                    raise LookupError(f"button {button!r} opens a link; it sends no callback")
                return self._queue_callback(user, stored, data)
        raise LookupError(f"message {message.message_id} has no inline button {button!r}")

    def press_forged(self, user: FakeUser, message: SentMessage, data: str) -> str:
        """A modified client sends a callback query with ``data`` of its choosing for
        ``message``, whatever its buttons say. Returns the callback query id."""
        return self._queue_callback(user, self._pressable(user, message), data)

    def _pressable(self, user: FakeUser, message: SentMessage) -> _Stored:
        self._require_user(user)
        stored = self._messages.get((message.chat_id, message.message_id))
        if stored is None or stored.deleted:
            raise LookupError(f"message {message.message_id} no longer exists")
        if stored.chat.type != "channel" and not stored.chat.is_member(user.id):
            raise ValueError(f"{user.first_name} cannot see chat {stored.chat.id}")
        return stored

    def _queue_callback(self, user: FakeUser, stored: _Stored, data: str) -> str:
        query_id = str(self._next_query)
        self._next_query += 1
        self._queries[query_id] = _Query(created=self.clock())
        self._queue_update(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_api(),
                "message": self._message_json(stored),
                "chat_instance": str((stored.chat.id * 2_654_435_761) % (2**62)),
                "data": data,
            },
        )
        return query_id

    # ------------------------------------------------------------------ observing the bot

    async def next_reply(self, chat_id: int, *, timeout: float = 5.0) -> SentMessage:
        """The next thing the bot did in the chat (send or edit), oldest first."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event = self._replies_signal.event()
                    queue = self._replies.get(chat_id)
                    if queue:
                        return queue.popleft()
                    await event.wait()
        except TimeoutError:
            raise TimeoutError(
                f"the bot did nothing in chat {chat_id} within {timeout}s"
                + self._recent_errors_note()
            ) from None

    def pending_replies(self, chat_id: int) -> list[SentMessage]:
        return list(self._replies.get(chat_id, ()))

    def messages_in(self, chat_id: int) -> list[SentMessage]:
        """Every live bot message in the chat, in its current (edited) state."""
        found = [
            stored.snapshot
            for (cid, _), stored in sorted(self._messages.items())
            if cid == chat_id and stored.snapshot is not None and not stored.deleted
        ]
        return found

    async def wait_for_request(self, method: str, *, timeout: float = 5.0) -> JsonDict:
        """Params of the oldest handled call of ``method`` not yet returned by this method.

        Each call is returned once, so a call made before this was awaited is not missed.
        """
        name = self._canonical(method)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event = self._completed_signal.event()
                    cursor = self._completed_cursor.get(name, 0)
                    for index in range(cursor, len(self._completed)):
                        called, params = self._completed[index]
                        if called == name:
                            self._completed_cursor[name] = index + 1
                            return params
                    self._completed_cursor[name] = len(self._completed)
                    await event.wait()
        except TimeoutError:
            raise TimeoutError(f"the bot did not call {name} within {timeout}s") from None

    def my_commands(
        self, scope: JsonDict | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        """The command list stored for exactly this scope and language, as getMyCommands has it."""
        key = (self._scope_key(scope or {"type": "default"}), language_code)
        return [dict(command) for command in self._commands.get(key, [])]

    @property
    def pending_updates(self) -> list[JsonDict]:
        """Updates queued and not yet confirmed by the bot."""
        return list(self._updates)

    def inject(
        self, method: str, fault: Fault, *, chat_id: int | None = None, times: int = 1
    ) -> None:
        """Make the next ``times`` calls of ``method`` (for ``chat_id``, or any) fail.

        Faults apply before anything else, validation included.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        name = self._canonical(method)
        self._faults.append(_InjectedFault(name, fault, chat_id, times))

    def clear_faults(self) -> None:
        self._faults.clear()

    def flood_pause(self, seconds: float) -> None:
        """Put the bot under flood control: every send to any chat is answered 429
        ("retry after N", the seconds left) until ``seconds`` have passed on ``clock``."""
        self._flood.pause_bot(seconds)

    # ------------------------------------------------------------------ HTTP

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token or self._logged_out:
            return _error_response(ApiError(401, "Unauthorized"))
        requested = request.match_info["method"]
        entry = self._methods.get(requested.lower())
        name = entry[0] if entry is not None else requested
        try:
            params = await read_params(request)
        except ApiError as exc:
            self._note_request(name, {})
            self.errors.append((name, {}, exc.body()))
            return _error_response(exc)
        self._note_request(name, params)
        log.debug("fake Bot API <- %s %s", name, params)
        if entry is None:
            log.warning("fake Bot API: %s is not a method the fake knows", requested)
            error = ApiError(404, "Not Found")
            self.errors.append((name, params, error.body()))
            return _error_response(error)

        fault = self._take_fault(name, params)
        late_by = 0.0
        if fault is not None and fault.kind == "delay":
            if fault.process_first:
                late_by = fault.seconds
            else:
                await asyncio.sleep(fault.seconds)
            fault = None
        status = 200
        try:
            if fault is not None:
                raise fault.to_error()
            body: JsonDict = {"ok": True, "result": await entry[1](params)}
        except ApiError as exc:
            status, body = exc.status, exc.body()
            self.errors.append((name, params, body))
            log.debug("fake Bot API -> %s %s", status, body["description"])
        except Exception as exc:
            # A bug in the fake must not pass for a network problem of the bot's.
            log.exception("fake Bot API: %s crashed", name)
            status = 500
            body = {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: the fake crashed: {exc!r}",
            }
            self.errors.append((name, params, body))
        if self.record_requests:
            self._completed.append((name, params))
            self._completed_signal.notify()
        if late_by:
            await asyncio.sleep(late_by)
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token or self._logged_out:
            return _error_response(ApiError(401, "Unauthorized"))
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return _error_response(ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return _error_response(ApiError(404, "Not Found"))

    def _note_request(self, name: str, params: JsonDict) -> None:
        if self.record_requests:
            self.requests.append((name, params))

    def _take_fault(self, method: str, params: JsonDict) -> Fault | None:
        for injected in self._faults:
            if injected.method != method:
                continue
            if injected.chat_id is not None and params.get("chat_id") != injected.chat_id:
                continue
            injected.remaining -= 1
            if injected.remaining <= 0:
                self._faults.remove(injected)
            return injected.fault
        return None

    def _canonical(self, method: str) -> str:
        entry = self._methods.get(method.lower())
        if entry is None:
            raise ValueError(f"the fake does not implement {method}")
        return entry[0]

    def _recent_errors_note(self) -> str:
        if not self.errors:
            return ""
        recent = "; ".join(
            f"{method}: {body['description']}" for method, _, body in self.errors[-3:]
        )
        return f" (latest API errors: {recent})"

    # ------------------------------------------------------------------ methods: bot

    async def _get_me(self, params: JsonDict) -> Any:
        return {**self.bot_user, "can_read_all_group_messages": not self.privacy_mode}

    async def _log_out(self, params: JsonDict) -> Any:
        # After logOut the token no longer works against this server.
        self._logged_out = True
        return True

    async def _close(self, params: JsonDict) -> Any:
        elapsed = self.clock() - self._started_at
        if elapsed < _CLOSE_COOLDOWN:
            raise too_many_requests(max(1, math.ceil(_CLOSE_COOLDOWN - elapsed)))
        return True

    # ------------------------------------------------------------------ methods: updates

    async def _get_updates(self, params: JsonDict) -> Any:
        if self._webhook is not None:
            raise ApiError(409, _CONFLICT_WEBHOOK)
        offset = params.get("offset", 0)
        limit = min(max(params.get("limit", 100), 1), 100)
        timeout = max(params.get("timeout", 0), 0)
        if "allowed_updates" in params:
            self._allowed_updates = allowed_update_types(params["allowed_updates"])
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

        # The newer request wins: the one already waiting is answered with 409.
        poll = _Poll()
        if self._active_poll is not None:
            self._active_poll.conflict = _CONFLICT_POLL
        self._active_poll = poll
        self._updates_signal.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                event = self._updates_signal.event()
                if poll.conflict is not None:
                    raise ApiError(409, poll.conflict)
                ready = self._deliverable(limit)
                remaining = deadline - loop.time()
                if ready or remaining <= 0 or self._closing:
                    return ready
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            if self._active_poll is poll:
                self._active_poll = None

    def _deliverable(self, limit: int) -> list[JsonDict]:
        # Updates of types the bot did not ask for are dropped, as Telegram never stores them.
        self._updates = [u for u in self._updates if _update_type(u) in self._allowed_updates]
        return self._updates[:limit]

    def _queue_update(self, kind: str, payload: JsonDict) -> int:
        self._last_update_id += 1
        self._updates.append({"update_id": self._last_update_id, kind: payload})
        self._updates_signal.notify()
        return self._last_update_id

    async def _set_webhook(self, params: JsonDict) -> Any:
        url = params.get("url", "")
        if not isinstance(url, str):
            raise bad_request("bad webhook: URL must be a string")
        drop = bool(params.get("drop_pending_updates", False))
        if url == "":
            await self._remove_webhook(drop=drop)
            return True
        check_webhook_url(url)
        secret = params.get("secret_token")
        if secret is not None and (not isinstance(secret, str) or not _SECRET_TOKEN.match(secret)):
            raise bad_request("secret token contains unallowed characters")
        max_connections = params.get("max_connections", 40)
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        allowed: list[str] | None = None
        if "allowed_updates" in params:
            self._allowed_updates = allowed_update_types(params["allowed_updates"])
            allowed = sorted(self._allowed_updates)
        if drop:
            self._updates.clear()
        await self._stop_webhook_delivery()
        if self._active_poll is not None:
            self._active_poll.conflict = "Conflict: terminated by setWebhook request"
            self._updates_signal.notify()
        hook = WebhookInfo(
            url=url, secret_token=secret, allowed_updates=allowed, max_connections=max_connections
        )
        self._webhook = hook
        self._webhook_task = asyncio.create_task(
            self._deliver_to_webhook(hook), name="FakeBotApi:webhook"
        )
        return True

    async def _delete_webhook(self, params: JsonDict) -> Any:
        await self._remove_webhook(drop=bool(params.get("drop_pending_updates", False)))
        return True

    async def _remove_webhook(self, *, drop: bool) -> None:
        await self._stop_webhook_delivery()
        self._webhook = None
        if drop:
            self._updates.clear()

    async def _stop_webhook_delivery(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _get_webhook_info(self, params: JsonDict) -> Any:
        hook = self._webhook
        info: JsonDict = {
            "url": hook.url if hook is not None else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.allowed_updates is not None:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    async def _deliver_to_webhook(self, hook: WebhookInfo) -> None:
        delay = self.webhook_retry_delay
        while self._webhook is hook and not self._closing:
            event = self._updates_signal.event()
            ready = self._deliverable(1)
            if not ready:
                await event.wait()
                continue
            update = ready[0]
            error = await self._post_update(hook, update)
            if error is None:
                self._updates = [u for u in self._updates if u is not update]
                hook.delivered += 1
                delay = self.webhook_retry_delay
                continue
            hook.last_error_date = int(self.clock())
            hook.last_error_message = error
            log.debug("fake Bot API: webhook delivery failed: %s", error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.webhook_max_retry_delay)

    async def _post_update(self, hook: WebhookInfo, update: JsonDict) -> str | None:
        """POST one update; None when the webhook took it, else Telegram's error text."""
        assert self._session is not None
        headers = {}
        if hook.secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        try:
            async with self._session.post(
                hook.url,
                json=update,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                await response.read()
                if 200 <= response.status <= 299:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return "Connection refused"
        except (aiohttp.ClientError, ValueError) as exc:
            return f"Connection error: {exc}"

    # ------------------------------------------------------------------ methods: commands

    async def _set_my_commands(self, params: JsonDict) -> Any:
        commands = validate_commands(params.get("commands"))
        key = self._commands_key(params)
        self._commands[key] = commands
        return True

    async def _get_my_commands(self, params: JsonDict) -> Any:
        return [dict(command) for command in self._commands.get(self._commands_key(params), [])]

    async def _delete_my_commands(self, params: JsonDict) -> Any:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _commands_key(self, params: JsonDict) -> tuple[str, str]:
        language = params.get("language_code", "")
        if not isinstance(language, str) or not _LANGUAGE_CODE.match(language):
            raise bad_request("invalid language code specified")
        scope = params.get("scope", {"type": "default"})
        return self._scope_key(scope), language

    def _scope_key(self, scope: Any) -> str:
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat = self._chat(coerce_params({"chat_id": scope.get("chat_id")}))
            if kind != "chat" and chat.type == "private":
                raise bad_request("can't use the scope in a private chat")
            if kind == "chat_member":
                user_id = scope.get("user_id")
                if not isinstance(user_id, int) or user_id not in self._users:
                    raise bad_request("user not found")
                return f"{kind}:{chat.id}:{user_id}"
            return f"{kind}:{chat.id}"
        return str(kind)

    # ------------------------------------------------------------------ methods: sending

    async def _send_message(self, params: JsonDict) -> Any:
        chat = self._chat(params)
        self._check_can_write(chat)
        raw = params.get("text")
        if raw is None or raw == "":
            raise bad_request("message text is empty")
        content = formatted_text(raw, params.get("parse_mode"), params.get("entities"))
        check_text(content)
        markup = reply_markup_param(params)
        reply_to = self._reply_target(chat, params)
        self._admit(chat)
        stored = self._store_bot_message(
            chat, text=content.text, entities=content.entities, markup=markup, reply_to=reply_to
        )
        self._record(
            stored,
            method="sendMessage",
            html=raw,
            parse_mode=params.get("parse_mode"),
            markup=markup,
        )
        return self._message_json(stored)

    async def _send_photo(self, params: JsonDict) -> Any:
        chat = self._chat(params)
        self._check_can_write(chat)
        photo = self._photo_from(params)
        raw_caption = params.get("caption")
        caption = caption_text(raw_caption, params)
        markup = reply_markup_param(params)
        reply_to = self._reply_target(chat, params)
        self._admit(chat)
        # A new upload becomes a file only once the whole request has been accepted.
        if isinstance(photo, tuple):
            photo = self._register_photo(*photo)
        stored = self._store_bot_message(chat, markup=markup, reply_to=reply_to)
        stored.photo = photo
        stored.caption = caption.text or None
        stored.caption_entities = caption.entities
        self._record(
            stored,
            method="sendPhoto",
            html=raw_caption,
            parse_mode=params.get("parse_mode"),
            markup=markup,
        )
        return self._message_json(stored)

    async def _send_chat_action(self, params: JsonDict) -> Any:
        chat = self._chat(params)
        self._check_can_write(chat)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append((chat.id, str(action)))
        return True

    def _photo_from(self, params: JsonDict) -> _PhotoFile | tuple[bytes, Image]:
        """A known photo file, or the checked bytes of a new upload."""
        value = params.get("photo")
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, Upload):
            return value.data, sniff_image(value.data)
        if isinstance(value, str) and value:
            known = self._files.get(value)
            if known is not None:
                return known
            if value.startswith(("http://", "https://")):
                # The fake is offline by design; it cannot fetch what Telegram would.
                raise bad_request("failed to get HTTP URL content")
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request("there is no photo in the request")

    def _register_photo(self, data: bytes, image: Image) -> _PhotoFile:
        self._photo_count += 1
        number = self._photo_count
        longest = max(image.width, image.height)
        limits = [limit for limit in (90, 320, 800, 1280) if longest > limit]
        limits.append(min(longest, 2560))
        sizes: list[JsonDict] = []
        for index, limit in enumerate(limits):
            scale = limit / longest
            width = max(1, round(image.width * scale))
            height = max(1, round(image.height * scale))
            sizes.append(
                {
                    "file_id": f"AgACAgIAAxkDAAI{number:08d}{index}",
                    "file_unique_id": f"AQAD{number:08d}{index}",
                    "file_size": max(1, round(len(data) * scale * scale)),
                    "width": width,
                    "height": height,
                }
            )
        stored = _PhotoFile(
            data=data, image=image, sizes=sizes, file_path=f"photos/file_{number}.{image.kind}"
        )
        for size in sizes:
            self._files[size["file_id"]] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    async def _get_file(self, params: JsonDict) -> Any:
        file_id = params.get("file_id")
        stored = self._files.get(file_id) if isinstance(file_id, str) else None
        if stored is None or not isinstance(file_id, str):
            raise bad_request("invalid file_id")
        size = next(s for s in stored.sizes if s["file_id"] == file_id)
        return {
            "file_id": file_id,
            "file_unique_id": size["file_unique_id"],
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # ------------------------------------------------------------------ methods: editing

    async def _edit_message_text(self, params: JsonDict) -> Any:
        chat, stored = self._editable(params)
        if stored.photo is not None:
            raise bad_request("there is no text in the message to edit")
        raw = params.get("text")
        if raw is None or raw == "":
            raise bad_request("message text is empty")
        content = formatted_text(raw, params.get("parse_mode"), params.get("entities"))
        check_text(content)
        markup = reply_markup_param(params, inline_only=True)
        if (content.text, content.entities, markup) == (
            stored.text,
            stored.entities,
            stored.inline_markup,
        ):
            raise bad_request(_NOT_MODIFIED)
        self._admit(chat)
        stored.text, stored.entities, stored.inline_markup = content.text, content.entities, markup
        stored.edit_date = int(self.clock())
        self._record(
            stored,
            method="editMessageText",
            html=raw,
            parse_mode=params.get("parse_mode"),
            markup=markup,
        )
        return self._message_json(stored)

    async def _edit_message_caption(self, params: JsonDict) -> Any:
        chat, stored = self._editable(params)
        if stored.photo is None:
            raise bad_request("there is no caption in the message to edit")
        raw = params.get("caption")
        caption = caption_text(raw, params)
        markup = reply_markup_param(params, inline_only=True)
        if (caption.text or None, caption.entities, markup) == (
            stored.caption,
            stored.caption_entities,
            stored.inline_markup,
        ):
            raise bad_request(_NOT_MODIFIED)
        self._admit(chat)
        stored.caption, stored.caption_entities = caption.text or None, caption.entities
        stored.inline_markup = markup
        stored.edit_date = int(self.clock())
        self._record(
            stored,
            method="editMessageCaption",
            html=raw,
            parse_mode=params.get("parse_mode"),
            markup=markup,
        )
        return self._message_json(stored)

    async def _edit_message_reply_markup(self, params: JsonDict) -> Any:
        chat, stored = self._editable(params)
        # Leaving reply_markup out removes the keyboard, as on Telegram.
        markup = reply_markup_param(params, inline_only=True)
        if markup == stored.inline_markup:
            raise bad_request(_NOT_MODIFIED)
        self._admit(chat)
        stored.inline_markup = markup
        stored.edit_date = int(self.clock())
        previous = stored.snapshot
        assert previous is not None
        self._record(
            stored,
            method="editMessageReplyMarkup",
            html=previous.html,
            parse_mode=previous.parse_mode,
            markup=markup,
        )
        return self._message_json(stored)

    def _editable(self, params: JsonDict) -> tuple[FakeChat, _Stored]:
        if "inline_message_id" in params:
            raise bad_request("MESSAGE_ID_INVALID (the fake has no inline messages)")
        chat = self._chat(params)
        self._check_can_write(chat)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        stored = self._messages.get((chat.id, message_id))
        if stored is None or stored.deleted:
            raise bad_request("message to edit not found")
        if not stored.from_bot or stored.snapshot is None:
            raise bad_request("message can't be edited")
        return chat, stored

    async def _delete_message(self, params: JsonDict) -> Any:
        chat = self._chat(params)
        self._check_bot_present(chat)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        stored = self._messages.get((chat.id, message_id))
        if stored is None or stored.deleted:
            raise bad_request("message to delete not found")
        if self.clock() - stored.date > _DELETE_WINDOW:
            raise bad_request("message can't be deleted for everyone")
        own = stored.from_bot
        may_delete = (
            own or chat.type == "private" or (chat.type != "channel" and chat.is_admin(self.bot_id))
        )
        if not may_delete:
            raise bad_request("message can't be deleted")
        stored.deleted = True
        self.deleted_messages.append((chat.id, stored.message_id))
        return True

    # ------------------------------------------------------------------ methods: callbacks, chats

    async def _answer_callback_query(self, params: JsonDict) -> Any:
        query_id = params.get("callback_query_id")
        query = self._queries.get(query_id) if isinstance(query_id, str) else None
        if query is None or query.answered or not isinstance(query_id, str):
            raise bad_request(_QUERY_INVALID)
        ttl = self.callback_query_ttl
        if ttl is not None and self.clock() - query.created > ttl:
            raise bad_request(_QUERY_INVALID)
        text = params.get("text")
        if isinstance(text, str) and len(text) > _MAX_ANSWER_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        self.callback_answers[query_id] = dict(params)
        return True

    async def _get_chat(self, params: JsonDict) -> Any:
        chat = self._chat(params)
        self._check_bot_present(chat)
        full = chat.to_api()
        full.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return full

    async def _get_chat_member(self, params: JsonDict) -> Any:
        chat = self._chat(params)
        self._check_bot_present(chat)
        user_id = params.get("user_id")
        if user_id is None:
            raise bad_request("invalid user_id specified")
        if user_id == self.bot_id:
            user_json = self._bot_short()
        elif user_id in self._users:
            user_json = self._users[user_id].to_api()
        else:
            raise bad_request("user not found")
        status = chat.status_of(user_id)
        if chat.type == "private" and user_id == self.bot_id and chat.id in self._blocked:
            status = "kicked"
        return member_json(chat, user_json, status)

    async def _get_chat_administrators(self, params: JsonDict) -> Any:
        chat = self._chat(params)
        self._check_bot_present(chat)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = sorted(
            (
                (uid, status)
                for uid, status in chat.members.items()
                if status in ("creator", "administrator")
            ),
            key=lambda item: item[1] != "creator",
        )
        result = []
        for uid, status in admins:
            user_json = self._bot_short() if uid == self.bot_id else self._users[uid].to_api()
            result.append(member_json(chat, user_json, status))
        return result

    # ------------------------------------------------------------------ helpers

    def _require_user(self, user: FakeUser) -> None:
        if self._users.get(user.id) != user:
            raise ValueError(f"{user!r} was not made by this FakeBotApi's add_user")

    def _allocate_chat_id(self, *, supergroup: bool) -> int:
        if supergroup:
            chat_id = self._next_supergroup_id
            self._next_supergroup_id -= 1
        else:
            chat_id = self._next_group_id
            self._next_group_id -= 1
        while chat_id in self._chats:
            chat_id -= 1
        return chat_id

    def _check_group_id(self, chat_id: int, *, supergroup: bool) -> None:
        # Supergroup and channel ids start with -100; basic group ids are negative but not so.
        if chat_id in self._chats:
            raise ValueError(f"chat {chat_id} already exists")
        if supergroup and chat_id > _SUPERGROUP_ID_LIMIT:
            raise ValueError("supergroup and channel ids look like -100xxxxxxxxxx")
        if not supergroup and not _SUPERGROUP_ID_LIMIT < chat_id < 0:
            raise ValueError("basic group ids are negative and do not start with -100")

    def _chat(self, params: JsonDict) -> FakeChat:
        ref = params.get("chat_id")
        if ref is None:
            raise bad_request("chat_id is empty")
        chat: FakeChat | None
        if isinstance(ref, int):
            chat = self._chats.get(ref)
        else:
            name = str(ref).removeprefix("@").lower()
            chat = next(
                (
                    c
                    for c in self._chats.values()
                    if c.type in ("supergroup", "channel")
                    and c.username is not None
                    and c.username.lower() == name
                ),
                None,
            )
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise migrated(chat.migrated_to)
        return chat

    def _check_bot_present(self, chat: FakeChat) -> None:
        if chat.type == "private":
            return
        status = chat.status_of(self.bot_id)
        if status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        if status == "left":
            raise forbidden(f"bot is not a member of the {chat.type} chat")

    def _check_can_write(self, chat: FakeChat) -> None:
        if chat.type == "private":
            if chat.id in self._deactivated:
                raise forbidden("user is deactivated")
            if chat.id in self._blocked:
                raise forbidden("bot was blocked by the user")
            if chat.id not in self._started:
                raise forbidden("bot can't initiate conversation with a user")
            return
        self._check_bot_present(chat)
        if chat.type == "channel" and not chat.is_admin(self.bot_id):
            raise bad_request("need administrator rights in the channel chat")

    def _admit(self, chat: FakeChat) -> None:
        retry_after = self._flood.admit(self.rate_limits, chat.id, private=chat.type == "private")
        if retry_after is not None:
            self.rate_limited += 1
            raise too_many_requests(retry_after)

    def _reply_target(self, chat: FakeChat, params: JsonDict) -> _Stored | None:
        reply = params.get("reply_parameters")
        allow_without = bool(params.get("allow_sending_without_reply", False))
        if reply is None:
            message_id = params.get("reply_to_message_id")
            if message_id is None:
                return None
        else:
            if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
                raise bad_request("can't parse reply parameters JSON object")
            message_id = reply["message_id"]
            allow_without = bool(reply.get("allow_sending_without_reply", allow_without))
            if reply.get("chat_id") not in (None, chat.id):
                raise bad_request("the fake supports replies only within the same chat")
        target = self._messages.get((chat.id, message_id))
        if target is None or target.deleted:
            if allow_without:
                return None
            raise bad_request("message to be replied not found")
        return target

    def _next_message_id(self, chat: FakeChat) -> int:
        message_id = self._last_message_id.get(chat.id, 0) + 1
        self._last_message_id[chat.id] = message_id
        return message_id

    def _store_bot_message(
        self,
        chat: FakeChat,
        *,
        text: str | None = None,
        entities: tuple[Entity, ...] = (),
        markup: JsonDict | None,
        reply_to: _Stored | None,
    ) -> _Stored:
        self.messages_sent += 1
        stored = _Stored(
            chat=chat,
            message_id=self._next_message_id(chat),
            date=int(self.clock()),
            from_bot=True,
            sender=None,
            text=text,
            entities=entities,
            inline_markup=markup if markup is not None and "inline_keyboard" in markup else None,
            reply_to=reply_to,
        )
        self._messages[(chat.id, stored.message_id)] = stored
        return stored

    def _store_user_message(
        self,
        chat: FakeChat,
        user: FakeUser | None,
        *,
        text: str | None = None,
        entities: tuple[Entity, ...] = (),
        reply_to: _Stored | None = None,
        extra: JsonDict | None = None,
    ) -> _Stored:
        stored = _Stored(
            chat=chat,
            message_id=self._next_message_id(chat),
            date=int(self.clock()),
            from_bot=False,
            sender=user,
            text=text,
            entities=entities,
            reply_to=reply_to,
            extra=dict(extra or {}),
        )
        self._messages[(chat.id, stored.message_id)] = stored
        return stored

    def _record(
        self,
        stored: _Stored,
        *,
        method: str,
        html: Any,
        parse_mode: Any,
        markup: JsonDict | None,
    ) -> None:
        """Snapshot the bot message after a send or edit and hand it to next_reply."""
        if stored.photo is not None:
            text, entities = stored.caption or "", stored.caption_entities
            photo, file_id = stored.photo.data, stored.photo.sizes[-1]["file_id"]
        else:
            text, entities = stored.text or "", stored.entities
            photo, file_id = None, None
        snapshot = SentMessage(
            chat_id=stored.chat.id,
            message_id=stored.message_id,
            method=method,
            html=html if isinstance(html, str) else None,
            text=text,
            entities=entities,
            parse_mode=parse_mode if isinstance(parse_mode, str) else None,
            reply_markup=markup,
            photo=photo,
            caption=stored.caption,
            date=stored.date,
            edit_date=stored.edit_date,
            reply_to_message_id=stored.reply_to.message_id if stored.reply_to else None,
            photo_file_id=file_id,
        )
        stored.snapshot = snapshot
        self._replies.setdefault(stored.chat.id, deque()).append(snapshot)
        self._replies_signal.notify()

    def _bot_short(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_user["first_name"],
            "username": self.bot_username,
        }

    def _message_json(self, stored: _Stored, *, nested: bool = False) -> JsonDict:
        chat = stored.chat
        api: JsonDict = {"message_id": stored.message_id}
        if stored.from_bot and chat.type == "channel":
            # Channel posts are signed by the channel, not by the bot account.
            api["sender_chat"] = chat.to_api()
        elif stored.from_bot:
            api["from"] = self._bot_short()
        elif stored.sender is not None:
            api["from"] = stored.sender.to_api()
        api["chat"] = chat.to_api()
        api["date"] = stored.date
        if stored.edit_date is not None:
            api["edit_date"] = stored.edit_date
        if stored.reply_to is not None and not nested:
            api["reply_to_message"] = self._message_json(stored.reply_to, nested=True)
        if stored.text is not None:
            api["text"] = stored.text
            if stored.entities:
                api["entities"] = [entity.to_api() for entity in stored.entities]
        if stored.photo is not None:
            api["photo"] = [dict(size) for size in stored.photo.sizes]
            if stored.caption is not None:
                api["caption"] = stored.caption
                if stored.caption_entities:
                    api["caption_entities"] = [e.to_api() for e in stored.caption_entities]
        if stored.inline_markup is not None:
            api["reply_markup"] = stored.inline_markup
        api.update(stored.extra)
        return api

    def _user_entities(self, text: str) -> tuple[Entity, ...]:
        # Telegram marks commands and @mentions in what users type; PTB's CommandHandler
        # only fires on a bot_command entity at offset 0.
        found: list[tuple[int, Entity]] = []
        for pattern, kind in ((_COMMAND, "bot_command"), (_MENTION, "mention")):
            for match in pattern.finditer(text):
                offset = utf16_length(text[: match.start()])
                found.append((match.start(), Entity(kind, offset, utf16_length(match.group()))))
        return tuple(entity for _, entity in sorted(found, key=lambda item: item[0]))

    def _bot_sees(self, chat: FakeChat, stored: _Stored) -> bool:
        if chat.type == "private":
            return True
        if not chat.is_member(self.bot_id):
            return False
        if not self.privacy_mode or chat.is_admin(self.bot_id):
            return True
        if stored.reply_to is not None and stored.reply_to.from_bot:
            return True
        text = stored.text or ""
        me = self.bot_username.lower()
        for entity in stored.entities:
            token = _utf16_slice(text, entity.offset, entity.length).lower()
            if entity.type == "bot_command":
                _, _, addressee = token.partition("@")
                if addressee in ("", me):
                    return True
            elif entity.type == "mention" and token == f"@{me}":
                return True
        return False

    def _queue_my_chat_member(
        self, chat: FakeChat, user: FakeUser, *, old: MemberStatus, new: MemberStatus
    ) -> None:
        def member(status: MemberStatus) -> JsonDict:
            return member_json(chat, self._bot_short(), status)

        self._queue_update(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": user.to_api(),
                "date": int(self.clock()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )


# ---------------------------------------------------------------------- module helpers


def _utf16_slice(text: str, offset: int, length: int) -> str:
    units = text.encode("utf-16-le", "surrogatepass")
    return units[offset * 2 : (offset + length) * 2].decode("utf-16-le", "surrogatepass")


def _error_response(error: ApiError) -> web.Response:
    return web.json_response(error.body(), status=error.status)


def _update_type(update: JsonDict) -> str:
    return next(key for key in update if key != "update_id")
