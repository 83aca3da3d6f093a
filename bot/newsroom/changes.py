"""Changing the record: drafts, publishing, edits, retractions and troop figures.

Each change and its audit entry are written in one transaction. Whoever needs
to hear about a change (the channel feed now, subscribers' alerts later)
registers as a listener and is told after the transaction has committed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from typing import Protocol

import aiosqlite

from bot.clock import Clock
from bot.errors import UserError
from bot.models import (
    Draft,
    DraftOrigin,
    DraftStatus,
    Incident,
    IncidentChange,
    IncidentContent,
    OutgoingMessage,
    TroopFigureContent,
    Verification,
)
from bot.newsroom.forms import (
    Fields,
    FormError,
    changed_keys,
    check_field,
    check_place_answer,
    fields_from_incident,
    incident_from_fields,
)
from bot.render.corrections import what_changed
from bot.render.delivery import correction_text
from bot.subscriptions.areas import alert_place
from bot.subscriptions.escalation import EscalationNotices
from storage import drafts as draft_store
from storage import incidents as incident_store
from storage.admins import record_action
from storage.db import Database
from storage.outbox import enqueue_alerts, enqueue_corrections
from storage.troops import insert_troop_figure

log = logging.getLogger(__name__)

DUPLICATE_WINDOW = timedelta(hours=48)
# Edits of these reach everyone who was alerted; tags, sources and coordinates do not.
SUBSTANTIVE_KEYS = frozenset(
    {"title", "occurred", "country", "location", "type", "subtype", "perpetrator", "target",
     "claimed_by", "direction", "killed", "injured", "severity", "summary"}
)  # fmt: skip


# Edits that can make an incident an attack on a site it was not counted at before.
_MOVES_AN_ATTACK = frozenset({"location", "coordinates", "country", "direction", "occurred"})


class NewsroomError(UserError, ValueError):
    """A change that cannot be made, worded for the admin."""


class NewsroomListener(Protocol):
    async def incident_published(self, incident: Incident) -> None: ...

    async def incident_changed(self, change: IncidentChange) -> None: ...


@dataclass(frozen=True)
class Preview:
    draft_id: int
    incident: IncidentContent
    possible_duplicates: list[Incident]


@dataclass(frozen=True)
class AwaitingApproval:
    """A draft approved by fewer admins than the two-person rule asks for."""

    draft_id: int
    approvals: list[tuple[int, str]]  # (user id, name), first first
    required: int
    newly: bool  # False: this admin had approved it already

    @property
    def approver_ids(self) -> set[int]:
        return {user_id for user_id, _ in self.approvals}


class Newsroom:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        zone: tzinfo,
        approvals_required: int = 1,
        *,
        escalation: EscalationNotices,
    ) -> None:
        self._db = db
        self._clock = clock
        self._zone = zone
        self.approvals_required = approvals_required
        self._escalation = escalation
        self.listeners: list[NewsroomListener] = []

    # Drafts

    async def propose(self, owner_id: int, fields: Fields, origin: DraftOrigin) -> Preview:
        """Validate a whole form and keep it as a draft; raise FormError if it is invalid."""
        incident = incident_from_fields(fields, self._zone, self._clock.now())
        async with self._db.transaction() as conn:
            draft_id = await draft_store.create_draft(
                conn, owner_id, origin, fields, self._clock.now()
            )
        return Preview(draft_id, incident, await self._duplicates_of(incident))

    def problems_of(self, fields: Fields) -> list[str]:
        """What is wrong with a form's fields, as /post would report it; [] if nothing."""
        try:
            incident_from_fields(fields, self._zone, self._clock.now())
        except FormError as error:
            return error.problems
        return []

    async def preview(self, draft_id: int) -> Preview:
        draft = await self._open_draft(draft_id)
        incident = incident_from_fields(draft.fields, self._zone, self._clock.now())
        return Preview(draft_id, incident, await self._duplicates_of(incident))

    async def draft(self, draft_id: int) -> Draft | None:
        return await draft_store.get_draft(self._db.reader, draft_id)

    async def guided_draft(self, owner_id: int) -> Draft:
        """The admin's unfinished guided draft, or a new empty one."""
        found = await draft_store.open_draft_of(self._db.reader, owner_id, DraftOrigin.GUIDED)
        if found is not None:
            return found
        async with self._db.transaction() as conn:
            draft_id = await draft_store.create_draft(
                conn, owner_id, DraftOrigin.GUIDED, {}, self._clock.now()
            )
        return await self._open_draft(draft_id)

    async def drop_guided_draft(self, owner_id: int) -> bool:
        """Cancel the admin's unfinished guided draft; False if they have none."""
        found = await draft_store.open_draft_of(self._db.reader, owner_id, DraftOrigin.GUIDED)
        return found is not None and await self.cancel(found.id)

    async def answer(self, draft_id: int, answers: Fields) -> str | None:
        """Check one step's answers and store them; return the problem instead if any."""
        for key, values in answers.items():
            problem = check_field(key, values, self._zone, self._clock.now())
            if problem:
                return problem
        if "country" in answers and (problem := check_place_answer(answers)):
            return problem
        draft = await self._open_draft(draft_id)
        merged = {**draft.fields, **{key: v for key, v in answers.items() if any(v)}}
        async with self._db.transaction() as conn:
            await draft_store.save_fields(conn, draft_id, merged, self._clock.now())
        return None

    async def cancel(self, draft_id: int) -> bool:
        async with self._db.transaction() as conn:
            return await draft_store.close_draft(
                conn, draft_id, DraftStatus.CANCELLED, self._clock.now()
            )

    async def withdraw(self, draft_id: int) -> Draft:
        """Close an open draft (Cancel, or Edit to send it again) and return it.

        Decided from the draft as stored, in one transaction: a draft published or
        closed by an earlier press meanwhile raises NewsroomError saying so.
        """
        async with self._db.transaction() as conn:
            draft = await _open_draft_for(conn, draft_id)
            await draft_store.close_draft(conn, draft_id, DraftStatus.CANCELLED, self._clock.now())
        return draft

    async def approve(
        self, draft_id: int, actor_id: int, actor_name: str
    ) -> Incident | AwaitingApproval:
        """Publish, or under the two-person rule record this admin's approval and publish
        when a second, different admin approves."""
        if self.approvals_required == 1:
            return await self.publish(draft_id, actor_id)
        await _open_draft_for(self._db.reader, draft_id)
        async with self._db.transaction() as conn:
            added = await draft_store.add_approval(
                conn, draft_id, actor_id, actor_name, self._clock.now()
            )
            if added:
                await record_action(
                    conn, at=self._clock.now(), actor_id=actor_id, action="approve",
                    subject=f"draft {draft_id}",
                )  # fmt: skip
        approvals = await draft_store.approvals_of(self._db.reader, draft_id)
        if len(approvals) >= self.approvals_required:
            return await self.publish(draft_id, actor_id, approved_by=[u for u, _ in approvals])
        return AwaitingApproval(draft_id, approvals, self.approvals_required, newly=added)

    async def awaiting_approval(self) -> list[tuple[Draft, list[str]]]:
        """Open drafts approved by fewer admins than required, with their approvers' names."""
        return await draft_store.drafts_with_approvals(self._db.reader)

    async def publish(
        self, draft_id: int, actor_id: int, approved_by: list[int] | None = None
    ) -> Incident:
        now = self._clock.now()
        async with self._db.transaction() as conn:
            # Decided from the draft as stored, in this transaction, so that a second
            # press (Publish, Edit or Cancel) cannot contradict the first.
            draft = await _open_draft_for(conn, draft_id)
            content = incident_from_fields(draft.fields, self._zone, now)
            incident_id = await incident_store.insert_incident(conn, content, now)
            if incident_id is None:
                raise NewsroomError("An incident with that external id is already stored.")
            if not await draft_store.close_draft(
                conn, draft_id, DraftStatus.PUBLISHED, now, incident_id
            ):
                raise NewsroomError("That draft was closed while you were publishing it.")
            # Alerts are queued in the same transaction: published means alerted.
            alerts = await enqueue_alerts(
                conn, incident_id, alert_place(content), content.severity, content.direction, now
            )
            await self._escalation.check(conn, incident_id, content, now)
            await record_action(
                conn,
                at=now,
                actor_id=actor_id,
                action="publish",
                subject=f"incident {incident_id}",
                detail={"title": content.title, "alerts": alerts}
                | ({"approved_by": approved_by} if approved_by else {}),
            )
        incident = await self._get(incident_id)
        for listener in self.listeners:
            await _tell(listener.incident_published(incident))
        return incident

    # Corrections

    async def edit(self, incident_id: int, changes: Fields, actor_id: int) -> IncidentChange:
        before = await self._get(incident_id)
        if before.is_retracted:
            raise NewsroomError(f"#{incident_id} is retracted; it can no longer be edited.")
        fields = {**fields_from_incident(before, self._zone), **changes}
        # What the form does not carry stays as it was.
        after_draft = incident_from_fields(fields, self._zone, self._clock.now()).model_copy(
            update={"external_id": before.external_id, "reported_at": before.reported_at}
        )
        changed = changed_keys(before, after_draft)
        if not changed:
            raise NewsroomError(f"That changes nothing in #{incident_id}.")
        now = self._clock.now()
        async with self._db.transaction() as conn:
            version = await incident_store.save_version(
                conn, before, change="edit", fields=changed, changed_by=actor_id, now=now
            )
            await incident_store.update_incident(conn, incident_id, after_draft, now)
            if _MOVES_AN_ATTACK.intersection(changed):
                # An attack edited onto a site (or into its window) may be the Nth there.
                await self._escalation.check(conn, incident_id, after_draft, now)
            corrections = 0
            # Becoming disputed matters to whoever read it; becoming confirmed can wait.
            disputed = after_draft.verification is Verification.DISPUTED
            if SUBSTANTIVE_KEYS.intersection(changed) or ("verification" in changed and disputed):
                corrections = await self._enqueue_corrections(conn, before, changed, version)
            await record_action(
                conn,
                at=now,
                actor_id=actor_id,
                action="edit",
                subject=f"incident {incident_id}",
                detail={
                    "change": version,
                    "changed": what_changed(before, after_draft, self._zone),
                    "corrections sent": corrections,
                },
            )
        return await self._announce(before, changed)

    async def retract(self, incident_id: int, reason: str, actor_id: int) -> IncidentChange:
        before = await self._get(incident_id)
        if before.is_retracted:
            raise NewsroomError(f"#{incident_id} is already retracted.")
        now = self._clock.now()
        async with self._db.transaction() as conn:
            version = await incident_store.save_version(
                conn, before, change="retract", fields=["status"], changed_by=actor_id, now=now
            )
            await incident_store.mark_retracted(conn, incident_id, reason, now)
            corrections = await self._enqueue_corrections(conn, before, ["status"], version)
            await record_action(
                conn,
                at=now,
                actor_id=actor_id,
                action="retract",
                subject=f"incident {incident_id}",
                detail={"change": version, "reason": reason, "corrections": corrections},
            )
        return await self._announce(before, ["status"])

    async def add_troop_figure(self, figure: TroopFigureContent, actor_id: int) -> int:
        now = self._clock.now()
        async with self._db.transaction() as conn:
            figure_id = await insert_troop_figure(conn, figure, now)
            if figure_id is None:
                raise NewsroomError(
                    f"There is already a figure for {figure.force} in {figure.host_country} "
                    f"as of {figure.as_of.isoformat()}."
                )
            await record_action(
                conn,
                at=now,
                actor_id=actor_id,
                action="settroops",
                subject=f"{figure.force} in {figure.host_country}",
                detail={"count": str(figure.count), "as_of": figure.as_of.isoformat()},
            )
        return figure_id

    async def _enqueue_corrections(
        self, conn: aiosqlite.Connection, before: Incident, changed: list[str], version: int
    ) -> int:
        """Tell everyone who got the alert what changed, in the same transaction."""
        after = await incident_store.get_incident(conn, before.id)
        assert after is not None
        change = IncidentChange(before=before, after=after, fields=changed)
        message = OutgoingMessage(html=correction_text(change, self._zone))
        return await enqueue_corrections(conn, before.id, version, message, self._clock.now())

    async def _announce(self, before: Incident, changed: list[str]) -> IncidentChange:
        change = IncidentChange(before=before, after=await self._get(before.id), fields=changed)
        for listener in self.listeners:
            await _tell(listener.incident_changed(change))
        return change

    async def _get(self, incident_id: int) -> Incident:
        incident = await incident_store.get_incident(self._db.reader, incident_id)
        if incident is None:
            raise NewsroomError(f"There is no incident #{incident_id}.")
        return incident

    async def _open_draft(self, draft_id: int) -> Draft:
        draft = await draft_store.get_draft(self._db.reader, draft_id)
        if draft is None or draft.status is not DraftStatus.OPEN:
            raise NewsroomError("That draft is no longer open.")
        return draft

    async def _duplicates_of(self, incident: IncidentContent) -> list[Incident]:
        return await incident_store.published_near(
            self._db.reader, incident.location, incident.occurred_at, DUPLICATE_WINDOW
        )


async def _open_draft_for(conn: aiosqlite.Connection, draft_id: int) -> Draft:
    """The draft, if it is still open; NewsroomError saying what became of it otherwise."""
    draft = await draft_store.get_draft(conn, draft_id)
    if draft is None:
        raise NewsroomError("That draft no longer exists.")
    if draft.status is DraftStatus.PUBLISHED:
        raise NewsroomError(
            f"That draft was already published as #{draft.incident_id}; "
            f"/edit {draft.incident_id} changes it."
        )
    if draft.status is not DraftStatus.OPEN:
        raise NewsroomError("That draft was already closed; nothing was published from it.")
    return draft


async def _tell(notification: Awaitable[None]) -> None:
    # A listener failing (the channel is gone, say) must not undo or hide the change.
    try:
        await notification
    except Exception:
        log.exception("a newsroom listener failed")
