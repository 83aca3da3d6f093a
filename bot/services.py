"""Everything a handler may call, assembled once per application."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import Settings
from bot.flood import FloodGuard, OncePerWindow
from bot.intake.service import Intake
from bot.monitoring import Metrics, MonitoringServer
from bot.newsroom.admins import AdminService
from bot.newsroom.changes import Newsroom
from bot.record.counts import CountService
from bot.record.incidents import IncidentService
from bot.record.troops import TroopService
from bot.subscriptions.digests import DigestService
from bot.subscriptions.escalation import EscalationNotices
from bot.subscriptions.service import SubscriptionService
from bot.tension.chart_store import TensionCharts
from bot.tension.index import TensionIndex
from storage.db import Database


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    clock: Clock
    incidents: IncidentService
    counts: CountService
    troops: TroopService
    admins: AdminService
    newsroom: Newsroom
    subscriptions: SubscriptionService
    digests: DigestService
    tension: TensionIndex
    tension_charts: TensionCharts
    metrics: Metrics
    monitoring: MonitoringServer
    intake: Intake
    flood: FloodGuard

    @classmethod
    def create(cls, settings: Settings, clock: Clock) -> Services:
        db = Database(settings.storage.path)
        metrics = Metrics(clock)
        tension = TensionIndex(db, clock, settings.tension)
        charts = TensionCharts(db, clock, tension)
        admins = AdminService(
            db, clock, settings.telegram.admins, OncePerWindow(settings.flood.refusal_audit_seconds)
        )
        newsroom = Newsroom(
            db,
            clock,
            settings.bot.tzinfo,
            settings.newsroom.approvals_required,
            escalation=EscalationNotices(settings.escalation, settings.bot.tzinfo),
            admins=admins,
        )
        return cls(
            settings=settings,
            db=db,
            clock=clock,
            incidents=IncidentService(db),
            counts=CountService(db, clock),
            troops=TroopService(db),
            admins=admins,
            newsroom=newsroom,
            subscriptions=SubscriptionService(db, clock, settings.bot.timezone),
            digests=DigestService(
                db, clock, settings.delivery, tension, charts, settings.bot.timezone
            ),
            tension=tension,
            tension_charts=charts,
            metrics=metrics,
            monitoring=MonitoringServer(metrics, db, settings.monitoring),
            intake=Intake(db, clock, settings.intake, settings.bot.tzinfo, newsroom, metrics),
            flood=FloodGuard(settings.flood),
        )

    @property
    def timezone(self) -> ZoneInfo:
        return self.settings.bot.tzinfo
