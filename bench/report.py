"""The table, bench/results.json and bench/RESULTS.md."""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.common import Figure

PACKAGES = ("python-telegram-bot", "aiohttp", "httpx", "aiosqlite", "pydantic")


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb: float | None = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    versions["sqlite"] = sqlite3.sqlite_version
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": versions,
        "commit": _commit(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).parent,
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def format_value(figure: Figure) -> str:
    value, unit = figure.value, figure.unit
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    match unit:
        case "msg/s":
            text = f"{value:,.0f} msg/s"
        case "ratio":
            text = f"{value:.2f}"
            if figure.ceiling is not None:
                text += f" of {figure.ceiling:,.0f}"
        case "ms":
            text = f"{value:.1f} ms" if value >= 10 else f"{value:.2f} ms"
        case "MB":
            text = f"{value:,.0f} MB"
        case "s":
            text = f"{value:.1f} s"
        case "count":
            text = f"{value:,.0f}"
        case _:
            text = f"{value:g} {unit}"
    return text


def verdict(figure: Figure) -> str:
    if figure.passed is None:
        return ""
    return "pass" if figure.passed else "MISS"


def table(figures: list[Figure]) -> str:
    rows = [("Figure", "Value", "Goal", "Result", "Note")]
    rows += [
        (f.label, format_value(f), f.goal, verdict(f), f.note)
        for f in figures
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[i].ljust(widths[i]) if i == 0 else row[i].rjust(widths[i]) for i in range(4)]
        lines.append("  ".join(cells) + ("  " + row[4] if row[4] else ""))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(figures: list[Figure]) -> str:
    lines = ["| Figure | Value | Goal | Result | Note |", "| --- | ---: | ---: | :---: | --- |"]
    for f in figures:
        result = {"pass": "pass", "MISS": "**MISS**", "": ""}[verdict(f)]
        cells = [f.label, format_value(f), f.goal, result, f.note]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def results_document(
    figures: list[Figure],
    machine: dict[str, Any],
    parameters: dict[str, Any],
    started: datetime,
    seconds: float,
) -> dict[str, Any]:
    goals = [f for f in figures if f.passed is not None]
    return {
        "date": started.isoformat(timespec="seconds"),
        "duration_seconds": round(seconds, 1),
        "command": "python -m bench " + " ".join(sys.argv[1:]),
        "machine": {**machine, "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "parameters": parameters,
        "summary": {
            "goals": len(goals),
            "passed": sum(1 for f in goals if f.passed),
            "missed": [f.label for f in goals if not f.passed],
        },
        "figures": [f.as_json() for f in figures],
    }


def results_markdown(document: dict[str, Any]) -> str:
    figures = [Figure(**f) for f in document["figures"]]
    machine = document["machine"]
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    summary = document["summary"]
    date = datetime.fromisoformat(document["date"]).astimezone(UTC)
    missed = summary["missed"]
    parameters = document["parameters"]
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m bench` (`make bench`) from `bench/results.json`; run it again to",
        "refresh both. How each figure is measured is described in the README, section",
        '"Benchmarks".',
        "",
        f"- Date: {date:%Y-%m-%d %H:%M} UTC, {document['duration_seconds']:.0f} s in all",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores "
        f"({machine['usable_cores']} usable), {machine['memory_gb']} GB RAM",
        f"- {machine['implementation']} {machine['python']} on {machine['platform']}",
        f"- {packages}",
        f"- Commit: {machine['commit'] or 'unknown'}",
        f"- Load average at start {machine['load_average_at_start']}, at end "
        f"{machine['load_average_at_end']} (other work on the machine shows here)",
        f"- Data: {parameters['incidents']:,} incidents, {parameters['subscribers']:,} "
        f"subscribers; fan-out to {parameters['broadcast']:,}; limited fan-outs: "
        + ", ".join(f"{count:,} at {limit:g} msg/s" for limit, count, _ in parameters["limited"]),
        "",
        f"Goals met: {summary['passed']} of {summary['goals']}.",
        "",
        markdown_table(figures),
        "",
    ]
    if missed:
        lines += ["Missed, and what limits each:", ""]
        for figure in figures:
            if figure.passed is False:
                lines.append(f"- {figure.label}: {_limits(figure.key)}")
        lines.append("")
    lines += _profiles(figures)
    lines += BEFORE
    lines += [
        "How to read it:",
        "",
        "- The fake Bot API runs in a process of its own and is as strict as in the tests; it",
        "  parses each distinct message text once, so that its pure-Python HTML parser is not",
        "  what the fan-out figures measure.",
        "- Fan-out rates run from the alerts' enqueue (for the ceiling: the loop's start) to the",
        "  moment the fake stored the last message, on the machine's monotonic clock.",
        "- Command latency is measured in the fake, from queueing the update (the bot is",
        "  long-polling) to receiving the reply.",
        "- The digest cycle dispatches every digest before the engine starts, then sends for a",
        "  bounded time; the peak RSS covers the whole process.",
        "- One run on a shared machine: the load averages above say how much else ran.",
        "",
    ]
    return "\n".join(lines)


# What limits a figure when it misses its goal, and what would move it (from the profile
# of benchmark 6 and from how each is measured), by the start of its key.
LIMITS = {
    "data.build": (
        "about 30 s of CPU, all but a few seconds of it SQLite: inserting the million "
        "incidents (half), filling the full-text index with its prefix indexes, making the "
        "indexes again after the load; the wall time beyond that is the share of the 2 "
        "cores other work takes (the load averages above); it is cached in bench/.data and "
        "redone only when the generator or the schema changes"
    ),
    "fanout.aiohttp.rate": (
        "the engine, the fake Bot API and the other work on the machine share 2 cores; the "
        "profile below is flat (aiohttp's client, JSON, the rate limiter, the event loop), "
        "so more would come from a machine with more cores or from running the bot with "
        "the fake and the database on other cores, not from one hot spot"
    ),
    "fanout.aiohttp.ratio": (
        "the engine does what the bare loop does plus claiming and recording each row; "
        "see the profile below for the share of each"
    ),
    "fanout.aiogram.ratio": (
        "as for the PTB ratio: the claim and the batched records are the engine's own "
        "cost; the HTTP and JSON work is the same as aiogram's"
    ),
    "fanout.httpx.ratio": (
        "httpx itself: a send costs several times the CPU it costs on aiohttp (the CPU "
        "per message beside the rates), so on httpx the engine and the bare loop both "
        "wait on httpx, and a small difference in scheduling moves the ratio; aiohttp is "
        "the default backend for that reason"
    ),
    "limited": (
        "the rate limiter's pacing (issue #12 owns it): a bucket that starts empty or a "
        "margin below the limit lowers the whole-run average; the steady rate beside it "
        "shows the pace after the first second"
    ),
    "latency": (
        "replies share the CPU with the broadcast; the engine's workers and the fake "
        "compete with the command handler on 2 cores"
    ),
    "storage.search": (
        "the index is read newest first and stops after the first 200 matches; a word "
        "longer than the prefix indexes (3 to 6 letters) is first looked up in the search "
        "vocabulary (one B-tree seek for all words); the rest is five trips to the "
        "database's thread (the terms, the keys, the rows, their sources, the time span "
        "for the estimate), about 0.1 ms each; on a loaded machine the p99 is mostly "
        "waiting for a core"
    ),
    "storage.digest": (
        "the period's incidents are counted and the newest listed through the "
        "created_at index; the p50 is well inside the goal, and the p99 follows the "
        "machine's other load"
    ),
    "storage.enqueue_alerts": (
        "the INSERT … SELECT writes 40,000 outbox rows, each into the table and four "
        "indexes (the dedupe key, due, by incident, by chat); fewer outbox indexes, or "
        "one alert row per incident with its recipients apart, would move it"
    ),
    "storage.match": (
        "reading 40,000 chat ids through aiosqlite costs a thread hop per fetch batch "
        "and a Python object per row; matching inside the INSERT…SELECT (which the "
        "engine uses) avoids it"
    ),
    "memory.peak_rss": (
        "about 70 MB is the bot's code once imported, and matplotlib and numpy add about "
        "40 MB when the cycle draws its first chart; the cycle adds the tension index's window "
        "of incidents (about 23 MB for 70,000) and the charts being drawn (each collected "
        "once drawn), then aiohttp's and SQLite's buffers while sending; drawing the "
        "charts in a child process would take matplotlib out of the bot's own memory"
    ),
    "memory.dispatch": (
        "each batch of 500 subscribers is read as models and its digests composed; most "
        "of the time is SQLite executing the batch's statements on its thread (the "
        "outbox's five indexes per row); fewer indexes on the outbox would move it"
    ),
}


def _limits(key: str) -> str:
    for start, text in LIMITS.items():
        if key.startswith(start):
            return text
    return "not analysed yet: run `python -m bench --only` for its step with a profiler"


def _profiles(figures: list[Figure]) -> list[str]:
    lines: list[str] = []
    for figure in figures:
        top = figure.extra.get("top")
        if not top:
            continue
        lines += [
            f"Where the time goes — {figure.label} (this run; own time of each function,",
            "time waiting in epoll left out; share, per message, calls):",
            "",
            "```text",
            *top,
            "```",
            "",
        ]
    return lines


BEFORE = [
    "Before the engine worked per rendering (commit 0e21e4e, bench of 2026-11-25): the",
    "engine sent 479 msg/s where the bare PTB loop on aiohttp sent 2,447 (0.20×; on httpx",
    "0.49×), and spent about 1.8 ms of CPU a message where the loop spent 0.4. Its profile",
    "named the cost: per message, the subscription and the incident with its sources read",
    "and parsed again, the alert rendered again and parsed into pydantic models, PTB's",
    "`send_message` building a `Message` from each answer, and each send settled in its",
    "own transaction. Now a claim reads what the sends need as plain tuples, an alert is",
    "rendered once per incident version and time zone, the prepared parameters are posted",
    "through the bot's limiter and backend (reading only the message id), outcomes are",
    "recorded one transaction per batch, and the aiohttp backend quotes each distinct",
    "text once.",
    "",
]
