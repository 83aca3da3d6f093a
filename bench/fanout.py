"""Benchmarks 1 and 2: one alert to many subscribers, unlimited and under a global limit.

1. The engine's rate (enqueue → the fake has the last message) against bare send loops
   of the same message, all in one run against the same fake: PTB's ``send_message`` on
   the same backend (aiohttp and httpx), and aiogram 3's, each at its best concurrency;
   with the duplicates and losses the fake saw from the engine.
2. The same with the bot and the fake both limited to `limit` messages a second
   overall: achieved rate / limit, and the 429s the fake had to send.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode

from bench.botside import alert_everyone_after_start_up, drained, publish_alert, running_bot
from bench.common import (
    ANCHOR,
    FIRST_SUBSCRIBER,
    TOKEN,
    Backend,
    Figure,
    Log,
    alert_incident,
    at_least,
    bot_settings,
    no_429_figure,
    rate_ratio_figure,
)
from bench.control import FakeServer
from bench.datasets import copy_database, discard, keep_subscribers
from bot.http_backend import make_request
from bot.models import Incident
from bot.render.delivery import alert_text


@dataclass(frozen=True)
class Trial:
    concurrency: int
    rate: float  # messages a second
    seconds: float
    rate_limited: int
    cpu_ms: float  # this process's CPU time per message
    duplicates: int = 0
    losses: int = 0


def alert_html() -> str:
    """The card the engine sends for alert_incident(), rendered as the engine renders it."""
    draft = alert_incident(0)
    incident = Incident.model_validate(
        {
            **draft.model_dump(),
            "id": 1_000_001,
            "created_at": ANCHOR,
            "updated_at": ANCHOR,
        }
    )
    return alert_text(incident, ZoneInfo("Asia/Baghdad"))


async def timed_loop(
    fake: FakeServer,
    send: Callable[[int], Awaitable[object]],
    concurrency: int,
    chat_ids: list[int],
) -> Trial:
    """`send` to every chat, `concurrency` at a time, timed until the fake has the last.

    A first round to a few chats opens the connections, as the engine's warm-up does.
    """

    async def send_all(chats: list[int]) -> None:
        pending = iter(chats)

        async def worker() -> None:
            for chat_id in pending:
                await send(chat_id)

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    await send_all(chat_ids[: concurrency * 4])
    await fake.reset()
    started, cpu = time.monotonic(), time.process_time()
    await send_all(chat_ids)
    cpu = time.process_time() - cpu
    reached = await fake.expect(len(chat_ids), timeout=60)
    seconds, rate = reached.pace(started, len(chat_ids), "bare send loop")
    return Trial(
        concurrency, rate, seconds, reached.rate_limited,
        cpu_ms=1000 * cpu / len(chat_ids),
    )  # fmt: skip


async def bare_loop(
    fake: FakeServer, backend: Backend, concurrency: int, chat_ids: list[int], html: str
) -> Trial:
    """The ceiling: PTB's Bot sending `html` to every chat, `concurrency` at a time."""
    bot = Bot(
        TOKEN,
        base_url=f"{fake.api_root}/bot",
        base_file_url=f"{fake.api_root}/file/bot",
        request=make_request(backend, connection_pool_size=concurrency),
        get_updates_request=make_request(backend, connection_pool_size=1),
    )
    no_preview = LinkPreviewOptions(is_disabled=True)

    async def send(chat_id: int) -> object:
        return await bot.send_message(
            chat_id, html, parse_mode=ParseMode.HTML, link_preview_options=no_preview
        )

    async with bot:
        return await timed_loop(fake, send, concurrency, chat_ids)


async def aiogram_loop(fake: FakeServer, concurrency: int, chat_ids: list[int], html: str) -> Trial:
    """A peer: aiogram 3's Bot sending `html` to every chat, `concurrency` at a time."""
    try:
        from aiogram import Bot as AiogramBot
        from aiogram.client.default import DefaultBotProperties
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer
    except ImportError as error:
        raise RuntimeError(
            "the benchmarks need aiogram: pip install -e '.[bench]' (make bench does)"
        ) from error

    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.api_root), limit=concurrency)
    bot = AiogramBot(
        TOKEN,
        session=session,
        default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True),
    )

    async def send(chat_id: int) -> object:
        return await bot.send_message(chat_id, html)

    try:
        return await timed_loop(fake, send, concurrency, chat_ids)
    finally:
        await session.close()


async def engine_run(
    fake: FakeServer,
    db_path: Path,
    backend: Backend,
    concurrency: int,
    subscribers: int,
    *,
    rounds: int,
    global_per_second: float = 100_000,
    timeout: float = 120,
    profile: cProfile.Profile | None = None,
) -> list[Trial]:
    """Publish `rounds` alerts one after the other; a Trial for each.

    With `profile`, each fan-out (from the publication to the last settlement) runs
    under it.

    Before them the bot opens its connections with a burst of plain sends, as the
    ceiling's loop does, so neither pays for connecting inside the measurement.
    """
    settings = bot_settings(
        db_path,
        fake.api_root,
        backend=backend,
        concurrency=concurrency,
        global_per_second=global_per_second,
    )
    trials: list[Trial] = []
    async with running_bot(settings) as app:
        if global_per_second >= 100_000:
            warm = [FIRST_SUBSCRIBER + n for n in range(min(subscribers, concurrency * 4))]
            await asyncio.gather(*(app.bot.send_message(chat, "Warming up.") for chat in warm))
        for n in range(rounds):
            await fake.reset()
            cpu = time.process_time()
            if profile is not None:
                profile.enable()
            queued, started = await publish_alert(app, n)
            if queued != subscribers:
                raise RuntimeError(f"{queued} alerts queued, expected {subscribers}")
            reached = await fake.expect(queued, timeout=timeout)
            seconds, rate = reached.pace(started, queued, "fan-out")
            await drained(app)
            if profile is not None:
                profile.disable()
            cpu = time.process_time() - cpu
            seen = await fake.counters()
            trials.append(
                Trial(
                    concurrency,
                    rate,
                    seconds,
                    reached.rate_limited,
                    cpu_ms=1000 * cpu / queued,
                    duplicates=seen["duplicates"],
                    losses=subscribers - seen["chats"],
                )
            )
    return trials


async def unlimited(
    fake: FakeServer,
    template: Path,
    work_dir: Path,
    *,
    subscribers: int,
    concurrencies: list[int],
    rounds: int,
    log: Log,
) -> tuple[list[Figure], dict[Backend, int]]:
    """Benchmark 1, every peer in this one run; also the engine's best concurrency per backend."""
    await fake.set_limits()
    await fake.add_users(FIRST_SUBSCRIBER, subscribers)
    chat_ids = [FIRST_SUBSCRIBER + n for n in range(subscribers)]
    html = alert_html()
    figures: list[Figure] = []
    best_concurrency: dict[Backend, int] = {}
    engine_trials: list[Trial] = []
    best_engine: dict[Backend, Trial] = {}
    for backend in ("aiohttp", "httpx"):
        ceilings = []
        for concurrency in concurrencies:
            trial = max(
                [
                    await bare_loop(fake, backend, concurrency, chat_ids, html)
                    for _ in range(rounds)
                ],
                key=lambda t: t.rate,
            )
            log(f"  PTB     {backend} c={concurrency}: {trial.rate:,.0f} msg/s")
            ceilings.append(trial)
        db_path = copy_database(template, work_dir / f"fanout-{backend}.sqlite3")
        engines = []
        try:
            for concurrency in concurrencies:
                trials = await engine_run(
                    fake, db_path, backend, concurrency, subscribers, rounds=rounds
                )
                engine_trials += trials
                trial = max(trials, key=lambda t: t.rate)
                log(f"  engine  {backend} c={concurrency}: {trial.rate:,.0f} msg/s")
                engines.append(trial)
        finally:
            discard(db_path)
        ceiling = max(ceilings, key=lambda t: t.rate)
        engine = max(engines, key=lambda t: t.rate)
        best_concurrency[backend] = engine.concurrency
        best_engine[backend] = engine
        detail = {
            "engine_by_concurrency": {t.concurrency: round(t.rate, 1) for t in engines},
            "ceiling_by_concurrency": {t.concurrency: round(t.rate, 1) for t in ceilings},
            "engine_concurrency": engine.concurrency,
            "ceiling_concurrency": ceiling.concurrency,
            "messages": subscribers,
        }
        figures.append(
            Figure(
                key=f"fanout.{backend}.rate",
                label=f"1. Fan-out {subscribers:,}, {backend}: engine",
                value=engine.rate,
                unit="msg/s",
                goal="≥ 1,500 msg/s" if backend == "aiohttp" else "",
                passed=at_least(engine.rate, 1500) if backend == "aiohttp" else None,
                note=f"concurrency {engine.concurrency}; {engine.cpu_ms:.2f} ms CPU a message",
                extra=detail,
            )
        )
        figures += _peer_figures(
            f"{backend}", f"bare PTB loop ({backend})", subscribers, engine, ceiling
        )
    aiograms = []
    for concurrency in concurrencies:
        trial = max(
            [await aiogram_loop(fake, concurrency, chat_ids, html) for _ in range(rounds)],
            key=lambda t: t.rate,
        )
        log(f"  aiogram c={concurrency}: {trial.rate:,.0f} msg/s")
        aiograms.append(trial)
    aiogram = max(aiograms, key=lambda t: t.rate)
    figures += _peer_figures(
        "aiogram", "bare aiogram 3 loop (aiohttp)", subscribers, best_engine["aiohttp"], aiogram
    )
    runs = f"{len(engine_trials)} runs of {subscribers:,}"
    for key, label, count in [
        ("duplicates", "messages a chat got twice", sum(t.duplicates for t in engine_trials)),
        ("losses", "chats that got nothing", sum(t.losses for t in engine_trials)),
    ]:
        figures.append(
            Figure(
                key=f"fanout.{key}",
                label=f"1. Fan-out, every engine run: {label}",
                value=count,
                unit="count",
                goal="0",
                passed=count == 0,
                note=runs,
            )
        )
    return figures, best_concurrency


def _peer_figures(
    key: str, peer: str, subscribers: int, engine: Trial, ceiling: Trial
) -> list[Figure]:
    """The peer's own rate, and the engine's as a share of it (same backend, same run)."""
    ratio = engine.rate / ceiling.rate
    return [
        Figure(
            key=f"fanout.{key}.ceiling",
            label=f"1. Fan-out {subscribers:,}: {peer}",
            value=ceiling.rate,
            unit="msg/s",
            note=f"concurrency {ceiling.concurrency}; {ceiling.cpu_ms:.2f} ms CPU a message",
        ),
        Figure(
            key=f"fanout.{key}.ratio",
            label=f"1. Fan-out {subscribers:,}: engine / {peer}",
            value=ratio,
            unit="ratio",
            goal="≥ 0.8",
            passed=at_least(ratio, 0.8),
            ceiling=ceiling.rate,
        ),
    ]


async def profiled(
    fake: FakeServer,
    template: Path,
    work_dir: Path,
    *,
    subscribers: int,
    concurrency: int,
    log: Log,
    shown: int = 15,
) -> list[Figure]:
    """Benchmark 7: where the engine's CPU goes, from one fan-out under cProfile.

    cProfile slows every call, so the rate is not comparable with benchmark 1; the
    shares of the time are what count.
    """
    await fake.set_limits()
    await fake.add_users(FIRST_SUBSCRIBER, subscribers)
    db_path = copy_database(template, work_dir / "profile.sqlite3")
    profile = cProfile.Profile()
    try:
        [trial] = await engine_run(
            fake, db_path, "aiohttp", concurrency, subscribers, rounds=1, profile=profile
        )
    finally:
        discard(db_path)
    stats = pstats.Stats(profile)
    # Time in epoll is the loop waiting for the fake or the database thread, not CPU.
    entries = {
        where: timing
        for where, timing in stats.stats.items()  # type: ignore[attr-defined]
        if where[2] != "<method 'poll' of 'select.epoll' objects>"
    }
    total = sum(own for _, _, own, _, _ in entries.values())
    heaviest = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:shown]
    top = [
        f"{own / total:6.1%} {1000 * own / subscribers:7.3f} ms/msg {calls:>8,}  "
        f"{_where(path, line, name)}"
        for (path, line, name), (_, calls, own, _, _) in heaviest
    ]
    log(f"  profiled: {trial.cpu_ms:.2f} ms CPU a message under cProfile")
    return [
        Figure(
            key="profile.engine",
            label=f"7. Fan-out {subscribers:,} under cProfile: CPU a message",
            value=trial.cpu_ms,
            unit="ms",
            note="slowed by the profiler; see the profile below",
            extra={"top": top, "total_seconds": total},
        )
    ]


def _where(path: str, line: int, name: str) -> str:
    if path == "~":
        return name  # a built-in
    parts = Path(path).parts
    for root in ("site-packages", "bot", "storage", "bench", "handlers"):
        if root in parts:
            start = parts.index(root) + (1 if root == "site-packages" else 0)
            return f"{'/'.join(parts[start:])}:{line} {name}"
    return f"{Path(path).name}:{line} {name}"


async def limited(
    fake: FakeServer,
    template: Path,
    work_dir: Path,
    *,
    subscribers: int,
    limit: float,
    goal: float,
    concurrency: int,
    log: Log,
) -> list[Figure]:
    """Benchmark 2: the bot configured for `limit` msg/s overall, the fake enforcing it.

    `goal` is the share of the limit the whole run should reach.
    """
    db_path = copy_database(template, work_dir / f"limited-{limit:g}.sqlite3")
    try:
        keep_subscribers(db_path, FIRST_SUBSCRIBER, subscribers)
        await fake.add_users(FIRST_SUBSCRIBER, subscribers)
        # Per-chat limits are off at both ends: one message per chat, the overall limit is it.
        await fake.set_limits(global_per_second=limit)
        await fake.reset(keep_times=True)
        settings = bot_settings(
            db_path, fake.api_root, concurrency=concurrency, global_per_second=limit
        )
        async with running_bot(settings) as app:
            queued, started = await alert_everyone_after_start_up(app, fake, subscribers)
            reached = await fake.expect(queued, timeout=3 * subscribers / limit + 30, times=True)
            await drained(app)
    finally:
        await fake.set_limits()
        discard(db_path)
    seconds, achieved = reached.pace(started, queued, "limited fan-out")
    times = reached.times
    # After the first second the bucket's saved-up burst is spent: the steady pace.
    steady_from = next((i for i, t in enumerate(times) if t - started >= 1.0), 0)
    steady = (
        (len(times) - 1 - steady_from) / (times[-1] - times[steady_from])
        if len(times) - steady_from > 1
        else float("nan")
    )
    refused = reached.rate_limited
    log(f"  at {limit:g}/s: {achieved:,.1f} msg/s, steady {steady:,.1f}, 429s {refused}")
    return [
        rate_ratio_figure(
            f"limited.{limit:g}.ratio",
            f"2. Fan-out {subscribers:,} at {limit:g}/s: achieved / limit",
            achieved=achieved,
            limit=limit,
            goal=goal,
            seconds=seconds,
            note=", burst included",
        ),
        Figure(
            key=f"limited.{limit:g}.steady_ratio",
            label=f"2. Fan-out at {limit:g}/s: steady rate after 1 s / limit",
            value=steady / limit,
            unit="ratio",
            ceiling=limit,
            note=f"{steady:,.1f} msg/s",
        ),
        no_429_figure(
            f"limited.{limit:g}.rate_limited",
            f"2. Fan-out at {limit:g}/s: 429s sent by the fake",
            reached.rate_limited,
        ),
    ]
