"""Reading troop figures for /troops."""

from __future__ import annotations

from bot.errors import UserError
from bot.models import TroopSummary
from bot.places import gazetteer, not_a_region_or_country
from bot.regions import REGIONS, region_named
from storage.db import Database
from storage.troops import latest_troop_summaries


class UnknownHost(UserError):
    """A host country /troops cannot read: the message says why and what would work."""


class TroopService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def summaries(self, host: str | None = None) -> list[TroopSummary]:
        """The newest figures, for every host, for the country `host` names, or for the
        countries of the region it names ("irak" has none to show: UnknownHost with a
        suggestion, unlike a quiet known country)."""
        if host is None:
            return await latest_troop_summaries(self._db.reader)
        if region := region_named(host):
            every = await latest_troop_summaries(self._db.reader)
            return [s for s in every if s.latest.host_country in REGIONS[region]]
        country = gazetteer().country(host)
        found = await latest_troop_summaries(self._db.reader, country.name if country else host)
        if not found and country is None:
            # A figure may name a host the gazetteer lacks; only a name that matches
            # neither a figure nor a country is unknown.
            raise UnknownHost(not_a_region_or_country(host))
        return found
