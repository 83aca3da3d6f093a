"""Benchmark 3: /latest and /incident latency, idle and during a fan-out.

Measured in the fake's process, from queueing the user's update (the bot is
long-polling, so that hands it over at once) to receiving the bot's reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from pathlib import Path

from bench.botside import publish_alert, running_bot
from bench.common import (
    FIRST_SUBSCRIBER,
    PROBE_USER,
    Figure,
    Log,
    at_most,
    bot_settings,
    percentile,
)
from bench.control import FakeServer
from bench.datasets import copy_database, discard
from bot.context import IncidentBotApp

COMMANDS = ("/latest", "/incident")


def probe_commands(rounds: int, incidents: int, seed: int) -> list[str]:
    """/latest and /incident N alternately; N spread over the whole record."""
    rng = random.Random(seed)
    commands: list[str] = []
    for _ in range(rounds):
        commands.append("/latest")
        commands.append(f"/incident {rng.randint(1, incidents)}")
    return commands


def split(commands: list[str], latencies: list[float]) -> dict[str, list[float]]:
    by_command: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for command, latency in zip(commands, latencies, strict=True):
        by_command[command.split()[0]].append(latency)
    return by_command


async def keep_fanning_out(
    app: IncidentBotApp, fake: FakeServer, subscribers: int, stop: asyncio.Event
) -> int:
    """Publish an alert whenever fewer than half an alert's messages are left to send."""
    published = 0
    while not stop.is_set():
        counters = await fake.counters()
        if published * subscribers - counters["bulk_sent"] < subscribers // 2:
            await publish_alert(app, 1000 + published)
            published += 1
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.05):
                await stop.wait()
    return published


async def measure(
    fake: FakeServer,
    template: Path,
    work_dir: Path,
    *,
    subscribers: int,
    incidents: int,
    concurrency: int,
    rounds: int,
    log: Log,
) -> list[Figure]:
    await fake.set_limits()
    await fake.add_users(FIRST_SUBSCRIBER, subscribers)
    await fake.add_user_ids([PROBE_USER])
    db_path = copy_database(template, work_dir / "latency.sqlite3")
    results: dict[str, dict[str, list[float]]] = {}
    failures: list[str] = []
    fanout_rate = math.nan
    try:
        settings = bot_settings(db_path, fake.api_root, concurrency=concurrency)
        # The probe sends each command as soon as the last is answered, hundreds a minute:
        # flood control would rightly ignore that user (after 20 in 10 s, for 30 s), and
        # every command then waits out the probe's timeout. Latency is measured here, not it.
        settings.flood.commands = 100 * rounds
        async with running_bot(settings) as app:
            await fake.reset()
            # Warm-up: the first replies open connections and fill SQLite's cache.
            await fake.probe(PROBE_USER, probe_commands(10, incidents, seed=1))
            commands = probe_commands(rounds, incidents, seed=2)
            latencies, failed = await fake.probe(PROBE_USER, commands)
            failures += failed
            results["idle"] = split(commands, latencies)
            log("  idle: " + _summary(results["idle"]))

            stop = asyncio.Event()
            feeder = asyncio.create_task(keep_fanning_out(app, fake, subscribers, stop))
            while (await fake.counters())["bulk_sent"] < min(500, subscribers // 2):
                await asyncio.sleep(0.01)
            commands = probe_commands(rounds, incidents, seed=3)
            before, started = (await fake.counters())["bulk_sent"], time.monotonic()
            latencies, failed = await fake.probe(PROBE_USER, commands)
            after, ended = (await fake.counters())["bulk_sent"], time.monotonic()
            stop.set()
            published = await feeder
            failures += failed
            fanout_rate = (after - before) / (ended - started)
            results["fan-out"] = split(commands, latencies)
            log(
                "  during fan-out: " + _summary(results["fan-out"])
                + f" (fan-out at {fanout_rate:,.0f} msg/s, {published} alerts published)"
            )  # fmt: skip
    finally:
        discard(db_path)

    figures: list[Figure] = []
    for state, limit in (("idle", 25.0), ("fan-out", 100.0)):
        for command in COMMANDS:
            values = [v for v in results[state][command] if not math.isnan(v)]
            p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
            where = "idle" if state == "idle" else "during fan-out"
            figures.append(
                Figure(
                    key=f"latency.{state}.{command.lstrip('/')}.p50",
                    label=f"3. {command} {where}: p50",
                    value=p50,
                    unit="ms",
                )
            )
            figures.append(
                Figure(
                    key=f"latency.{state}.{command.lstrip('/')}.p99",
                    label=f"3. {command} {where}: p99",
                    value=p99,
                    unit="ms",
                    goal=f"< {limit:g} ms",
                    passed=at_most(p99, limit) and len(values) == rounds,
                    note=f"{len(values)} replies"
                    + (f" ({rounds - len(values)} missing)" if len(values) < rounds else ""),
                )
            )
    figures.append(
        Figure(
            key="latency.fan-out.rate",
            label="3. Fan-out rate while the commands were answered",
            value=fanout_rate,
            unit="msg/s",
            note=f"concurrency {concurrency}",
            extra={"failures": failures[:5]},
        )
    )
    return figures


def _summary(by_command: dict[str, list[float]]) -> str:
    return ", ".join(
        f"{command} p50 {percentile(values, 0.5):.1f} ms p99 {percentile(values, 0.99):.1f} ms"
        for command, values in by_command.items()
    )
