"""Reading incidents: what /latest, /incident and /search ask of storage."""

from __future__ import annotations

from bot.models import Direction, Incident, IncidentPage, IncidentVersion, SearchResults
from bot.places import PlaceQuery
from bot.subscriptions.areas import place_filter
from storage.db import Database
from storage.incidents import (
    EVERYWHERE,
    get_incident,
    latest_published,
    search_published,
    versions_of,
)

DEFAULT_LATEST = 5
MAX_LATEST = 20
SEARCH_LIMIT = 10


class IncidentService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def latest(
        self,
        count: int,
        place: PlaceQuery | None = None,
        direction: Direction | None = None,
        older_than: int | None = None,
    ) -> IncidentPage:
        """The newest published incidents; `place` a region, country, province or site."""
        return await latest_published(
            self._db.reader,
            limit=count,
            places=place_filter(place) if place else EVERYWHERE,
            direction=direction,
            older_than=older_than,
        )

    async def get(self, incident_id: int) -> Incident | None:
        return await get_incident(self._db.reader, incident_id)

    async def versions(self, incident_id: int) -> list[IncidentVersion]:
        """Every change to the incident, oldest first."""
        return await versions_of(self._db.reader, incident_id)

    async def search(self, text: str, place: PlaceQuery | None = None) -> SearchResults:
        """Incidents matching every word of `text`, in `place` when given."""
        return await search_published(
            self._db.reader,
            text,
            limit=SEARCH_LIMIT,
            places=place_filter(place) if place else EVERYWHERE,
        )
