"""The HTTP client under python-telegram-bot: aiohttp by default, or PTB's own httpx.

PTB talks to the Bot API through a ``telegram.request.BaseRequest``. Its default,
``HTTPXRequest``, spends most of a request's time in httpx itself: on a 2-core machine a
bare ``send_message`` loop reached about 700 messages a second with it and about 4,000
with the aiohttp backend below, so aiohttp is the default (``telegram.http_backend``).

How PTB's four timeouts map onto aiohttp, per request. ``DEFAULT_NONE`` (not passed)
means the instance's default, ``None`` means no limit, as in ``HTTPXRequest``:

``pool_timeout``
    Waiting for one of the ``connection_pool_size`` slots. aiohttp's own ``connect``
    timeout lumps the wait for a pooled connection together with connecting, and its
    timeout cannot tell the two apart, so the wait happens here, on a semaphore of the
    pool's size, and only then is the request handed to aiohttp. Exhaustion is a
    ``TimedOut`` saying the request was not sent, as PTB's is; retrying it is safe.
``connect_timeout``
    ``ClientTimeout.connect`` and ``sock_connect``. With the slot already held,
    aiohttp's ``connect`` covers only DNS, the TCP connect and the TLS handshake;
    ``sock_connect`` bounds each address tried.
``read_timeout``
    ``ClientTimeout.sock_read``: the longest silence while waiting for the answer, as
    httpx's read timeout is. aiohttp starts it once the request body is written.
``write_timeout``
    aiohttp has no write timeout. A body of up to 64 KiB, which is nearly every Bot API
    call, goes into the socket's and the transport's buffers without waiting, so a peer
    that stops reading shows up as a read timeout instead. A larger body (every upload,
    and the rare form over 64 KiB) can make the writer wait on a slow peer, so for those
    the write timeout (for uploads by default ``media_write_timeout``, 20 s, as in
    ``HTTPXRequest``) becomes a budget for the whole exchange:
    ``ClientTimeout.total = connect + write + read`` (no total when any is ``None``).
    Unlike httpx, whose write timeout is per socket write, an upload that keeps moving
    but needs longer than that budget fails. Bodiless GETs (file downloads) get no
    total, so a large download is limited only by the read timeout between chunks.
"""

from __future__ import annotations

import asyncio
import functools
import io
import re
from typing import IO, Literal
from urllib.parse import quote_plus
from urllib.request import getproxies_environment

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData
from yarl import URL

from bot.config import TelegramSettings
from bot.log_setup import REDACTED
from bot.ptb_compat import DefaultValue, ODVInput

__all__ = [
    "AiohttpRequest",
    "Backend",
    "api_request",
    "make_request",
    "polling_request",
]

Backend = Literal["aiohttp", "httpx"]

# PTB's own wording, so that logs read the same whichever backend is configured.
POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. "
    "Request was *not* sent to Telegram. Consider adjusting the connection "
    "pool size or the pool timeout."
)
_FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
_REDACTED_URL = "[Bot API URL]"
_LARGE_BODY = 2**20
# What aiohttp and asyncio buffer before a write has to wait for the peer.
_BUFFERED_BODY = 2**16
_TOKEN_IN_PATH = re.compile(r"(?<=/bot)\d+:[A-Za-z0-9_-]+")


class AiohttpRequest(BaseRequest):
    """``BaseRequest`` on an ``aiohttp.ClientSession``; the module docstring maps the timeouts.

    Defaults are ``HTTPXRequest``'s, so switching backends changes no behaviour.
    """

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_slots",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        # Both are made in initialize(): a ClientSession wants a running loop, and the
        # semaphore binds to the loop it first waits in, which may differ between runs.
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None

    @property
    def read_timeout(self) -> float | None:
        # Bot.get_updates adds the long-poll timeout to this.
        return self._read_timeout

    @property
    def connection_pool_size(self) -> int:
        return self._pool_size

    async def initialize(self) -> None:
        if self._session is not None and not self._session.closed:
            return
        self._slots = asyncio.Semaphore(self._pool_size)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._pool_size),
            headers={"User-Agent": self.USER_AGENT},
            # The Bot API sets no cookies; skipping the jar saves work on every answer.
            cookie_jar=aiohttp.DummyCookieJar(),
            # httpx honours HTTPS_PROXY and friends, so a deployment behind a proxy must
            # keep working when it switches backend. aiohttp looks the environment (and
            # ~/.netrc) up again on every request, so only when there is a proxy to find.
            # It has no SOCKS or ALL_PROXY support: such setups need http_backend "httpx".
            trust_env=bool(getproxies_environment()),
            timeout=aiohttp.ClientTimeout(total=None),
        )

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session, slots = self._session, self._slots
        if session is None or slots is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")

        uploads = request_data is not None and request_data.contains_files
        data, headers, may_block = _body(request_data)
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        total: float | None = None
        if may_block:
            if isinstance(write_timeout, DefaultValue):
                write_timeout = self._media_write_timeout if uploads else self._write_timeout
            if connect is not None and write_timeout is not None and read is not None:
                total = connect + write_timeout + read
        timeout = _client_timeout(connect, read, total)

        if slots.locked():
            try:
                async with asyncio.timeout(pool):
                    await slots.acquire()
            except TimeoutError:
                raise TimedOut(POOL_TIMEOUT_MESSAGE) from None
        else:
            await slots.acquire()  # free: returns without suspending
        try:
            async with session.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=timeout,
                # PTB's httpx client does not follow redirects either.
                allow_redirects=False,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            # Before OSError: TimeoutError is one, and aiohttp's timeouts subclass it.
            raise TimedOut(_timeout_message(error, may_block)) from error
        except (aiohttp.ClientError, OSError) as error:
            # The class name helps when aiohttp's message is empty. aiohttp puts the URL,
            # and with it the bot token, into some messages, and str() of a NetworkError
            # ends up in PTB's logs and in the bot's error handlers.
            raise NetworkError(
                f"aiohttp.{type(error).__name__}: {_redact(str(error), url)}"
            ) from error
        finally:
            slots.release()


def _body(
    request_data: RequestData | None,
) -> tuple[aiohttp.FormData | bytes | IO[bytes] | None, dict[str, str] | None, bool]:
    """The body as PTB's httpx backend sends it, and whether writing it may have to wait.

    Form-urlencoded without files, multipart with them.
    """
    if request_data is None:
        return None, None, False
    fields = request_data.json_parameters
    if not request_data.contains_files:
        if not fields:
            return None, None, False
        encoded = _form_encoded(fields)
        return _streamed(encoded), _FORM_HEADERS, len(encoded) > _BUFFERED_BODY
    form = aiohttp.FormData(default_to_multipart=True)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, _streamed(content), filename=filename, content_type=mimetype)
    return form, None, True


def _form_encoded(fields: dict[str, str]) -> bytes:
    """``urlencode(fields)``, each distinct name and value quoted once.

    A broadcast posts the same text to thousands of chats, and quoting it (a Python
    step per byte) was the largest single cost of a send.
    """
    return "&".join(f"{_quoted(name)}={_quoted(value)}" for name, value in fields.items()).encode()


@functools.lru_cache(maxsize=256)
def _quoted(text: str) -> str:
    return quote_plus(text)


def _streamed(content: bytes | IO[bytes]) -> bytes | IO[bytes]:
    # aiohttp writes bytes in one piece (and warns above 1 MiB) but streams a BytesIO in
    # chunks, each waiting for the socket: a stalled upload then waits instead of piling
    # the whole file into the transport's buffer.
    if isinstance(content, bytes) and len(content) > _LARGE_BODY:
        return io.BytesIO(content)
    return content


@functools.lru_cache(maxsize=64)
def _client_timeout(
    connect: float | None, read: float | None, total: float | None
) -> aiohttp.ClientTimeout:
    # Immutable, and nearly every request uses one of a handful of combinations.
    return aiohttp.ClientTimeout(total=total, connect=connect, sock_connect=connect, sock_read=read)


def _timeout_message(error: TimeoutError, may_block: bool) -> str:
    # Our own words: aiohttp's connect-timeout message contains the URL.
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return "Timed out: connecting to the Bot API took longer than the connect timeout"
    if isinstance(error, aiohttp.SocketTimeoutError):
        return "Timed out: no answer from the Bot API within the read timeout"
    if may_block:
        return "Timed out: sending the request took longer than the write timeout allows"
    return "Timed out"


def _redact(message: str, url: str) -> str:
    # The rest of the URL stays: "port 99999" or a wrong host is what the reader needs.
    message = _TOKEN_IN_PATH.sub(REDACTED, message)
    # A token of another shape, or a base URL without /bot: hide every form of the URL.
    forms = {url}
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        pass
    else:
        forms.update({str(parsed), parsed.raw_path, parsed.path})
    # Longest first, so a whole URL is replaced before its path would be.
    for form in sorted((f for f in forms if f and f != "/"), key=len, reverse=True):
        message = message.replace(form, _REDACTED_URL)
    return message


def make_request(
    backend: Backend,
    *,
    connection_pool_size: int,
    read_timeout: float | None = 5.0,
    write_timeout: float | None = 5.0,
    connect_timeout: float | None = 5.0,
    pool_timeout: float | None = 1.0,
) -> BaseRequest:
    """A request object of the chosen backend; the same arguments mean the same on both."""
    if backend == "aiohttp":
        return AiohttpRequest(
            connection_pool_size=connection_pool_size,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
    return HTTPXRequest(
        connection_pool_size=connection_pool_size,
        read_timeout=read_timeout,
        write_timeout=write_timeout,
        connect_timeout=connect_timeout,
        pool_timeout=pool_timeout,
    )


def api_request(telegram: TelegramSettings) -> BaseRequest:
    """For every Bot API call except getUpdates."""
    return make_request(telegram.http_backend, connection_pool_size=telegram.connection_pool_size)


def polling_request(telegram: TelegramSettings) -> BaseRequest:
    """For getUpdates, as ApplicationBuilder builds it: one connection, default timeouts.

    Only one long poll is ever in flight, and Bot.get_updates adds the poll's own
    timeout to the read timeout, so the defaults suit long polling.
    """
    return make_request(telegram.http_backend, connection_pool_size=1)
