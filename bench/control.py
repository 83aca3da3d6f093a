"""Starting the fake Bot API process and talking to its control channel."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from bench.common import TOKEN


@dataclass(frozen=True)
class Expectation:
    reached: bool
    at: float | None  # CLOCK_MONOTONIC of the n-th message, as time.monotonic() reads it
    bulk_sent: int
    rate_limited: int
    chats: int  # broadcast chats that got at least one message
    duplicates: int  # messages beyond the first to the same chat
    times: list[float]

    def pace(self, started: float, messages: int, what: str) -> tuple[float, float]:
        """Seconds from `started` (time.monotonic()) to the last of `messages`, and
        messages per second; RuntimeError naming `what` if they did not all arrive."""
        if not self.reached or self.at is None:
            raise RuntimeError(
                f"{what} did not complete: {self.bulk_sent:,} of {messages:,} messages sent, "
                f"{self.rate_limited} refused with 429"
            )
        seconds = self.at - started
        return seconds, messages / seconds


class FakeServer:
    """``python -m bench.fake_server`` as a child process, and a client of its control port."""

    def __init__(self, token: str = TOKEN, *, profile: Path | None = None) -> None:
        self.token = token
        self.profile = profile
        self._process: subprocess.Popen[str] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._owned = True
        self.api_root = ""
        self.control = ""
        self.pid = 0

    @classmethod
    def attach(cls, api_root: str, control: str) -> FakeServer:
        """A client of a fake another process started; leaving it does not stop the fake."""
        server = cls()
        server.api_root, server.control, server._owned = api_root, control, False
        return server

    async def __aenter__(self) -> FakeServer:
        if not self._owned:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
            return self
        command = [sys.executable, "-m", "bench.fake_server", "--token", self.token]
        if self.profile is not None:
            command += ["--profile", str(self.profile)]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the fake Bot API process did not start")
        ready = json.loads(line)
        self.api_root, self.control, self.pid = ready["api_root"], ready["control"], ready["pid"]
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process = self._process
        if self._session is not None:
            if not self._owned:
                await self._session.close()
                return
            with contextlib.suppress(aiohttp.ClientError):
                await self._post("/shutdown", {})
            await self._session.close()
        if process is not None:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()  # our own child, by its handle
                process.wait()

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        assert self._session is not None
        async with self._session.post(self.control + path, json=body) as response:
            response.raise_for_status()
            answer: dict[str, Any] = await response.json()
            return answer

    async def add_users(self, first: int, count: int) -> None:
        await self._post("/users", {"first": first, "count": count})

    async def add_user_ids(self, ids: list[int]) -> None:
        await self._post("/users", {"ids": ids})

    async def set_limits(
        self,
        *,
        global_per_second: float | None = None,
        per_private_chat_per_second: float | None = None,
        per_group_per_minute: float | None = None,
    ) -> None:
        await self._post(
            "/limits",
            {
                "global_per_second": global_per_second,
                "per_private_chat_per_second": per_private_chat_per_second,
                "per_group_per_minute": per_group_per_minute,
            },
        )

    async def reset(self, *, keep_times: bool = False) -> None:
        await self._post("/reset", {"keep_times": keep_times})

    async def counters(self) -> dict[str, Any]:
        assert self._session is not None
        async with self._session.get(self.control + "/counters") as response:
            response.raise_for_status()
            answer: dict[str, Any] = await response.json()
            return answer

    async def expect(self, count: int, *, timeout: float, times: bool = False) -> Expectation:
        """Wait until `count` broadcast messages arrived since the last reset."""
        answer = await self._post("/expect", {"count": count, "timeout": timeout, "times": times})
        return Expectation(
            reached=answer["reached"],
            at=answer["at"],
            bulk_sent=answer["bulk_sent"],
            rate_limited=answer["rate_limited"],
            chats=answer["chats"],
            duplicates=answer["duplicates"],
            times=answer.get("times", []),
        )

    async def probe(
        self, user_id: int, commands: list[str], *, timeout: float = 10
    ) -> tuple[list[float], list[str]]:
        """Latency in ms of each command, from the update queued to the reply received."""
        answer = await self._post(
            "/probe", {"user_id": user_id, "commands": commands, "timeout": timeout}
        )
        return answer["latencies_ms"], answer["failures"]
