"""The fake Bot API in a process of its own, with a small HTTP control channel.

    python -m bench.fake_server [--token TOKEN]

prints one JSON line — ``{"api_root": ..., "control": ..., "pid": ...}`` — and
serves until ``POST /shutdown`` (or until its parent closes its stdin). Running
apart from the bot, it does not take the bot's CPU.

Control endpoints (JSON in, JSON out):

``POST /users``     ``{"first": id, "count": n}`` or ``{"ids": [...]}``: users who started the bot.
``POST /limits``    ``RateLimits`` fields; null switches a limit off.
``POST /reset``     zero the counters, forget the messages, empty the flood buckets.
``GET  /counters``  messages sent (all, and outside the probe chats), 429s, other errors.
``POST /expect``    ``{"count": n, "timeout": s}``: wait until n messages went to chats other
                    than the probe's since the last reset; answers the CLOCK_MONOTONIC time
                    of the n-th (comparable across processes on Linux), how many chats
                    got one and how many got one more than once, and the times of
                    every message since the reset when ``"times": true``.
``POST /probe``     ``{"user_id": id, "commands": [...], "timeout": s}``: the user sends each
                    command in turn and waits for the bot's reply; answers the latency of
                    each, in ms, from queueing the update to receiving the reply.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import json
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aiohttp import web

import bot.sandbox.fake_api as fake_module
from bot.render.telegram_html import Entity
from bot.sandbox import validation
from bot.sandbox.fake_api import FakeBotApi, FakeChat, RateLimits
from bot.sandbox.objects import FakeUser
from bot.sandbox.validation import FormattedText

JsonDict = dict[str, Any]

_strict_formatted_text = validation.formatted_text


@functools.lru_cache(maxsize=4096)
def _parsed_once(raw: str, parse_mode: str | None) -> FormattedText:
    return _strict_formatted_text(raw, parse_mode, None)


def _formatted_text_cached(
    raw: Any, parse_mode: Any, entities: Any, *, entities_name: str = "entities"
) -> FormattedText:
    """The fake's own parser, each distinct text parsed once.

    A broadcast sends one text thousands of times, and the fake's strict HTML parser
    (pure Python, ~1 ms a message) would otherwise be what the benchmark measures. A
    text the parser refuses raises every time: only successes are remembered.
    """
    plain_mode = parse_mode is None or isinstance(parse_mode, str)
    if entities is None and isinstance(raw, str) and plain_mode:
        return _parsed_once(raw, parse_mode)
    return _strict_formatted_text(raw, parse_mode, entities, entities_name=entities_name)


class BenchFakeApi(FakeBotApi):
    """The strict fake, counting what it sends to the broadcast's chats and when."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.record_requests = False
        self.probe_chats: set[int] = set()
        self.bulk_sent = 0
        self.bulk_chats: Counter[int] = Counter()  # messages each broadcast chat received
        self.keep_times = False
        self.bulk_times: list[float] = []
        self._target: tuple[int, asyncio.Event] | None = None
        self.target_reached_at: float | None = None

    def expect(self, count: int) -> asyncio.Event:
        event = asyncio.Event()
        self._target = (count, event)
        self.target_reached_at = None
        if self.bulk_sent >= count:
            self.target_reached_at = time.monotonic()
            event.set()
        return event

    def reset(self) -> None:
        self.messages_sent = 0
        self.rate_limited = 0
        self.bulk_sent = 0
        self.bulk_chats.clear()
        self.bulk_times.clear()
        self.errors.clear()
        self._target = None
        self._messages.clear()
        self._replies.clear()
        self._flood.reset()

    def _store_bot_message(
        self,
        chat: FakeChat,
        *,
        text: str | None = None,
        entities: tuple[Entity, ...] = (),
        markup: JsonDict | None,
        reply_to: Any,
    ) -> Any:
        stored = super()._store_bot_message(
            chat, text=text, entities=entities, markup=markup, reply_to=reply_to
        )
        if chat.id in self.probe_chats:
            return stored
        self.bulk_sent += 1
        self.bulk_chats[chat.id] += 1
        now = time.monotonic()
        if self.keep_times:
            self.bulk_times.append(now)
        # The broadcast is not read back; keeping its messages would only grow this process.
        del self._messages[(chat.id, stored.message_id)]
        if self._target is not None and self.bulk_sent >= self._target[0]:
            self.target_reached_at = now
            self._target[1].set()
            self._target = None
        return stored

    def _record(self, stored: Any, **kwargs: Any) -> None:
        if stored.chat.id in self.probe_chats:
            super()._record(stored, **kwargs)


class Control:
    def __init__(self, api: BenchFakeApi) -> None:
        self.api = api
        self.users: dict[int, FakeUser] = {}
        self.stopped = asyncio.Event()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/users", self.add_users),
            web.post("/limits", self.set_limits),
            web.post("/reset", self.reset),
            web.get("/counters", self.counters),
            web.post("/expect", self.expect),
            web.post("/probe", self.probe),
            web.post("/shutdown", self.shutdown),
        ]

    async def add_users(self, request: web.Request) -> web.Response:
        body = await request.json()
        ids = body.get("ids") or range(body["first"], body["first"] + body["count"])
        added = 0
        for user_id in ids:
            if user_id not in self.users:
                self.users[user_id] = self.api.add_user(f"User {user_id}", user_id=user_id)
                added += 1
        return web.json_response({"added": added, "users": len(self.users)})

    async def set_limits(self, request: web.Request) -> web.Response:
        self.api.rate_limits = RateLimits(**await request.json())
        return web.json_response({"ok": True})

    async def reset(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        self.api.reset()
        self.api.keep_times = bool(body.get("keep_times", False))
        return web.json_response({"ok": True})

    async def counters(self, request: web.Request) -> web.Response:
        api = self.api
        return web.json_response(
            {
                "messages_sent": api.messages_sent,
                "bulk_sent": api.bulk_sent,
                "rate_limited": api.rate_limited,
                "chats": len(api.bulk_chats),
                "duplicates": api.bulk_sent - len(api.bulk_chats),
                "errors": len(api.errors),
                "recent_errors": [body.get("description") for _, _, body in api.errors[-3:]],
            }
        )

    async def expect(self, request: web.Request) -> web.Response:
        body = await request.json()
        event = self.api.expect(int(body["count"]))
        reached = True
        try:
            async with asyncio.timeout(float(body.get("timeout", 600))):
                await event.wait()
        except TimeoutError:
            reached = False
        answer: JsonDict = {
            "reached": reached,
            "at": self.api.target_reached_at,
            "bulk_sent": self.api.bulk_sent,
            "rate_limited": self.api.rate_limited,
            "chats": len(self.api.bulk_chats),
            "duplicates": self.api.bulk_sent - len(self.api.bulk_chats),
        }
        if body.get("times"):
            answer["times"] = list(self.api.bulk_times)
        return web.json_response(answer)

    async def probe(self, request: web.Request) -> web.Response:
        body = await request.json()
        user = self.users[int(body["user_id"])]
        timeout = float(body.get("timeout", 10))
        api = self.api
        api.probe_chats.add(user.id)
        latencies: list[float] = []
        failures: list[str] = []
        for command in body["commands"]:
            api._replies.pop(user.id, None)
            started = time.perf_counter()
            api.send_message(user, command)
            try:
                await api.next_reply(user.id, timeout=timeout)
            except TimeoutError as error:
                failures.append(f"{command}: {error}")
                latencies.append(float("nan"))
                continue
            latencies.append((time.perf_counter() - started) * 1000)
        return web.json_response({"latencies_ms": latencies, "failures": failures})

    async def shutdown(self, request: web.Request) -> web.Response:
        self.stopped.set()
        return web.json_response({"ok": True})


async def _watch_stdin(stopped: asyncio.Event) -> None:
    """Stop when the parent goes away (its end of our stdin closes)."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    stopped.set()


async def serve(token: str, *, parse_cache: bool = True) -> None:
    if parse_cache:
        # The name fake_api calls, replaced in this process only.
        fake_module.__dict__["formatted_text"] = _formatted_text_cached
    api = BenchFakeApi(token)
    await api.start()
    control = Control(api)
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.add_routes(control.routes())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(
        json.dumps(
            {"api_root": api.api_root, "control": f"http://127.0.0.1:{port}", "pid": os.getpid()}
        ),
        flush=True,
    )
    watcher = asyncio.create_task(_watch_stdin(control.stopped))
    try:
        await control.stopped.wait()
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await runner.cleanup()
        await api.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="The fake Bot API for the benchmarks.")
    parser.add_argument("--token", default="123456789:BENCH-token-not-real")
    parser.add_argument("--profile", type=Path, help="write cProfile stats here on shutdown")
    parser.add_argument(
        "--no-parse-cache", action="store_true", help="parse every message's HTML anew"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="fake-api %(levelname)s %(message)s")
    if args.profile is None:
        asyncio.run(serve(args.token, parse_cache=not args.no_parse_cache))
    else:
        with cProfile.Profile() as profile:
            asyncio.run(serve(args.token, parse_cache=not args.no_parse_cache))
        profile.dump_stats(args.profile)
    # The stdin watcher's thread may still be blocked in read(); do not wait for it.
    os._exit(0)


if __name__ == "__main__":
    main()
