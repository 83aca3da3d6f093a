"""Both HTTP backends under PTB, held to the same tests against the fake Bot API.

Every test runs once with the aiohttp backend and once with PTB's httpx one: what
the bot sees (exception classes, messages, uploads, timeouts) must not depend on the
``telegram.http_backend`` setting. The requests are built by the same factories the
application uses.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import cast
from urllib.parse import urlencode

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.config import Settings, TelegramSettings
from bot.context import IncidentBotApp
from bot.http_backend import (
    AiohttpRequest,
    Backend,
    _form_encoded,
    api_request,
    make_request,
    polling_request,
)
from bot.ptb_compat import retry_after_seconds
from bot.sandbox.fake_api import FakeBotApi, Fault
from tests.people import Person
from tests.test_fake_api import ignore_retry_after_deprecation, png


@pytest.fixture(params=["aiohttp", "httpx"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return cast(Backend, request.param)


def make_bot(api: FakeBotApi, request: BaseRequest, backend: Backend) -> Bot:
    return Bot(
        api.token,
        base_url=f"{api.api_root}/bot",
        base_file_url=f"{api.api_root}/file/bot",
        request=request,
        # PTB would otherwise give getUpdates an httpx request whatever the backend.
        get_updates_request=make_request(backend, connection_pool_size=1),
    )


def request_for(
    backend: Backend,
    *,
    pool_size: int = 8,
    read_timeout: float | None = 5.0,
) -> BaseRequest:
    return make_request(backend, connection_pool_size=pool_size, read_timeout=read_timeout)


@pytest.fixture
async def bot(telegram: FakeBotApi, backend: Backend) -> AsyncIterator[Bot]:
    async with make_bot(telegram, request_for(backend), backend) as client:
        yield client


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# ---------------------------------------------------------------------- what goes over the wire


async def test_get_me(bot: Bot, telegram: FakeBotApi) -> None:
    me = await bot.get_me()
    assert (me.id, me.username) == (telegram.bot_id, "incident_test_bot")


async def test_html_and_inline_keyboard_round_trip(bot: Bot, telegram: FakeBotApi) -> None:
    alice = telegram.add_user("Alice")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Older ▸", callback_data="page:2")]])
    sent = await bot.send_message(
        alice.id,
        "<b>Tower 22</b> — Jordan &amp; Syria, 3 killed",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
    )
    assert sent.text == "Tower 22 — Jordan & Syria, 3 killed"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 8)]
    assert sent.reply_markup == keyboard
    record = await telegram.next_reply(alice.id)
    assert record.html == "<b>Tower 22</b> — Jordan &amp; Syria, 3 killed"
    assert record.buttons == [[("Older ▸", "page:2")]]
    # The form fields arrive typed as PTB meant them: the keyboard as a JSON object.
    _, params = telegram.requests[-1]
    assert params["chat_id"] == alice.id
    assert params["reply_markup"] == keyboard.to_dict()


async def test_photo_upload_arrives_intact_and_resends_by_file_id(
    bot: Bot, telegram: FakeBotApi
) -> None:
    alice = telegram.add_user("Alice")
    image = png(3, 2)
    sent = await bot.send_photo(
        alice.id, image, caption="<i>карта</i> of Anbar", parse_mode=ParseMode.HTML
    )
    record = await telegram.next_reply(alice.id)
    assert (record.method, record.photo, record.html) == (
        "sendPhoto",
        image,
        "<i>карта</i> of Anbar",
    )
    assert sent.caption == "карта of Anbar"
    file_id = sent.photo[-1].file_id
    again = await bot.send_photo(alice.id, file_id)
    assert again.photo[-1].file_id == file_id
    # The download is a GET through the same backend.
    file = await bot.get_file(file_id)
    assert bytes(await file.download_as_bytearray()) == image


# ---------------------------------------------------------------------- Bot API errors


@ignore_retry_after_deprecation
@pytest.mark.parametrize(
    ("fault", "expected", "message"),
    [
        (None, BadRequest, "Chat not found"),
        (Fault.forbidden(), Forbidden, "Forbidden: bot was blocked by the user"),
        (Fault.retry_after(3), RetryAfter, "Flood control exceeded. Retry in 3 seconds"),
        (Fault.server_error(), NetworkError, "Bad Gateway"),
        (Fault.migrated(-1_002_000_000_777), ChatMigrated, "Group migrated to supergroup."),
    ],
    ids=["400", "403", "429", "502", "migrated"],
)
async def test_error_answers_become_ptbs_exceptions(
    bot: Bot,
    telegram: FakeBotApi,
    fault: Fault | None,
    expected: type[TelegramError],
    message: str,
) -> None:
    alice = telegram.add_user("Alice")
    chat_id = 424242  # unknown to the fake: a real "chat not found"
    if fault is not None:
        telegram.inject("sendMessage", fault)
        chat_id = alice.id
    with pytest.raises(TelegramError) as caught:
        await bot.send_message(chat_id, "hello")
    # Exact class: BadRequest and TimedOut are NetworkErrors too.
    assert type(caught.value) is expected
    assert message in caught.value.message
    if isinstance(caught.value, RetryAfter):
        assert retry_after_seconds(caught.value) == 3
    if isinstance(caught.value, ChatMigrated):
        assert caught.value.new_chat_id == -1_002_000_000_777


# ---------------------------------------------------------------------- timeouts and failures


async def test_read_timeout_passed_per_call(bot: Bot, telegram: FakeBotApi) -> None:
    alice = telegram.add_user("Alice")
    telegram.inject("sendMessage", Fault.delay(0.5))
    # Without the timeout the delayed answer would arrive, and succeed.
    with pytest.raises(TimedOut):
        await bot.send_message(alice.id, "slow", read_timeout=0.1)


async def test_read_timeout_default_and_none(telegram: FakeBotApi, backend: Backend) -> None:
    alice = telegram.add_user("Alice")
    request = request_for(backend, read_timeout=0.1)
    async with make_bot(telegram, request, backend) as bot:
        telegram.inject("sendMessage", Fault.delay(0.3))
        with pytest.raises(TimedOut):
            await bot.send_message(alice.id, "slow")  # the instance's 0.1 s applies
        # None is "no limit", not "the default".
        telegram.inject("sendMessage", Fault.delay(0.3))
        sent = await bot.send_message(alice.id, "patient", read_timeout=None)
    assert sent.text == "patient"


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:{closed}/bot",
        "http://127.0.0.1:99999/bot",
        # A base URL not ending in /bot, so the token is not where it usually is.
        "http://127.0.0.1:99999/custom-",
    ],
    ids=["closed port", "invalid port", "invalid port, unusual base URL"],
)
async def test_unreachable_api_is_a_network_error_without_the_token(
    telegram: FakeBotApi, backend: Backend, base_url: str
) -> None:
    bot = Bot(
        telegram.token,
        base_url=base_url.format(closed=closed_port()),
        request=request_for(backend),
        get_updates_request=make_request(backend, connection_pool_size=1),
    )
    with pytest.raises(NetworkError) as caught:
        async with bot:
            pass  # initialize() calls getMe
    secret = telegram.token.partition(":")[2]
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value)


@pytest.fixture
async def deaf_server() -> AsyncIterator[str]:
    """A server that accepts connections and never reads them, so an upload stalls."""
    accepted: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    listener = socket.socket()
    # A fixed, small receive buffer (inherited by accepted sockets) stops the kernel
    # from soaking up megabytes of the upload before the writer has to wait.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    listener.bind(("127.0.0.1", 0))
    server = await asyncio.start_server(accept, sock=listener)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("body", ["upload", "large form"])
async def test_a_stalled_write_times_out(deaf_server: str, backend: Backend, body: str) -> None:
    request = make_request(backend, connection_pool_size=2, read_timeout=0.1, connect_timeout=0.1)
    # Not `async with bot`: its getMe would wait for an answer that never comes.
    bot = Bot("123456789:TEST-token-not-real", base_url=f"{deaf_server}/bot", request=request)
    # Far more than the socket buffers hold, so the writer has to wait for the peer.
    size = 16 * 2**20
    # The outer limit turns "never times out" into a failure instead of a hang.
    async with request, asyncio.timeout(5):
        with pytest.raises(TimedOut):
            if body == "upload":
                await bot.send_photo(1, png() + bytes(size), write_timeout=0.2)
            else:
                await bot.send_message(1, "x" * size, write_timeout=0.2)


async def test_exhausted_pool_times_out_without_sending(
    telegram: FakeBotApi, backend: Backend
) -> None:
    alice = telegram.add_user("Alice")
    # The pool size comes from the settings, as in the application.
    request = api_request(TelegramSettings(http_backend=backend, connection_pool_size=1))
    async with make_bot(telegram, request, backend) as bot:
        telegram.inject("sendMessage", Fault.delay(0.3))
        held = asyncio.create_task(bot.send_message(alice.id, "held"))
        async with asyncio.timeout(1):
            while not any(name == "sendMessage" for name, _ in telegram.requests):
                await asyncio.sleep(0.005)
        with pytest.raises(TimedOut, match=r"^Pool timeout"):
            await bot.send_message(alice.id, "squeezed", pool_timeout=0.05)
        assert (await held).text == "held"
    assert [m.text for m in telegram.messages_in(alice.id)] == ["held"]


async def test_initialize_and_shutdown_are_idempotent(
    telegram: FakeBotApi, backend: Backend
) -> None:
    request = request_for(backend)
    get_me = f"{telegram.api_root}/bot{telegram.token}/getMe"
    await request.initialize()
    await request.initialize()
    result = await request.post(get_me)
    assert isinstance(result, dict)
    assert result["username"] == "incident_test_bot"
    await request.shutdown()
    await request.shutdown()
    with pytest.raises(NetworkError, match=r"not initialized"):
        await request.post(get_me)
    # PTB initializes again after a shutdown, e.g. when an Application is restarted.
    async with request:
        assert await request.post(get_me) == result


async def test_many_concurrent_sends_all_succeed(telegram: FakeBotApi, backend: Backend) -> None:
    alice = telegram.add_user("Alice")
    request = api_request(TelegramSettings(http_backend=backend, connection_pool_size=16))
    async with make_bot(telegram, request, backend) as bot:
        # Six times more sends than connections, so most wait for one; the generous pool
        # timeout keeps a slow machine from turning that wait into TimedOut.
        sent = await asyncio.gather(
            *(bot.send_message(alice.id, f"n{n}", pool_timeout=5) for n in range(100))
        )
    assert [m.text for m in sent] == [f"n{n}" for n in range(100)]
    assert len({m.message_id for m in sent}) == 100
    assert len(telegram.messages_in(alice.id)) == 100


# ---------------------------------------------------------------------- the application


@pytest.fixture
def settings(settings: Settings, backend: Backend) -> Settings:
    """The suite's settings, with the backend under test."""
    telegram = settings.telegram.model_copy(update={"http_backend": backend})
    return settings.model_copy(update={"telegram": telegram})


async def test_the_application_runs_on_the_configured_backend(
    running_bot: IncidentBotApp, alice: Person, backend: Backend
) -> None:
    reply = await alice.says("/latest")
    assert "Rockets strike Ain al-Asad Air Base" in reply.text
    expected = AiohttpRequest if backend == "aiohttp" else HTTPXRequest
    assert type(running_bot.bot.request) is expected
    # PTB exposes only the regular request; the long poll's one is the first of the pair.
    assert type(running_bot.bot._request[0]) is expected


def test_aiohttp_is_the_default_and_getupdates_gets_one_connection() -> None:
    telegram = TelegramSettings()
    assert telegram.http_backend == "aiohttp"
    regular, polling = api_request(telegram), polling_request(telegram)
    assert isinstance(regular, AiohttpRequest)
    assert isinstance(polling, AiohttpRequest)
    assert (regular.connection_pool_size, polling.connection_pool_size) == (64, 1)
    assert polling.read_timeout == 5.0


def test_the_form_body_is_what_urlencode_makes_of_it() -> None:
    fields = {
        "chat_id": "-1001234",
        "text": '🚨 <b>New incident</b>\n\nA & B = 5% <a href="https://x.org/?a=1&b=2">+</a> ~',
        "reply_markup": '{"inline_keyboard": [[{"text": "Older ▸", "callback_data": "o:1"}]]}',
    }
    for _ in range(2):  # the second time from the cache of quoted values
        assert _form_encoded(fields) == urlencode(fields).encode()
