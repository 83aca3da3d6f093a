"""kill -9 in the middle of an import and of a publication leaves a sound database with
all of the change or none of it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.sandbox.fake_api import FakeBotApi
from storage.db import Database
from tests.conftest import OWNER_ID
from tests.delivery_helpers import subscribe
from tests.test_e2e_admin import TOWER_FORM

ROWS = 20_000


def integrity(path: Path) -> tuple[str, int]:
    with sqlite3.connect(path) as conn:
        (check,) = conn.execute("PRAGMA integrity_check").fetchone()
        (incidents,) = conn.execute("SELECT count(*) FROM incidents").fetchone()
    return check, incidents


def environment(**extra: str) -> dict[str, str]:
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("INCIDENT_BOT_") and key != "TELEGRAM_BOT_TOKEN"
    }
    return {**kept, **extra}


async def test_kill_9_during_an_import_leaves_nothing_half_written(tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    with rows.open("w") as out:
        for n in range(ROWS):
            row = {
                "external_id": f"kill-{n}", "occurred_at": "2024-08-10T10:00:00Z",
                "title": f"Incident {n}", "event_type": "Battles", "country": "Iraq",
                "location": "Baghdad", "severity": 3, "sources": [{"name": "Example"}],
            }  # fmt: skip
            out.write(json.dumps(row) + "\n")
    database = tmp_path / "bot.sqlite3"
    async with Database(database):
        pass  # migrated before the import starts, so the kill lands in the import
    importer = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "import", str(rows),
        env=environment(INCIDENT_BOT_STORAGE__PATH=str(database)), cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    wal = database.with_name(database.name + "-wal")
    for _ in range(600):
        if wal.exists() and wal.stat().st_size > 64_000:
            break  # rows are being written
        await asyncio.sleep(0.02)
    importer.send_signal(signal.SIGKILL)
    assert await importer.wait() == -signal.SIGKILL, "the import ended before the kill"

    check, incidents = integrity(database)
    assert check == "ok"
    assert incidents == 0


async def test_kill_9_during_a_publication_keeps_it_whole_or_not_at_all(
    telegram: FakeBotApi, tmp_path: Path
) -> None:
    owner = telegram.add_user("Olivia", user_id=OWNER_ID)
    readers = [telegram.add_user(f"Reader {n}").id for n in range(2000)]
    database = tmp_path / "bot.sqlite3"
    async with Database(database) as db:
        await subscribe(db, readers, datetime.now(UTC))
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        env=environment(
            INCIDENT_BOT_TELEGRAM__TOKEN=telegram.token,
            INCIDENT_BOT_TELEGRAM__API_BASE_URL=telegram.api_root,
            INCIDENT_BOT_TELEGRAM__ADMINS=f"[{OWNER_ID}]",
            INCIDENT_BOT_STORAGE__PATH=str(database),
        ),
        cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        telegram.send_message(owner, TOWER_FORM)
        preview = await telegram.next_reply(OWNER_ID, timeout=30)
        telegram.press_button(owner, preview, "Publish")
        await telegram.wait_for_request("answerCallbackQuery", timeout=10)
    finally:
        bot.send_signal(signal.SIGKILL)
        await bot.wait()

    check, _ = integrity(database)
    assert check == "ok"
    with sqlite3.connect(database) as conn:
        (status,) = conn.execute("SELECT status FROM drafts").fetchone()
        published = conn.execute(
            "SELECT count(*) FROM incidents WHERE title = 'Drone strikes Tower 22 again'"
        ).fetchone()[0]
        alerts = conn.execute("SELECT count(*) FROM outbox WHERE kind = 'alert'").fetchone()[0]
        audited = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'publish'").fetchone()
    if status == "published":
        assert (published, alerts, audited[0]) == (1, len(readers), 1)
    else:
        assert (status, published, alerts, audited[0]) == ("open", 0, 0, 0)
