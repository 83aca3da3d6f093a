"""Benchmark 5: the bot's peak memory during a digest cycle for every subscriber.

The bot runs in a child process (``python -m bench.memory --child ...``), so the
peak resident set size it reports (``VmHWM``) is the bot's alone. The real
application, assembled as for ``incident-bot run``, dispatches the digests of all
subscribers (``DigestService.dispatch_due``, what the periodic job calls); then it
starts, and its delivery engine sends them to the fake. Sending everything would
take longer than the whole suite may, so the send phase is cut after a set time
and the figures say how much went.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.botside import bench_application
from bench.common import ANCHOR, FIRST_SUBSCRIBER, Figure, Log, at_most, bot_settings
from bench.control import FakeServer
from bench.datasets import copy_database, discard
from bot.context import services_of
from bot.lifecycle import polling
from storage.outbox import depth


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """The peak resident set of this process's own memory (VmHWM, in KiB).

    Not getrusage's ru_maxrss: Linux carries it over exec, so a child started by the
    bench reported the bench's own peak (hundreds of MB after the fan-outs) as its own.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


async def child_cycle(
    db_path: Path, api_root: str, control: str, concurrency: int, send_cap: float
) -> dict[str, Any]:
    """Dispatch every due digest, then let the engine send for at most `send_cap` seconds.

    The dispatch runs before the engine starts, so that it is timed on its own; in
    production the engine would be sending the first digests meanwhile.
    """
    settings = bot_settings(db_path, api_root, concurrency=concurrency)
    app = bench_application(settings)
    services = services_of(app)
    async with FakeServer.attach(api_root, control) as fake:
        await services.db.open()  # the application's start-up finds it open
        rss_built = current_rss_mb()
        started = time.monotonic()
        report = await services.digests.dispatch_due()
        dispatch_seconds = time.monotonic() - started
        rss_dispatched = current_rss_mb()
        # A digest may come with a second message (its chart): wait for all of them.
        messages = await depth(services.db.reader)
        await fake.reset(keep_times=True)
        async with polling(app, poll_timeout=10):
            reached = await fake.expect(messages, timeout=send_cap, times=True)
            rss_sending = current_rss_mb()
    times = reached.times
    send_seconds = times[-1] - times[0] if len(times) > 1 else 0.0
    return {
        "rss_built_mb": rss_built,
        "rss_after_dispatch_mb": rss_dispatched,
        "rss_end_of_send_mb": rss_sending,
        "peak_rss_mb": peak_rss_mb(),
        "queued": report.queued,
        "messages": messages,
        "empty_skipped": report.empty_skipped,
        "late_skipped": report.late_skipped,
        "dispatch_seconds": dispatch_seconds,
        "sent": reached.bulk_sent,
        "send_seconds": send_seconds,
        "send_rate": (len(times) - 1) / send_seconds if send_seconds > 0 else 0.0,
        "complete": reached.reached,
        "rate_limited": reached.rate_limited,
    }


def make_all_due(db_path: Path) -> int:
    """Every active subscriber due now, their previous digest one period ago.

    Those with digests off get a daily one for this run, so that the cycle covers
    everyone. (The generator spreads due times over a day, minute by minute; a cycle
    in which all are due at once is the heaviest one.)
    """
    now = ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ")
    day = (ANCHOR - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    week = (ANCHOR - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        cursor = conn.execute(
            "UPDATE subscribers SET next_digest_at = :now, "
            "digest = CASE digest WHEN 'off' THEN 'daily' ELSE digest END, "
            "last_digest_at = CASE digest WHEN 'weekly' THEN :week ELSE :day END "
            "WHERE active = 1",
            {"now": now, "day": day, "week": week},
        )
        return cursor.rowcount
    finally:
        conn.close()


async def measure(
    fake: FakeServer,
    big: Path,
    work_dir: Path,
    *,
    subscribers: int,
    concurrency: int,
    send_cap: float,
    log: Log,
) -> list[Figure]:
    db_path = copy_database(big, work_dir / "digests.sqlite3")
    try:
        due = make_all_due(db_path)
        await fake.set_limits()
        await fake.add_users(FIRST_SUBSCRIBER, subscribers)
        command = [
            sys.executable, "-m", "bench.memory", "--child", str(db_path),
            "--api-root", fake.api_root, "--control", fake.control,
            "--concurrency", str(concurrency), "--send-cap", str(send_cap),
        ]  # fmt: skip
        done = await asyncio.to_thread(
            subprocess.run, command, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"the digest cycle process failed:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        discard(db_path)
    log(
        f"  {due:,} due, {result['queued']:,} digests ({result['messages']:,} messages) "
        f"dispatched in {result['dispatch_seconds']:.1f} s; {result['sent']:,} sent in "
        f"{result['send_seconds']:.1f} s; peak RSS {result['peak_rss_mb']:.0f} MB"
    )
    sent_note = f"{result['sent']:,} of {result['messages']:,} messages sent" + (
        "" if result["complete"] else f" (send phase cut at {send_cap:g} s)"
    )
    per_subscriber = result["dispatch_seconds"] / max(1, result["queued"]) * 1000
    return [
        Figure(
            key="memory.peak_rss",
            label=f"5. Peak RSS of the bot, digest cycle for {due:,} subscribers",
            value=result["peak_rss_mb"],
            unit="MB",
            goal="< 200 MB",
            passed=at_most(result["peak_rss_mb"], 200),
            note=f"{result['rss_built_mb']:.0f} MB before the cycle, "
            f"{result['rss_after_dispatch_mb']:.0f} MB after dispatch; {sent_note}",
            extra=result,
        ),
        Figure(
            key="memory.dispatch_seconds",
            label=f"5. Dispatching {result['queued']:,} digests into the outbox",
            value=result["dispatch_seconds"],
            unit="s",
            goal="< 60 s",
            passed=at_most(result["dispatch_seconds"], 60),
            note=f"{per_subscriber:.1f} ms a subscriber; {result['messages']:,} messages "
            f"with the charts; {result['empty_skipped']} empty skipped, "
            f"{result['late_skipped']} late",
        ),
        Figure(
            key="memory.send_rate",
            label="5. Sending the digests and charts",
            value=result["send_rate"],
            unit="msg/s",
            note=sent_note,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="One digest cycle of the bot (child process).")
    parser.add_argument("--child", type=Path, required=True, metavar="DB")
    parser.add_argument("--api-root", required=True)
    parser.add_argument("--control", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--send-cap", type=float, default=60)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="bot %(levelname)s %(name)s %(message)s")
    result = asyncio.run(
        child_cycle(args.child, args.api_root, args.control, args.concurrency, args.send_cap)
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
