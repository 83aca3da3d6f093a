"""The bundled sample data set, written from public reporting."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from bot.clock import Clock
from bot.models import IncidentContent, TroopFigureContent
from bot.places import respell
from storage.db import Database
from storage.incidents import insert_incident
from storage.sample import RemovedSample, SampleRows, count_sample, delete_sample, mark_sample
from storage.troops import insert_troop_figure


@dataclass(frozen=True)
class SampleLoadResult:
    incidents_added: int
    incidents_total: int
    figures_added: int
    figures_total: int


def read_sample() -> tuple[list[IncidentContent], list[TroopFigureContent]]:
    """The sample set, its places in the gazetteer's names (as stored places are kept)."""
    raw = json.loads(resources.files("bot.data").joinpath("sample.json").read_text("utf-8"))
    incidents = [_respelled(IncidentContent.model_validate(item)) for item in raw["incidents"]]
    figures = [TroopFigureContent.model_validate(item) for item in raw["troop_figures"]]
    return incidents, figures


def _respelled(incident: IncidentContent) -> IncidentContent:
    country, admin1, location = respell(incident.country, incident.admin1, incident.location)
    return incident.model_copy(update={"country": country, "admin1": admin1, "location": location})


async def load_sample(db: Database, clock: Clock) -> SampleLoadResult:
    """Add whatever of the sample set is not stored yet; loading twice adds nothing."""
    incidents, figures = read_sample()
    now = clock.now()
    async with db.transaction() as conn:
        incidents_added = [await insert_incident(conn, draft, now) for draft in incidents]
        figures_added = [await insert_troop_figure(conn, draft, now) for draft in figures]
        # Only the figures added now: the same force, host and date may hold a real one.
        await mark_sample(
            conn,
            [draft.external_id for draft in incidents if draft.external_id],
            [figure_id for figure_id in figures_added if figure_id is not None],
        )
    return SampleLoadResult(
        incidents_added=sum(added is not None for added in incidents_added),
        incidents_total=len(incidents),
        figures_added=sum(added is not None for added in figures_added),
        figures_total=len(figures),
    )


async def sample_rows(db: Database) -> SampleRows:
    return await count_sample(db.reader)


async def remove_sample(db: Database) -> RemovedSample:
    """Delete the sample data and the messages about it, all in one transaction."""
    async with db.transaction() as conn:
        return await delete_sample(conn)
