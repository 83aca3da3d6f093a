"""The benchmark databases: built once by bench.generate, reused, and copied per run.

``big``: the million incidents and hundred thousand subscribers of the issue.
``broadcast-N``: the same incidents, with N subscribers who want every alert
from everywhere (the fan-out and latency benchmarks). Each is cached in the data
directory with a JSON note of how it was made; a run works on a copy, so the
cached files stay as built.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import generate
from bench.common import ANCHOR, FIRST_SUBSCRIBER
from storage.db import bundled_migrations

DEFAULT_DATA_DIR = Path(__file__).parent / ".data"


@dataclass(frozen=True)
class Built:
    path: Path
    seconds: float
    built_now: bool
    built_on: str  # ISO date-time of the build


def _generator_fingerprint() -> str:
    """The generator and the schema it builds: a change to either makes a new database."""
    digest = hashlib.sha256(Path(generate.__file__).read_bytes())
    for _, _, sql in bundled_migrations():
        digest.update(sql.encode())
    return digest.hexdigest()[:16]


def _note_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _read_note(path: Path) -> dict[str, object] | None:
    note = _note_path(path)
    if not path.exists() or not note.exists():
        return None
    try:
        data: dict[str, object] = json.loads(note.read_text())
    except ValueError:
        return None
    return data


def ensure_big(data_dir: Path, sizes: generate.Sizes, *, rebuild: bool) -> Built:
    """The generated database of these sizes: built now, or the cached one if still valid."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"big-{sizes.incidents}-{sizes.subscribers}.sqlite3"
    wanted = {
        "incidents": sizes.incidents,
        "subscribers": sizes.subscribers,
        "seed": generate.SEED,
        "generator": _generator_fingerprint(),
    }
    note = _read_note(path)
    if not rebuild and note is not None and all(note.get(k) == v for k, v in wanted.items()):
        return Built(path, float(str(note["seconds"])), False, str(note["built_on"]))
    seconds = generate.build(path, sizes)
    built_on = datetime.now(UTC).isoformat(timespec="seconds")
    _note_path(path).write_text(json.dumps({**wanted, "seconds": seconds, "built_on": built_on}))
    # Templates derived from an older build are stale now.
    for derived in data_dir.glob(f"broadcast-*-from-{path.stem}.sqlite3"):
        derived.unlink()
    return Built(path, seconds, True, built_on)


def broadcast_template(big: Path, subscribers: int) -> Path:
    """A copy of `big` whose subscribers are `subscribers` chats wanting every alert."""
    path = big.parent / f"broadcast-{subscribers}-from-{big.stem}.sqlite3"
    note = _read_note(path)
    source_mtime = big.stat().st_mtime
    if note is not None and note.get("source_mtime") == source_mtime:
        return path
    copy_database(big, path)
    stamp = ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ")
    conn = with_cascades(sqlite3.connect(path, isolation_level=None))
    try:
        conn.execute("BEGIN")
        conn.execute("DELETE FROM subscribers")
        conn.execute("DELETE FROM outbox")
        conn.executemany(
            "INSERT INTO subscribers (chat_id, chat_type, active, everywhere, regions, "
            "min_severity, digest, timezone, created_at, updated_at) "
            "VALUES (?, 'private', 1, 1, '[]', 1, 'off', 'Asia/Baghdad', ?, ?)",
            [(FIRST_SUBSCRIBER + n, stamp, stamp) for n in range(subscribers)],
        )
        conn.execute("COMMIT")
        conn.execute("ANALYZE subscribers")
    finally:
        conn.close()
    _note_path(path).write_text(json.dumps({"source_mtime": source_mtime}))
    return path


def keep_subscribers(db_path: Path, first: int, count: int) -> None:
    """Leave only the subscribers `first` .. `first + count - 1` of a copied database."""
    conn = with_cascades(sqlite3.connect(db_path, isolation_level=None))
    try:
        conn.execute("DELETE FROM subscribers WHERE chat_id >= ?", (first + count,))
    finally:
        conn.close()


def with_cascades(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Deleting a subscriber takes its places with it, as in the bot (storage/db.py): the
    place tables carry the subscriber's filters, and the matching reads only them."""
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def copy_database(source: Path, target: Path) -> Path:
    """A byte copy of a closed database (no WAL beside it), replacing any old one."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return target


def discard(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
