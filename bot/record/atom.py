"""The Atom feed of the record: the incidents changed most recently, rendered for readers."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TextIO

from bot.config import AtomFeedSettings, Settings
from bot.render.atom import atom_feed
from storage.db import Database
from storage.incidents import recently_changed


async def atom_of_record(
    db: Database,
    settings: AtomFeedSettings,
    *,
    self_url: str | None,
    now: datetime,
    zone: tzinfo,
) -> bytes:
    incidents = await recently_changed(db.reader, limit=settings.entries)
    return atom_feed(incidents, title=settings.title, self_url=self_url, now=now, zone=zone)


ATOM_PATH = "/feed.atom"


def public_atom_url(settings: Settings) -> str | None:
    """Where the webhook server serves the feed to the world, when that is known."""
    if settings.webhook.public_url is None:
        return None
    return str(settings.webhook.public_url).rstrip("/") + ATOM_PATH


async def write_atom(db: Database, settings: Settings, out: TextIO, now: datetime) -> int:
    """`incident-bot export --format atom`: the same feed as GET /feed.atom; how many entries."""
    incidents = await recently_changed(db.reader, limit=settings.atom_feed.entries)
    body = atom_feed(
        incidents,
        title=settings.atom_feed.title,
        self_url=public_atom_url(settings),
        now=now,
        zone=settings.bot.tzinfo,
    )
    out.write(body.decode("utf-8"))
    return len(incidents)
