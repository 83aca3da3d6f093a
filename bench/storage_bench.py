"""Benchmark 4: the queries behind /latest, /search, alert matching and a digest.

The real functions on the full database (a million incidents, a hundred thousand
subscribers), each timed `runs` times after one warm-up call.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import aiosqlite

from bench.common import ANCHOR, BenchClock, Figure, Log, at_most, bot_settings, percentile
from bot.models import DigestFrequency, Direction, SearchResults, Subscription
from bot.services import Services
from storage.incidents import search_published
from storage.outbox import AlertPlace, enqueue_alerts, matching_subscribers

T = TypeVar("T")

# Two common words: one of the prefix indexes' lengths (3 to 6 letters), and two longer
# ones, which are searched as the index's terms they begin.
SEARCH_TEXTS = ("drone Conoco", "rockets perimeter")
# Alerts about Iraq reach the most subscribers in the generated mix (those who chose it,
# alone or with Syria, and those who chose everywhere): a typical severity, and the
# highest, which nearly every one of them wants.
MATCH_SEVERITIES = (3, 5)
# An attack on a base in Iraq, with coordinates: it is matched on every level at once —
# Iraq and everywhere, the province of Anbar, the base by name, and every site whose radius
# holds it (Ain al-Asad's watchers).
MATCH_SITE = AlertPlace("Iraq", "Anbar", "Ain al-Asad Air Base", 33.80, 42.45)


async def timed_with_cpu(
    call: Callable[[], Awaitable[T]], runs: int
) -> tuple[list[float], list[float], T]:
    """Milliseconds of each of `runs` calls after one warm-up call, the CPU milliseconds
    the process spent on each (in all its threads, aiosqlite's included: on a machine
    shared with other work, the figure that work inflates least, for comparing runs made
    under different loads), and the last result."""
    result = await call()
    times: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = await call()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return times, cpu, result


async def measure(db_path: Path, *, runs: int, log: Log) -> list[Figure]:
    # The services as the application assembles them, with no Bot API behind them.
    services = Services.create(bot_settings(db_path, "http://127.0.0.1:9"), BenchClock())
    # What is built so far lives as long as the process, frozen for the garbage collector
    # as `incident-bot run` freezes it.
    gc.freeze()
    incidents, digests = services.incidents, services.digests
    figures: list[Figure] = []
    async with services.db as db:
        # A weekly digest of everywhere: the most incidents one digest can cover.
        subscription = Subscription(
            chat_id=999_999,
            chat_type="private",
            regions=[],
            digest=DigestFrequency.WEEKLY,
            timezone="Asia/Baghdad",
        )

        started = time.perf_counter()
        await digests.compose(subscription, ANCHOR)
        cold_digest = (time.perf_counter() - started) * 1000

        cases: list[tuple[str, str, Callable[[], Awaitable[object]], float, str]] = [
            ("latest", "/latest query (newest 5)", lambda: incidents.latest(5), 5.0, ""),
            *(
                (
                    "search" if n == 0 else "search_long_words",
                    f"Full-text search {text!r}",
                    _search(db.reader, text),
                    5.0,
                    "",
                )
                for n, text in enumerate(SEARCH_TEXTS)
            ),
            *(
                (
                    f"matching.severity{severity}",
                    f"Subscribers matching an alert (at {MATCH_SITE.site}, severity {severity})",
                    _matching(db.reader, severity),
                    50.0,
                    "",
                )
                for severity in MATCH_SEVERITIES
            ),
            (
                "digest",
                "Building one digest (weekly, everywhere)",
                lambda: digests.compose(subscription, ANCHOR),
                50.0,
                "tension index cached, as for every digest after the first",
            ),
        ]
        for key, label, call, limit, note in cases:
            times, cpu, result = await timed_with_cpu(call, runs)
            p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
            size = _size(result)
            if key.startswith("matching."):
                note = f"CPU p50 {percentile(cpu, 0.5):.1f} ms"
            log(f"  {key}: p50 {p50:.2f} ms, p99 {p99:.2f} ms ({size})")
            figures.append(
                Figure(key=f"storage.{key}.p50", label=f"4. {label}: p50", value=p50, unit="ms")
            )
            figures.append(
                Figure(
                    key=f"storage.{key}.p99",
                    label=f"4. {label}: p99",
                    value=p99,
                    unit="ms",
                    goal=f"< {limit:g} ms",
                    passed=at_most(p99, limit),
                    note="; ".join(filter(None, [size, note])),
                )
            )
        # What publishing pays for that audience: one INSERT … SELECT, rolled back each time.
        async with aiosqlite.connect(db_path, isolation_level=None) as conn:

            async def enqueue_and_roll_back() -> int:
                await conn.execute("BEGIN IMMEDIATE")
                try:
                    return await enqueue_alerts(
                        conn,
                        1,
                        MATCH_SITE,
                        MATCH_SEVERITIES[-1],
                        Direction.ON_COALITION,
                        ANCHOR,
                    )
                finally:
                    await conn.rollback()

            times, cpu, queued = await timed_with_cpu(enqueue_and_roll_back, max(20, runs // 2))
        p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
        cpu_p50 = percentile(cpu, 0.5)
        log(
            f"  enqueue: p50 {p50:.1f} ms, p99 {p99:.1f} ms, CPU p50 {cpu_p50:.1f} ms "
            f"({queued:,} rows)"
        )
        label = (
            f"4. Queueing the alerts of one attack at {MATCH_SITE.site} (severity "
            f"{MATCH_SEVERITIES[-1]}), matched on country, province, site, radius and direction"
        )
        note = (
            f"{queued:,} outbox rows in one INSERT … SELECT, under the write lock; "
            f"CPU p50 {cpu_p50:.1f} ms (with the roll-back)"
        )
        figures.append(
            Figure(key="storage.enqueue_alerts.p50", label=f"{label}: p50", value=p50, unit="ms")
        )
        figures.append(
            Figure(
                key="storage.enqueue_alerts.p99",
                label=f"{label}: p99",
                value=p99,
                unit="ms",
                goal="< 200 ms",
                passed=at_most(p99, 200.0),
                note=note,
            )
        )
        figures.append(
            Figure(
                key="storage.digest.cold",
                label="4. First digest of a cycle (computes the tension index)",
                value=cold_digest,
                unit="ms",
            )
        )
    return figures


def _search(reader: aiosqlite.Connection, text: str) -> Callable[[], Awaitable[SearchResults]]:
    return lambda: search_published(reader, text, limit=10)


def _matching(reader: aiosqlite.Connection, severity: int) -> Callable[[], Awaitable[list[int]]]:
    return lambda: matching_subscribers(reader, MATCH_SITE, severity)


def _size(result: object) -> str:
    if isinstance(result, list):
        return f"{len(result):,} rows"
    incidents = getattr(result, "incidents", None)
    if isinstance(incidents, list):
        total = getattr(result, "incident_total", None)
        if total is None:
            total = getattr(result, "total", len(incidents))
            if getattr(result, "exact", True) is False:
                return f"{len(incidents)} incidents shown of about {total:,}"
        return f"{len(incidents)} incidents shown of {total:,}"
    return ""
