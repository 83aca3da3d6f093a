"""The fake Bot API, driven through PTB's own HTTP stack.

Every test talks to the fake with a real ``telegram.Bot`` or a real
``Application``, so what passes here is what PTB really sends and really
understands; the error tests check the exception class *and* the message PTB
builds from Telegram's description.
"""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)
from telegram.request import HTTPXRequest

from bot.lifecycle import polling
from bot.ptb_compat import retry_after_seconds
from bot.sandbox import FakeBotApi, Fault, RateLimits

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def png(width: int = 1, height: int = 1) -> bytes:
    """A valid, tiny RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# PTB 22 warns, when it builds RetryAfter, that retry_after will become a timedelta.
ignore_retry_after_deprecation = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        yield fake


def make_bot(api: FakeBotApi, token: str | None = None, **request: float) -> Bot:
    return Bot(
        token or api.token,
        base_url=f"{api.api_root}/bot",
        base_file_url=f"{api.api_root}/file/bot",
        request=HTTPXRequest(**request) if request else None,  # type: ignore[arg-type]
    )


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with make_bot(api) as client:
        yield client


def build_app(api: FakeBotApi) -> Application[Any, Any, Any, Any, Any, Any]:
    return (
        ApplicationBuilder()
        .token(api.token)
        .base_url(f"{api.api_root}/bot")
        .base_file_url(f"{api.api_root}/file/bot")
        .build()
    )


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    words = " ".join(context.args or []) or "nothing"
    await update.effective_message.reply_text(f"<b>echo</b> {words}", parse_mode=ParseMode.HTML)


# ---------------------------------------------------------------------- basics


async def test_get_me_describes_the_bot(bot: Bot, api: FakeBotApi) -> None:
    me = await bot.get_me()
    assert me.id == 123456789
    assert me.is_bot
    assert me.username == "incident_test_bot"
    assert api.requests[0][0] == "getMe"


async def test_wrong_token_is_invalid_token(api: FakeBotApi) -> None:
    with pytest.raises(InvalidToken):
        async with make_bot(api, token="123456789:some-other-token"):
            pass


async def test_unknown_method_is_not_found(bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})


async def test_echo_round_trip_through_a_real_application(api: FakeBotApi) -> None:
    alice = api.add_user("Alice", username="alice")
    app = build_app(api)
    app.add_handler(CommandHandler("echo", echo))
    async with polling(app, poll_timeout=1):
        api.send_message(alice, "/echo hello world")
        reply = await api.next_reply(alice.id)
        api.send_message(alice, "/echo@incident_test_bot again")
        second = await api.next_reply(alice.id)

    assert reply.method == "sendMessage"
    assert reply.html == "<b>echo</b> hello world"
    assert reply.text == "echo hello world"
    assert [e.to_api() for e in reply.entities] == [{"type": "bold", "offset": 0, "length": 4}]
    assert reply.parse_mode == "HTML"
    assert second.text == "echo again"
    assert api.pending_replies(alice.id) == []
    assert [m.message_id for m in api.messages_in(alice.id)] == [2, 4]


async def test_next_reply_times_out_and_names_recent_errors(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    with pytest.raises(BadRequest):
        await bot.send_message(alice.id, "<b>oops", parse_mode=ParseMode.HTML)
    with pytest.raises(TimeoutError, match=r"can't parse entities"):
        await api.next_reply(alice.id, timeout=0.05)


# ---------------------------------------------------------------------- getUpdates


async def test_get_updates_offset_confirms_and_never_duplicates(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    first = api.send_message(alice, "one")
    second = api.send_message(alice, "two")

    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first, second]
    # Without an offset nothing is confirmed, so the same updates come again.
    assert [u.update_id for u in await bot.get_updates()] == [first, second]
    assert [u.update_id for u in await bot.get_updates(offset=second)] == [second]
    assert await bot.get_updates(offset=second + 1) == ()

    third = api.send_message(alice, "three")
    updates = await bot.get_updates(offset=second + 1, limit=5)
    assert [(u.update_id, u.message.text) for u in updates if u.message] == [(third, "three")]
    # Confirmed updates are gone for good, even when asked for again.
    assert [u.update_id for u in await bot.get_updates()] == [third]


async def test_negative_offset_keeps_only_the_latest(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    ids = [api.send_message(alice, str(n)) for n in range(3)]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[-1:]
    assert [u.update_id for u in await bot.get_updates()] == ids[-1:]


async def test_long_poll_wakes_as_soon_as_an_update_arrives(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    api.send_message(alice, "wake up")
    updates = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in updates if u.message] == ["wake up"]
    assert loop.time() - started < 1


async def test_allowed_updates_filters_update_types(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    sent = await bot.send_message(
        alice.id,
        "pick",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]]),
    )
    api.send_message(alice, "a message")
    api.press_button(alice, await api.next_reply(alice.id), "A")
    assert sent.reply_markup is not None
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in updates if u.callback_query] == ["a"]
    assert len(updates) == 1


async def test_a_newer_get_updates_terminates_the_waiting_one(api: FakeBotApi, bot: Bot) -> None:
    async with make_bot(api) as other:
        waiting = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.05)
        assert await other.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match=r"terminated by other getUpdates request"):
            await asyncio.wait_for(waiting, 2)


async def test_get_updates_conflicts_with_a_webhook(api: FakeBotApi, bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook")
    with pytest.raises(Conflict, match=r"webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


# ---------------------------------------------------------------------- strictness


async def test_unknown_chat_is_chat_not_found(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(424242, "hello")


async def test_forgotten_chat_is_chat_not_found(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    api.forget_chat(alice.id)
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(alice.id, "hello")


async def test_too_long_is_counted_in_utf16_after_parsing(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    # Markup does not count: 4096 visible characters inside tags fit.
    await bot.send_message(alice.id, f"<b>{'x' * 4096}</b>", parse_mode=ParseMode.HTML)
    # An emoji is two UTF-16 units, so 2049 of them do not fit.
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(alice.id, "😀" * 2049)


async def test_bad_html_is_cant_parse_entities(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    with pytest.raises(BadRequest, match=r"^Can't parse entities"):
        await bot.send_message(alice.id, "<b>unclosed", parse_mode=ParseMode.HTML)
    # Without parse_mode the same text is taken literally.
    sent = await bot.send_message(alice.id, "<b>unclosed")
    assert sent.text == "<b>unclosed"


async def test_blank_text_is_empty(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.send_message(alice.id, " \n ")
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.send_message(alice.id, "<b></b>", parse_mode=ParseMode.HTML)


async def test_markdown_is_refused(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    with pytest.raises(BadRequest, match=r"^Unsupported parse_mode in fake$"):
        await bot.send_message(alice.id, "*hi*", parse_mode=ParseMode.MARKDOWN_V2)


@pytest.mark.parametrize(
    ("arrange", "message"),
    [
        (FakeBotApi.block_bot, "Forbidden: bot was blocked by the user"),
        (FakeBotApi.deactivate, "Forbidden: user is deactivated"),
    ],
)
async def test_unreachable_users_are_forbidden(
    api: FakeBotApi,
    bot: Bot,
    arrange: Callable[[FakeBotApi, Any], None],
    message: str,
) -> None:
    alice = api.add_user("Alice")
    arrange(api, alice)
    with pytest.raises(Forbidden) as caught:
        await bot.send_message(alice.id, "hello")
    assert caught.value.message == message


async def test_a_user_who_never_started_the_bot_cannot_be_messaged(
    api: FakeBotApi, bot: Bot
) -> None:
    bob = api.add_user("Bob", started=False)
    with pytest.raises(Forbidden, match=r"can't initiate conversation"):
        await bot.send_message(bob.id, "hello")
    api.send_message(bob, "/start")
    await bot.send_message(bob.id, "welcome")


async def test_writing_again_unblocks_the_bot(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    api.block_bot(alice)
    api.send_message(alice, "/start")
    await bot.send_message(alice.id, "welcome back")
    kinds = [
        u.my_chat_member.new_chat_member.status for u in await bot.get_updates() if u.my_chat_member
    ]
    assert kinds == ["kicked", "member"]


@ignore_retry_after_deprecation
async def test_retry_after_fault(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    api.inject("sendMessage", Fault.retry_after(7))
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(alice.id, "hello")
    assert retry_after_seconds(caught.value) == 7
    await bot.send_message(alice.id, "hello")  # the fault was for one call only


async def test_migrated_group_raises_chat_migrated(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    group = api.add_group("Ops", admins=[alice], supergroup=False)
    await bot.send_message(group.id, "before")
    new_chat = api.migrate_group(group, -1001234567890)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(group.id, "after")
    assert caught.value.new_chat_id == -1001234567890
    sent = await bot.send_message(new_chat.id, "after")
    assert sent.chat.type == "supergroup"


async def test_injected_migration_and_chat_not_found(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    bob = api.add_user("Bob")
    api.inject("sendMessage", Fault.migrated(-1009), chat_id=bob.id)
    api.inject("sendMessage", Fault.chat_not_found(), chat_id=alice.id)
    with pytest.raises(ChatMigrated):
        await bot.send_message(bob.id, "hi")
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(alice.id, "hi")
    await bot.send_message(alice.id, "hi")


async def test_server_error_is_network_error(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    api.inject("sendMessage", Fault.server_error(), times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match=r"Bad Gateway") as caught:
            await bot.send_message(alice.id, "hello")
        assert not isinstance(caught.value, TimedOut)
    await bot.send_message(alice.id, "hello")


async def test_delay_beyond_the_client_timeout_is_timed_out(api: FakeBotApi) -> None:
    alice = api.add_user("Alice")
    api.inject("sendMessage", Fault.delay(0.5))
    async with make_bot(api, read_timeout=0.1) as impatient:
        with pytest.raises(TimedOut):
            await impatient.send_message(alice.id, "hello")
    # The slow server still did the work: the message exists though the client gave up.
    assert (await api.next_reply(alice.id, timeout=0.1)).text == "hello"


async def test_callback_data_is_limited_to_64_bytes(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")

    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("go", callback_data=data)]])

    await bot.send_message(alice.id, "fits", reply_markup=keyboard("x" * 64))
    await bot.send_message(alice.id, "fits", reply_markup=keyboard("é" * 32))
    with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
        await bot.send_message(alice.id, "too long", reply_markup=keyboard("x" * 65))
    with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
        # 33 characters, but 66 bytes in UTF-8.
        await bot.send_message(alice.id, "too long", reply_markup=keyboard("é" * 33))


async def test_edit_that_changes_nothing_is_not_modified(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more")]])
    sent = await bot.send_message(alice.id, "<b>v1</b>", parse_mode="HTML", reply_markup=markup)
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_text(
            "<b>v1</b>", alice.id, sent.message_id, parse_mode="HTML", reply_markup=markup
        )
    # Same text but no markup is a change: Telegram drops the keyboard.
    edited = await bot.edit_message_text("<b>v1</b>", alice.id, sent.message_id, parse_mode="HTML")
    assert isinstance(edited, type(sent))
    assert edited.reply_markup is None
    [current] = api.messages_in(alice.id)
    assert current.method == "editMessageText"
    assert current.buttons == []
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("v2", alice.id, 999)


async def test_edit_caption_and_reply_markup(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Open", url="https://example.org")]])
    photo = await bot.send_photo(alice.id, png(), caption="v1", reply_markup=keyboard)
    with pytest.raises(BadRequest, match=r"^There is no text in the message to edit$"):
        await bot.edit_message_text("v2", alice.id, photo.message_id)
    edited = await bot.edit_message_caption(
        alice.id, photo.message_id, caption="<b>v2</b>", parse_mode="HTML", reply_markup=keyboard
    )
    assert isinstance(edited, type(photo))
    assert edited.caption == "v2"
    await bot.edit_message_reply_markup(alice.id, photo.message_id)
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_reply_markup(alice.id, photo.message_id)
    methods = [reply.method for reply in api.pending_replies(alice.id)]
    assert methods == ["sendPhoto", "editMessageCaption", "editMessageReplyMarkup"]
    [current] = api.messages_in(alice.id)
    assert (current.caption, current.buttons, current.photo) == ("v2", [], png())


async def test_replies_must_name_a_live_message(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    api.send_message(alice, "question")
    [update] = await bot.get_updates()
    assert update.message is not None
    answer = await bot.send_message(
        alice.id, "answer", reply_to_message_id=update.message.message_id
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "question"
    with pytest.raises(BadRequest, match=r"^Message to be replied not found$"):
        await bot.send_message(alice.id, "answer", reply_to_message_id=999)
    fallback = await bot.send_message(
        alice.id, "answer", reply_to_message_id=999, allow_sending_without_reply=True
    )
    assert fallback.reply_to_message is None


async def test_text_is_trimmed_like_telegram_does(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    sent = await bot.send_message(alice.id, "\n  <b>hi</b> there \n", parse_mode="HTML")
    assert sent.text == "hi there"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 2)]


async def test_channel_posts_are_signed_by_the_channel(api: FakeBotApi, bot: Bot) -> None:
    channel = api.add_channel("Alerts", username="alerts_channel")
    post = await bot.send_message("@alerts_channel", "siren")
    assert post.sender_chat is not None
    assert post.sender_chat.id == channel.id
    assert post.from_user is None


async def test_send_photo_multipart_and_by_file_id(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    image = png(2, 3)
    sent = await bot.send_photo(alice.id, image, caption="<i>map</i>", parse_mode="HTML")
    assert sent.caption == "map"
    assert (sent.photo[-1].width, sent.photo[-1].height) == (2, 3)
    record = await api.next_reply(alice.id)
    assert (record.method, record.photo, record.caption, record.html) == (
        "sendPhoto",
        image,
        "map",
        "<i>map</i>",
    )
    again = await bot.send_photo(alice.id, sent.photo[-1].file_id)
    assert again.photo[-1].file_id == sent.photo[-1].file_id
    file = await bot.get_file(sent.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == image

    with pytest.raises(BadRequest, match=r"^Image_process_failed$"):
        await bot.send_photo(alice.id, b"not an image")
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.send_photo(alice.id, image, caption="x" * 1025)


@ignore_retry_after_deprecation
async def test_rate_limit_answers_retry_after() -> None:
    now = [1_700_000_000.0]
    async with FakeBotApi(clock=lambda: now[0]) as api, make_bot(api) as bot:
        alice = api.add_user("Alice")
        api.rate_limits = RateLimits(per_private_chat_per_second=1)
        await bot.send_message(alice.id, "one")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(alice.id, "two")
        assert retry_after_seconds(caught.value) == 1
        assert api.rate_limited == 1
        now[0] += 1
        await bot.send_message(alice.id, "two")
        assert [m.text for m in api.messages_in(alice.id)] == ["one", "two"]


@ignore_retry_after_deprecation
async def test_group_rate_limit_counts_per_minute() -> None:
    now = [1_700_000_000.0]
    async with FakeBotApi(clock=lambda: now[0]) as api, make_bot(api) as bot:
        group = api.add_group("Ops")
        api.rate_limits = RateLimits(per_group_per_minute=2)
        await bot.send_message(group.id, "one")
        await bot.send_message(group.id, "two")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(group.id, "three")
        assert retry_after_seconds(caught.value) == 60


async def test_commands_are_stored_per_scope_and_language(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    await bot.set_my_commands([BotCommand("latest", "Newest incidents")])
    await bot.set_my_commands(
        [BotCommand("help", "Every command")], scope=BotCommandScopeAllPrivateChats()
    )
    await bot.set_my_commands(
        [BotCommand("hilfe", "Alle Befehle")],
        scope=BotCommandScopeChat(alice.id),
        language_code="de",
    )
    assert [c.command for c in await bot.get_my_commands()] == ["latest"]
    private = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert [c.command for c in private] == ["help"]
    assert await bot.get_my_commands(scope=BotCommandScopeChat(alice.id)) == ()
    assert api.my_commands({"type": "chat", "chat_id": alice.id}, "de") == [
        {"command": "hilfe", "description": "Alle Befehle"}
    ]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()

    with pytest.raises(BadRequest, match=r"^Bot_command_invalid$"):
        await bot.set_my_commands([BotCommand("Latest", "capital letters are refused")])
    with pytest.raises(BadRequest, match=r"^Bot_command_description_invalid$"):
        await bot.set_my_commands([BotCommand("latest", "x" * 257)])


async def test_wait_for_request_returns_each_call_once(api: FakeBotApi, bot: Bot) -> None:
    # A call made before anyone waited is not lost, which matters for start-up calls.
    await bot.set_my_commands([BotCommand("latest", "Newest incidents")])
    params = await api.wait_for_request("setMyCommands", timeout=1)
    assert params["commands"] == [{"command": "latest", "description": "Newest incidents"}]

    waiting = asyncio.create_task(api.wait_for_request("setMyCommands", timeout=1))
    await asyncio.sleep(0)
    await bot.set_my_commands([BotCommand("help", "Every command")])
    assert (await waiting)["commands"][0]["command"] == "help"
    with pytest.raises(TimeoutError):
        await api.wait_for_request("setMyCommands", timeout=0.01)


# ---------------------------------------------------------------------- buttons


async def test_press_button_reaches_the_callback_query_handler(api: FakeBotApi) -> None:
    alice = api.add_user("Alice")

    async def offer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = [[InlineKeyboardButton("Older", callback_data="page:2")]]
        await update.effective_message.reply_text(
            "Page 1", reply_markup=InlineKeyboardMarkup(keyboard)
        )

    async def turn(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Loading")
        await query.edit_message_text(f"Page {query.data!s}".replace("page:", ""))

    app = build_app(api)
    app.add_handler(CommandHandler("latest", offer))
    app.add_handler(CallbackQueryHandler(turn, pattern=r"^page:"))
    async with polling(app, poll_timeout=1):
        api.send_message(alice, "/latest")
        page = await api.next_reply(alice.id)
        assert page.buttons == [[("Older", "page:2")]]
        query_id = api.press_button(alice, page, "Older")
        edited = await api.next_reply(alice.id)

    assert edited.method == "editMessageText"
    assert edited.message_id == page.message_id
    assert edited.text == "Page 2"
    assert api.callback_answers[query_id]["text"] == "Loading"
    with pytest.raises(LookupError):
        api.press_button(alice, page, "Newer")


async def test_a_callback_query_is_answered_once(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    await bot.send_message(
        alice.id,
        "pick",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]]),
    )
    query_id = api.press_button(alice, await api.next_reply(alice.id), "a")
    assert await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"^Query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"^Query is too old"):
        await bot.answer_callback_query("12345")


# ---------------------------------------------------------------------- groups and chats


async def test_privacy_mode_hides_plain_group_messages(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    group = api.add_group("Ops", admins=[alice])
    assert api.send_message(alice, "just chatting", chat=group) == 0
    assert api.send_message(alice, "/latest@some_other_bot", chat=group) == 0
    command = api.send_message(alice, "/latest 5", chat=group)
    mention = api.send_message(alice, "hey @incident_test_bot", chat=group)
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [command, mention]
    message = updates[0].message
    assert message is not None
    assert message.entities[0].type == "bot_command"
    assert message.chat.type == "supergroup"


async def test_chat_members_and_administrators(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    bob = api.add_user("Bob")
    carol = api.add_user("Carol")
    group = api.add_group("Ops", admins=[alice, bob], members=[carol])
    statuses = [(await bot.get_chat_member(group.id, u.id)).status for u in (alice, bob, carol)]
    assert statuses == ["creator", "administrator", "member"]
    admins = await bot.get_chat_administrators(group.id)
    assert [a.user.id for a in admins] == [alice.id, bob.id]
    chat = await bot.get_chat(group.id)
    assert (chat.type, chat.title) == ("supergroup", "Ops")
    with pytest.raises(BadRequest, match=r"no administrators in the private chat"):
        await bot.get_chat_administrators(alice.id)


async def test_delete_message(api: FakeBotApi, bot: Bot) -> None:
    alice = api.add_user("Alice")
    sent = await bot.send_message(alice.id, "temporary")
    assert await bot.delete_message(alice.id, sent.message_id)
    assert api.messages_in(alice.id) == []
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(alice.id, sent.message_id)


# ---------------------------------------------------------------------- wire formats


async def test_json_and_query_string_parameters(api: FakeBotApi) -> None:
    alice = api.add_user("Alice")
    url = f"{api.api_root}/bot{api.token}/sendMessage"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"chat_id": str(alice.id), "text": "json"}) as resp:
            assert (await resp.json())["result"]["text"] == "json"
        async with session.get(url, params={"chat_id": alice.id, "text": "query"}) as resp:
            assert (await resp.json())["result"]["text"] == "query"
        async with session.post(url, json={"chat_id": alice.id, "text": ""}) as resp:
            assert resp.status == 400
            assert await resp.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message text is empty",
            }
    assert [name for name, _ in api.requests] == ["sendMessage"] * 3


# ---------------------------------------------------------------------- webhook


async def test_webhook_delivery_with_secret_and_retries(api: FakeBotApi, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    delivered = asyncio.Event()
    failures = [500]

    async def hook(request: web.Request) -> web.Response:
        if failures:
            return web.Response(status=failures.pop())
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        received.append((secret, await request.json()))
        delivered.set()
        return web.Response()

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        alice = api.add_user("Alice")
        update_id = api.send_message(alice, "/start")
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret_token")
        await asyncio.wait_for(delivered.wait(), 2)
        [(secret, update)] = received
        assert secret == "s3cret_token"
        assert update["update_id"] == update_id
        assert update["message"]["text"] == "/start"
        info = await bot.get_webhook_info()
        assert info.last_error_message == (
            "Wrong response from the webhook: 500 Internal Server Error"
        )
        assert info.pending_update_count == 0
    finally:
        await bot.delete_webhook()
        await runner.cleanup()


async def test_webhook_url_must_be_https_off_loopback(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)an HTTPS URL must be provided"):
        await bot.set_webhook("http://example.com/hook")
    with pytest.raises(BadRequest, match=r"(?i)only on ports 80, 88, 443 or 8443"):
        await bot.set_webhook("https://example.com:8080/hook")
