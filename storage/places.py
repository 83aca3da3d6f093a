"""Stored places in the gazetteer's spelling.

Incidents stored before the gazetteer knew a spelling keep it ("Al Anbar", "Ain al Asad
Airbase"), and `/latest Anbar` would miss them. Whenever the database is opened with a
gazetteer it has not been spelled by (`db upgrade`, the bot's start), every stored
country, admin1 and location the gazetteer knows is re-spelled to its names, in one
transaction; names it does not know are left as they are. The full-text index follows
through its update trigger.
"""

from __future__ import annotations

import logging

import aiosqlite

from bot.places import gazetteer_fingerprint, respell

log = logging.getLogger(__name__)


async def _spelled_by(conn: aiosqlite.Connection) -> str | None:
    """The fingerprint of the gazetteer the stored places are spelled by, if any."""
    async with conn.execute("SELECT fingerprint FROM gazetteer_applied") as cursor:
        row = await cursor.fetchone()
    return str(row[0]) if row else None


async def places_need_respelling(conn: aiosqlite.Connection) -> bool:
    return await _spelled_by(conn) != gazetteer_fingerprint()


async def respell_stored_places(conn: aiosqlite.Connection) -> int:
    """Re-spell the incidents' places to the bundled gazetteer within the caller's
    transaction, unless already done for it; return how many incidents changed."""
    if not await places_need_respelling(conn):
        return 0
    fingerprint = gazetteer_fingerprint()
    async with conn.execute("SELECT DISTINCT country, admin1, location FROM incidents") as cursor:
        stored = [(row[0], row[1], row[2]) for row in await cursor.fetchall()]
    changed = 0
    for place in stored:
        spelled = respell(*place)
        if spelled != place:
            cursor = await conn.execute(
                "UPDATE incidents SET country = ?, admin1 = ?, location = ? "
                "WHERE country = ? AND admin1 = ? AND location = ?",
                (*spelled, *place),
            )
            changed += cursor.rowcount
    await conn.execute(
        "INSERT INTO gazetteer_applied (id, fingerprint) VALUES (1, ?) "
        "ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint",
        (fingerprint,),
    )
    if changed:
        log.info("re-spelled the places of %d incidents to the gazetteer's names", changed)
    return changed
