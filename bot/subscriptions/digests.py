"""Digests: who is due, what their digest says, and putting it in the outbox.

The scheduler only wakes `dispatch_due`; the database decides who is due
(`next_digest_at`) and what was sent (the outbox's dedupe key per subscriber and
slot), so a restart neither repeats nor loses a digest. A digest late by more
than the grace period is not sent but recorded as skipped, and the next one
covers its period, so nothing disappears silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.clock import Clock
from bot.config import DeliverySettings
from bot.models import DigestFrequency, OutboxKind, OutboxStatus, OutgoingMessage, Subscription
from bot.render.digest import DigestContent, digest_text, with_zone_notice
from bot.render.incidents import esc
from bot.subscriptions.areas import (
    countries_covered,
    coverage,
    covered_filter,
    tension_places,
)
from bot.subscriptions.schedule import next_digest_time
from bot.tension.chart_store import TensionCharts
from bot.tension.index import TensionIndex
from storage import outbox
from storage.db import Database
from storage.incidents import published_between
from storage.subscribers import (
    due_for_digest,
    get_subscription,
    set_digest_times,
    set_many_digest_times,
)
from storage.troops import figures_added_between

log = logging.getLogger(__name__)

BATCH = 500
# Renderings kept for the subscribers still to come; a full cache starts afresh.
RENDERINGS_KEPT = 256
LISTED_INCIDENTS = 10
CHART_DAYS = 30
DIGEST_NOW_GAP = timedelta(minutes=10)


class DigestNow(Enum):
    SENT = "sent"
    NOT_SUBSCRIBED = "not subscribed"
    TOO_SOON = "too soon"
    NO_PLACES = "no places"


@dataclass
class DispatchReport:
    queued: int = 0
    empty_skipped: int = 0
    late_skipped: int = 0


@dataclass(frozen=True)
class _Outcome:
    """What dispatching one subscriber writes: the outbox row and the new digest times."""

    chat_id: int
    key: str
    payload: str  # the digest as OutgoingMessage JSON, shared with its other recipients
    note: str | None  # why it is not sent, if it is not
    last: datetime | None
    next: datetime | None
    chart: str | None = None  # the tension chart that follows the digest, as JSON


@dataclass(frozen=True)
class _Rendered:
    content: DigestContent
    payload: str
    chart: str | None


_NOTHING = OutgoingMessage(html="").model_dump_json()


class DigestService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: DeliverySettings,
        tension: TensionIndex,
        charts: TensionCharts,
        default_timezone: str,
    ) -> None:
        self._db = db
        self._clock = clock
        self._default_timezone = default_timezone
        self._tension = tension
        self._charts = charts
        self._grace = timedelta(hours=settings.digest_grace_hours)

    async def dispatch_due(self) -> DispatchReport:
        """Queue the digest of everyone due now; safe to run any number of times.

        Subscribers are taken in batches, each written in one transaction, and
        subscribers who would get the same digest (same regions, period and
        timezone — everyone at 08:00 who follows Iraq, say) share one rendering.
        """
        now = self._clock.now()
        report = DispatchReport()
        composed: dict[tuple[object, ...], DigestContent] = {}
        rendered: dict[tuple[object, ...], _Rendered] = {}
        while due := await due_for_digest(self._db.reader, now, BATCH):
            if len(rendered) > RENDERINGS_KEPT:
                # Keep memory flat however many are due.
                composed.clear()
                rendered.clear()
            outcomes = [await self._outcome(s, now, composed, rendered, report) for s in due]
            sending = [o for o in outcomes if o.note is None]
            # Sends run concurrently; each chart waits until its digest's text is sent.
            charts = [(o.chat_id, f"{o.key}:chart", o.chart, o.key) for o in sending if o.chart]
            async with self._db.transaction() as conn:
                report.queued += await outbox.enqueue_payloads(
                    conn, OutboxKind.DIGEST,
                    [(o.chat_id, o.key, o.payload, None) for o in sending], now,
                )  # fmt: skip
                for note in {o.note for o in outcomes if o.note is not None}:
                    await outbox.enqueue_payloads(
                        conn, OutboxKind.DIGEST,
                        [(o.chat_id, o.key, o.payload, None) for o in outcomes if o.note == note],
                        now, status=OutboxStatus.DROPPED, note=note,
                    )  # fmt: skip
                await outbox.enqueue_payloads(conn, OutboxKind.DIGEST, charts, now)
                await set_many_digest_times(conn, [(o.chat_id, o.last, o.next) for o in outcomes])
        return report

    async def send_now(self, chat_id: int) -> DigestNow:
        """/digest: what is new since the previous digest, now.

        At most one per DIGEST_NOW_GAP, so that repeating the command cannot keep moving
        the window that the chat's scheduled digest starts from.
        """
        subscription = await get_subscription(self._db.reader, chat_id)
        if subscription is None or not subscription.active:
            return DigestNow.NOT_SUBSCRIBED
        now = self._clock.now()
        last = subscription.last_digest_at
        if last is not None and now - last < DIGEST_NOW_GAP:
            return DigestNow.TOO_SOON
        if subscription.follows_nothing:
            return DigestNow.NO_PLACES
        subscription, lost_zone = self._in_a_known_zone(subscription)
        content = await self.compose(subscription, now)
        async with self._db.transaction() as conn:
            await outbox.enqueue_message(
                conn,
                chat_id=chat_id,
                kind=OutboxKind.DIGEST,
                dedupe_key=f"digest-now:{chat_id}:{now.isoformat()}",
                message=_message(digest_text(content), lost_zone, subscription.timezone),
                now=now,
                priority=outbox.URGENT_PRIORITY,
            )
            # The next scheduled digest starts where this one ended, so nothing repeats.
            await set_digest_times(conn, chat_id, now, subscription.next_digest_at)
        return DigestNow.SENT

    async def _outcome(
        self,
        subscription: Subscription,
        now: datetime,
        composed: dict[tuple[object, ...], DigestContent],
        rendered: dict[tuple[object, ...], _Rendered],
        report: DispatchReport,
    ) -> _Outcome:
        slot = subscription.next_digest_at
        assert slot is not None
        subscription, lost_zone = self._in_a_known_zone(subscription)
        following = next_digest_time(subscription, now)
        key = f"digest:{subscription.chat_id}:{slot.isoformat()}"
        if now - slot > self._grace:
            log.warning(
                "digest for chat %s due %s skipped: %s late, grace is %s",
                subscription.chat_id, slot.isoformat(), now - slot, self._grace,
            )  # fmt: skip
            report.late_skipped += 1
            # The next digest starts where this one would have: it covers both periods.
            return _Outcome(
                subscription.chat_id, key, _NOTHING, "missed by more than the grace period",
                coverage_start(subscription, slot), following,
            )  # fmt: skip
        if subscription.follows_nothing:
            return _Outcome(
                subscription.chat_id, key, _NOTHING, "the chat follows no place",
                slot, following,
            )  # fmt: skip
        same_content = (
            subscription.everywhere, tuple(subscription.regions), tuple(subscription.watches),
            coverage_start(subscription, slot), subscription.last_digest_at is None, slot,
            subscription.digest,
        )  # fmt: skip
        # The same digest in another time zone says the same things: read them once.
        same_digest = (*same_content, subscription.timezone)
        if same_digest not in rendered:
            content = composed.get(same_content)
            if content is None:
                content = composed[same_content] = await self.compose(subscription, slot)
            rendered[same_digest] = await self._render(
                replace(content, zone=ZoneInfo(subscription.timezone))
            )
        shared = rendered[same_digest]
        note = None
        if shared.content.is_empty and subscription.skip_empty_digest:
            note = "nothing new; the subscriber skips empty digests"
            report.empty_skipped += 1
        chart = shared.chart if note is None and subscription.digest_chart else None
        payload = shared.payload
        if lost_zone is not None:
            html = OutgoingMessage.model_validate_json(payload).html
            payload = _message(html, lost_zone, subscription.timezone).model_dump_json()
        return _Outcome(subscription.chat_id, key, payload, note, slot, following, chart)

    def _in_a_known_zone(self, subscription: Subscription) -> tuple[Subscription, str | None]:
        """The subscription as its digest is written, and its time zone if this server
        cannot load it (a name tzdata no longer has, say): that digest then keeps to the
        bot's zone and says so, rather than stopping everyone's digests."""
        try:
            ZoneInfo(subscription.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning(
                "chat %s: its time zone %r cannot be loaded; its digest uses %s",
                subscription.chat_id, subscription.timezone, self._default_timezone,
            )  # fmt: skip
            update = {"timezone": self._default_timezone}
            return subscription.model_copy(update=update), subscription.timezone
        return subscription, None

    async def _render(self, content: DigestContent) -> _Rendered:
        """The digest text and chart message, once for all who get the same digest."""
        chart = None
        if content.regions:
            stored = await self._charts.chart(content.regions, CHART_DAYS)
            names = ", ".join(region.name for region in content.regions)
            chart = OutgoingMessage(
                html=f"Tension index, last {CHART_DAYS} days: {esc(names)}", chart_key=stored.key
            ).model_dump_json()
        return _Rendered(
            content, OutgoingMessage(html=digest_text(content)).model_dump_json(), chart
        )

    async def compose(self, subscription: Subscription, until: datetime) -> DigestContent:
        """What the digest of `subscription` ending at `until` says."""
        since = coverage_start(subscription, until)
        # The incidents listed are those an alert would have reached the subscriber for
        # (a province, a site's radius); troop figures and the tension index are by country.
        # Everywhere is read as no place to narrow to, whatever sites the chat also watches.
        places, watches = (
            ([], []) if subscription.everywhere else (subscription.regions, subscription.watches)
        )
        incidents, total = await published_between(
            self._db.reader, since, until, LISTED_INCIDENTS,
            places=covered_filter(coverage(places, watches)),
        )  # fmt: skip
        countries = countries_covered(places, watches)
        figures = [
            figure
            for figure in await figures_added_between(self._db.reader, since, until)
            if not countries or figure.host_country in countries
        ]
        return DigestContent(
            weekly=subscription.digest is DigestFrequency.WEEKLY,
            zone=ZoneInfo(subscription.timezone),
            since=since,
            until=until,
            incidents=incidents,
            incident_total=total,
            regions=await self._tension.regions(tension_places(places, watches)),
            troop_figures=figures,
            after_previous=subscription.last_digest_at is not None,
        )


def _message(html: str, lost_zone: str | None, used_zone: str) -> OutgoingMessage:
    """A digest's message, saying first when it is not in the subscriber's own zone."""
    if lost_zone is None:
        return OutgoingMessage(html=html)
    return OutgoingMessage(html=with_zone_notice(html, lost_zone, used_zone))


def coverage_start(subscription: Subscription, until: datetime) -> datetime:
    """Where a digest ending at `until` starts: the previous digest, or one period back."""
    if subscription.last_digest_at is not None:
        return subscription.last_digest_at
    period = timedelta(days=7 if subscription.digest is DigestFrequency.WEEKLY else 1)
    return until - period
