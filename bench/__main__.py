"""Run every benchmark: ``python -m bench`` (``make bench``), or ``--quick`` for a smoke run.

Prints the table, writes bench/results.json and, for a full run, bench/RESULTS.md.
See the README, section "Benchmarks", for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import datasets, fanout, latency, memory, report, storage_bench, telegram_limits
from bench.common import Backend, Figure, Log, at_most
from bench.control import FakeServer
from bench.generate import Sizes

BENCH_DIR = Path(__file__).parent
STEPS = ("storage", "fanout", "limited", "latency", "memory", "telegram", "profile")


@dataclass(frozen=True)
class Plan:
    incidents: int
    subscribers: int
    broadcast: int  # benchmark 1 and 3: subscribers of the fan-out
    # Benchmark 2: (limit in msg/s, subscribers, goal as a share of the limit) for each run.
    limited: tuple[tuple[float, int, float], ...]
    telegram_subscribers: int  # benchmark 6
    concurrencies: tuple[int, ...]
    rounds: int
    latency_rounds: int
    storage_runs: int
    digest_send_cap: float


FULL = Plan(
    incidents=1_000_000,
    subscribers=100_000,
    broadcast=5_000,
    limited=((1000, 5_000, 0.95), (30, 600, 0.9)),
    telegram_subscribers=2_000,
    concurrencies=(16, 64, 128),
    rounds=1,
    latency_rounds=200,
    storage_runs=100,
    digest_send_cap=60,
)
QUICK = Plan(
    incidents=50_000,
    subscribers=5_000,
    broadcast=1_000,
    limited=((1000, 1_000, 0.95), (30, 150, 0.9)),
    telegram_subscribers=300,
    concurrencies=(16, 64),
    rounds=1,
    latency_rounds=30,
    storage_runs=20,
    digest_send_cap=60,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Run the incident-bot benchmarks."
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--only", nargs="+", choices=STEPS, metavar="STEP", help=f"run only these: {STEPS}"
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="build the database even if a cached one fits"
    )
    parser.add_argument("--data-dir", type=Path, default=datasets.DEFAULT_DATA_DIR)
    parser.add_argument(
        "--results",
        type=Path,
        help="where to write the JSON (default: bench/results.json for a full run of "
        "everything, else results-partial.json in the data directory)",
    )
    parser.add_argument(
        "--write-results-md",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write bench/RESULTS.md (default: on for a full run of everything)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser.parse_args()


async def run(args: argparse.Namespace, plan: Plan, log: Log) -> list[Figure]:
    steps = set(args.only or STEPS)
    data_dir: Path = args.data_dir
    work_dir = data_dir / "work"
    work_dir.mkdir(parents=True, exist_ok=True)
    figures: list[Figure] = []

    log(f"Database: {plan.incidents:,} incidents, {plan.subscribers:,} subscribers")
    # In a thread: the generator runs the migrations with asyncio.run() of its own.
    built = await asyncio.to_thread(
        datasets.ensure_big, data_dir, Sizes(plan.incidents, plan.subscribers), rebuild=args.rebuild
    )
    log(
        f"  {'built' if built.built_now else 'cached'}: {built.path.name} "
        f"({built.seconds:.1f} s to build)"
    )
    figures.append(
        Figure(
            key="data.build_seconds",
            label=f"0. Building {plan.incidents:,} incidents + {plan.subscribers:,} subscribers",
            value=built.seconds,
            unit="s",
            goal="< 60 s",
            passed=at_most(built.seconds, 60),
            note="this run" if built.built_now else f"cached build of {built.built_on}",
        )
    )

    if "storage" in steps:
        log("4. Storage queries")
        db_path = datasets.copy_database(built.path, work_dir / "storage.sqlite3")
        try:
            figures += await storage_bench.measure(db_path, runs=plan.storage_runs, log=log)
        finally:
            datasets.discard(db_path)

    needs_broadcast = steps & {"fanout", "limited", "latency", "telegram", "profile"}
    template = datasets.broadcast_template(built.path, plan.broadcast) if needs_broadcast else None
    best: dict[Backend, int] = {"aiohttp": 64, "httpx": 64}
    async with FakeServer() as fake:
        log(f"Fake Bot API: pid {fake.pid} at {fake.api_root}")
        if "fanout" in steps:
            assert template is not None
            log(f"1. Fan-out to {plan.broadcast:,}, no rate limit")
            found, chosen = await fanout.unlimited(
                fake, template, work_dir,
                subscribers=plan.broadcast, concurrencies=list(plan.concurrencies),
                rounds=plan.rounds, log=log,
            )  # fmt: skip
            figures += found
            best.update(chosen)
        if "limited" in steps:
            assert template is not None
            for limit, subscribers, goal in plan.limited:
                log(f"2. Fan-out to {subscribers:,} at {limit:g} msg/s")
                figures += await fanout.limited(
                    fake, template, work_dir,
                    subscribers=subscribers, limit=limit, goal=goal,
                    concurrency=best["aiohttp"], log=log,
                )  # fmt: skip
        if "latency" in steps:
            assert template is not None
            log("3. Command latency, idle and during a fan-out")
            figures += await latency.measure(
                fake, template, work_dir,
                subscribers=plan.broadcast, incidents=plan.incidents,
                concurrency=best["aiohttp"], rounds=plan.latency_rounds, log=log,
            )  # fmt: skip
        if "telegram" in steps:
            assert template is not None
            log(f"6. Fan-out to {plan.telegram_subscribers:,} under Telegram's limits")
            figures += await telegram_limits.measure(
                fake, template, work_dir,
                subscribers=plan.telegram_subscribers, concurrency=best["aiohttp"], log=log,
            )  # fmt: skip
        if "profile" in steps:
            assert template is not None
            log(f"7. Fan-out to {plan.broadcast:,} under cProfile")
            figures += await fanout.profiled(
                fake, template, work_dir,
                subscribers=plan.broadcast, concurrency=best["aiohttp"], log=log,
            )  # fmt: skip
        if "memory" in steps:
            log(f"5. Digest cycle for {plan.subscribers:,} subscribers (bot in a child process)")
            figures += await memory.measure(
                fake, built.path, work_dir,
                subscribers=plan.subscribers, concurrency=best["aiohttp"],
                send_cap=plan.digest_send_cap, log=log,
            )  # fmt: skip
    shutil.rmtree(work_dir, ignore_errors=True)
    return sorted(figures, key=lambda f: f.label[:2])


def main() -> None:
    args = parse_args()
    plan = QUICK if args.quick else FULL
    complete = not args.quick and not args.only
    results_path: Path = args.results or (
        BENCH_DIR / "results.json" if complete else args.data_dir / "results-partial.json"
    )
    write_md = complete if args.write_results_md is None else args.write_results_md
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    log = Log(quiet=args.quiet)

    machine = report.machine_info()
    started, clock = datetime.now(UTC), time.monotonic()
    figures = asyncio.run(run(args, plan, log))
    document = report.results_document(
        figures,
        machine,
        {**asdict(plan), "quick": args.quick, "steps": args.only or list(STEPS)},
        started,
        time.monotonic() - clock,
    )
    print()
    print(report.table(figures))
    results_path.parent.mkdir(parents=True, exist_ok=True)
    report.write_json(results_path, document)
    print(f"\nwrote {results_path}")
    if write_md:
        markdown = BENCH_DIR / "RESULTS.md"
        markdown.write_text(report.results_markdown(document), encoding="utf-8")
        print(f"wrote {markdown}")


if __name__ == "__main__":
    main()
