"""Escalation notices: "3rd attack on Ain al-Asad Air Base in 7 days".

When a published attack on US/coalition forces is the Nth (`escalation.attacks`) on one
site — named after it, or with coordinates within `escalation.radius_km` of it — inside
`escalation.window_days`, everyone following that site (by /subscribe or /watch), its
province or its country is sent one notice, in the transaction that publishes (or edits)
the attack. A site gets at most one notice per `escalation.cooldown_days`. Only attacks
on US/coalition forces count, and only published ones as they stand now: a retracted
attack, or one edited to another site, no longer counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import aiosqlite

from bot.config import EscalationSettings
from bot.models import Direction, IncidentContent, OutgoingMessage
from bot.places import Place, gazetteer
from bot.render.escalation import escalation_text
from bot.subscriptions.areas import alert_place, distance_km
from storage.escalations import (
    Notice,
    attacks_on_site,
    enqueue_notices,
    follower_zones,
    noticed_since,
    record_notice,
)
from storage.subscribers import SiteArea


class EscalationNotices:
    def __init__(self, settings: EscalationSettings, zone: tzinfo) -> None:
        self._settings = settings
        self._zone = zone

    async def check(
        self,
        conn: aiosqlite.Connection,
        incident_id: int,
        incident: IncidentContent,
        now: datetime,
    ) -> int:
        """Queue the notice this attack calls for, if any; return how many were queued."""
        s = self._settings
        if incident.direction is not Direction.ON_COALITION:
            return 0
        site = self.site_of(incident)
        if site is None:
            return 0
        area = SiteArea(site.name, site.latitude, site.longitude, s.radius_km, watched=False)
        until = incident.occurred_at
        attacks = await attacks_on_site(
            conn, area, site.spellings, until - timedelta(days=s.window_days), until
        )
        if len(attacks) < s.attacks or incident_id not in {a.incident_id for a in attacks}:
            return 0
        if await noticed_since(conn, site.name, until - timedelta(days=s.cooldown_days)):
            return 0
        line = escalation_text(
            site.name,
            number=len(attacks),
            window_days=s.window_days,
            previous=[a.occurred_at for a in attacks if a.incident_id != incident_id],
            incident_id=incident_id,
            zone=self._zone,
        )
        await record_notice(
            conn,
            site=area,
            country=site.country,
            admin1=site.admin1,
            incident_id=incident_id,
            attacks=attacks,
            window_days=s.window_days,
            line=line,
            now=now,
        )
        # Its dates in each follower's own time zone, like the rest of their alerts.
        said = [a.occurred_at for a in attacks if a.incident_id != incident_id]
        notice = Notice(site.name, len(attacks), s.window_days, said, incident_id, line)
        messages = {
            zone: OutgoingMessage(html=notice_text(notice, ZoneInfo(zone)))
            for zone in await follower_zones(conn, incident_id)
        }
        return await enqueue_notices(conn, incident_id, messages, now)

    def site_of(self, incident: IncidentContent) -> Place | None:
        """The site an attack was on: named by its location, or the nearest within the
        radius of its coordinates."""
        known = gazetteer()
        named = known.site(incident.location, incident.country)
        if named is not None:
            return named
        place = alert_place(incident)
        if place.latitude is None or place.longitude is None:
            return None
        latitude, longitude = place.latitude, place.longitude
        near = [
            (distance_km(latitude, longitude, site.latitude, site.longitude), site)
            for site in known.places
            if site.is_site
        ]
        within = [(km, site) for km, site in near if km <= self._settings.radius_km]
        return min(within, key=lambda pair: pair[0])[1] if within else None


def notice_text(notice: Notice, zone: tzinfo) -> str:
    """The notice's line with its dates in `zone`."""
    if notice.window_days is None:  # recorded before its facts were kept: as it was said
        return notice.line
    return escalation_text(
        notice.site,
        number=notice.number,
        window_days=notice.window_days,
        previous=notice.previous,
        incident_id=notice.incident_id,
        zone=zone,
    )
