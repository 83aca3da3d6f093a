"""Benchmark 6: a broadcast under Telegram's real limits, with a person asking meanwhile.

The fake enforces 30 messages in any second overall and one in any second per private
chat, as sliding windows, and pauses the whole bot on exceeding the overall limit, as
Telegram does. The bot is configured with the same limits. While it alerts every
subscriber, another user sends /latest every few seconds (a person's pace, within what
flood control and their own chat allow), from the fake's side.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

from bench.botside import alert_everyone_after_start_up, drained, running_bot
from bench.common import (
    FIRST_SUBSCRIBER,
    PROBE_USER,
    Figure,
    Log,
    at_most,
    bot_settings,
    no_429_figure,
    percentile,
    rate_ratio_figure,
)
from bench.control import FakeServer
from bench.datasets import copy_database, discard, keep_subscribers

GLOBAL_PER_SECOND = 30.0
PER_CHAT_PER_SECOND = 1.0
# Between one /latest and the next: a person's pace, well within flood control's.
PROBE_GAP_SECONDS = 2.5


async def measure(
    fake: FakeServer,
    template: Path,
    work_dir: Path,
    *,
    subscribers: int,
    concurrency: int,
    log: Log,
) -> list[Figure]:
    db_path = copy_database(template, work_dir / "telegram-limits.sqlite3")
    latencies: list[float] = []
    failures: list[str] = []
    try:
        keep_subscribers(db_path, FIRST_SUBSCRIBER, subscribers)
        await fake.add_users(FIRST_SUBSCRIBER, subscribers)
        await fake.add_user_ids([PROBE_USER])
        await fake.set_limits(
            global_per_second=GLOBAL_PER_SECOND, per_private_chat_per_second=PER_CHAT_PER_SECOND
        )
        settings = bot_settings(
            db_path, fake.api_root, concurrency=concurrency,
            global_per_second=GLOBAL_PER_SECOND, private_per_second=PER_CHAT_PER_SECOND,
        )  # fmt: skip
        async with running_bot(settings) as app:
            queued, started = await alert_everyone_after_start_up(app, fake, subscribers)
            done = asyncio.Event()

            async def ask_meanwhile() -> None:
                while not done.is_set():
                    values, failed = await fake.probe(PROBE_USER, ["/latest"], timeout=10)
                    latencies.extend(values)
                    failures.extend(failed)
                    await asyncio.sleep(PROBE_GAP_SECONDS)

            asker = asyncio.create_task(ask_meanwhile())
            reached = await fake.expect(
                queued, timeout=3 * subscribers / GLOBAL_PER_SECOND + 30, times=True
            )
            done.set()
            await asker
            await drained(app)
    finally:
        await fake.set_limits()
        discard(db_path)
    seconds, achieved = reached.pace(started, queued, "fan-out under Telegram's limits")
    answered = [value for value in latencies if not math.isnan(value)]
    p99 = percentile(answered, 0.99) if answered else math.nan
    log(
        f"  {achieved:,.1f} msg/s over {seconds:.1f} s, 429s {reached.rate_limited}, "
        f"/latest p99 {p99:,.0f} ms over {len(latencies)} asks"
    )
    limit = f"{GLOBAL_PER_SECOND:g}/s overall and {PER_CHAT_PER_SECOND:g}/s per chat"
    return [
        rate_ratio_figure(
            "telegram_limits.ratio",
            f"6. Fan-out {subscribers:,} at {limit}: achieved / limit",
            achieved=achieved,
            limit=GLOBAL_PER_SECOND,
            goal=0.9,
            seconds=seconds,
        ),
        no_429_figure(
            "telegram_limits.rate_limited",
            "6. Fan-out under Telegram's limits: 429s sent by the fake",
            reached.rate_limited,
        ),
        Figure(
            key="telegram_limits.latest.p99",
            label="6. /latest from another user during that fan-out: p99",
            value=p99,
            unit="ms",
            goal="< 2000 ms",
            passed=at_most(p99, 2000) and not failures,
            note=f"{len(answered)} of {len(latencies)} answered, one every {PROBE_GAP_SECONDS:g} s",
            extra={"failures": failures[:5]},
        ),
    ]
