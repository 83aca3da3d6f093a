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
from enum import StrEnum
from typing import Protocol

import aiosqlite

from bot.clock import Clock
from bot.errors import UserError
from bot.intake.records import ProposalStatus
from bot.models import (
    DEFAULT_SITE_RADIUS_KM,
    SUMMARY_LIMIT,
    Draft,
    DraftOrigin,
    DraftPurpose,
    DraftStatus,
    Incident,
    IncidentChange,
    IncidentContent,
    OutgoingMessage,
    TroopFigureContent,
    Verification,
)
from bot.newsroom.admins import AdminService, Role
from bot.newsroom.forms import (
    Fields,
    FormError,
    changed_keys,
    check_field,
    check_place_answer,
    fields_from_incident,
    incident_from_fields,
)
from bot.newsroom.guided_post import next_step
from bot.places import Place, gazetteer
from bot.render.corrections import what_changed
from bot.render.delivery import correction_text
from bot.subscriptions.areas import alert_place, distance_km
from bot.subscriptions.escalation import EscalationNotices
from storage import drafts as draft_store
from storage import incidents as incident_store
from storage.admins import record_action
from storage.db import Database
from storage.intake import decide_proposal
from storage.outbox import enqueue_alerts, enqueue_corrections, release_held
from storage.troops import insert_troop_figure

log = logging.getLogger(__name__)

DUPLICATE_WINDOW = timedelta(hours=48)
REASON_LIMIT = SUMMARY_LIMIT  # a retraction's reason is read like a summary
# Edits of these reach everyone who was alerted; tags, sources and coordinates do not.
SUBSTANTIVE_KEYS = frozenset(
    {"title", "occurred", "country", "location", "type", "subtype", "perpetrator", "target",
     "claimed_by", "direction", "killed", "injured", "severity", "summary"}
)  # fmt: skip


# Edits that can make an incident an attack on a site it was not counted at before.
_MOVES_AN_ATTACK = frozenset({"location", "coordinates", "country", "direction", "occurred"})


class NewsroomError(UserError, ValueError):
    """A change that cannot be made, worded for the admin."""


class NotYourDraft(NewsroomError):
    """A press on a draft this admin may not act on: another admin's, or a guided one still
    being written (the button data can be forged)."""


class DraftAction(StrEnum):
    """What a draft's buttons do: Use (a /draft form's preview), Publish (or Approve),
    Edit, Cancel."""

    USE = "use"
    PUBLISH = "publish"
    EDIT = "edit"
    CANCEL = "cancel"


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
    purpose: DraftPurpose = DraftPurpose.PUBLISH
    incident_id: int | None = None  # the incident a correction or retraction changes

    @property
    def approver_ids(self) -> set[int]:
        return {user_id for user_id, _ in self.approvals}


@dataclass(frozen=True)
class PendingChange:
    """A correction or retraction waiting for its second approval, as admins are shown it."""

    draft_id: int
    purpose: DraftPurpose
    incident: Incident
    fields: Fields  # an edit's changed lines; a retraction's {"reason": [...]}


@dataclass(frozen=True)
class _Done:
    """A draft carried out: the incident published or changed (with how it was before)."""

    incident_id: int
    before: Incident | None  # None: newly published
    changed: list[str]


class Newsroom:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        zone: tzinfo,
        approvals_required: int = 1,
        *,
        escalation: EscalationNotices,
        admins: AdminService,
    ) -> None:
        self._db = db
        self._admins = admins
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

    async def keep_proposed(self, owner_id: int, fields: Fields) -> int:
        """Keep a form /draft proposed (blanks and all) as a draft "Use this draft" opens."""
        async with self._db.transaction() as conn:
            return await draft_store.create_draft(
                conn, owner_id, DraftOrigin.ARTICLE, fields, self._clock.now()
            )

    async def open_preview(self, draft_id: int, actor_id: int) -> Preview:
        """The preview of a draft /draft proposed, once: a second press, or one after the
        draft was published or cancelled, raises NewsroomError saying so. A form with
        blanks raises FormError and can be opened again once completed."""
        async with self._db.transaction() as conn:
            draft = await self._draft_to_act_on(conn, draft_id, actor_id, DraftAction.USE)
            incident = incident_from_fields(draft.fields, self._zone, self._clock.now())
            if not await draft_store.mark_previewed(conn, draft_id, self._clock.now()):
                raise NewsroomError(f"Draft {draft_id}'s preview is already open above.")
        return Preview(draft_id, incident, await self._duplicates_of(incident))

    async def pending_change(self, draft_id: int) -> PendingChange:
        """An open correction or retraction draft with the incident it would change."""
        draft = await self._open_draft(draft_id)
        assert draft.changes_incident is not None
        incident = await self._get(draft.changes_incident)
        return PendingChange(draft_id, draft.purpose, incident, draft.fields)

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

    async def withdraw(self, draft_id: int, actor_id: int, action: DraftAction) -> Draft:
        """Close an open draft (Cancel, or Edit to send it again) and return it.

        Decided from the draft as stored, in one transaction: a draft published or
        closed by an earlier press meanwhile raises NewsroomError saying so.
        """
        async with self._db.transaction() as conn:
            draft = await self._draft_to_act_on(conn, draft_id, actor_id, action)
            await draft_store.close_draft(conn, draft_id, DraftStatus.CANCELLED, self._clock.now())
        return draft

    async def approve(
        self, draft_id: int, actor_id: int, actor_name: str
    ) -> Incident | IncidentChange | AwaitingApproval:
        """Carry out a draft (publish it, or apply its correction or retraction), or under
        the two-person rule record this admin's approval and carry it out when a second,
        different admin approves.

        Decided from the draft as stored, in one transaction: two admins approving at
        once publish once, and an approval racing a Cancel finds the draft closed.
        """
        async with self._db.transaction() as conn:
            draft = await self._draft_to_act_on(conn, draft_id, actor_id, DraftAction.PUBLISH)
            outcome = await self._approve_in(conn, draft, actor_id, actor_name)
        return await self._announced(outcome)

    async def _draft_to_act_on(
        self, conn: aiosqlite.Connection, draft_id: int, actor_id: int, action: DraftAction
    ) -> Draft:
        """The open draft a button names, if this admin may press that button on it.

        Only its author uses, edits or publishes a draft; another admin approves or
        cancels one only once it was sent to them for approval. A guided draft still
        being written is its author's conversation, which no button acts on.
        """
        draft = await draft_store.get_draft(conn, draft_id)
        if draft is None:
            raise NewsroomError("That draft no longer exists.")
        if draft.origin is DraftOrigin.GUIDED and next_step(draft.fields) is not None:
            raise NotYourDraft(
                f"Draft {draft_id} is still being written with /post; no button acts on it."
            )
        if draft.owner_id != actor_id and not (
            action in (DraftAction.PUBLISH, DraftAction.CANCEL)
            and await self._sent_for_approval(conn, draft)
        ):
            raise NotYourDraft(
                f"Draft {draft_id} is another admin's: you can approve or cancel it only once "
                "it is sent to you for approval."
            )
        return _still_open(draft)

    async def _sent_for_approval(self, conn: aiosqlite.Connection, draft: Draft) -> bool:
        return self.approvals_required > 1 and bool(await draft_store.approvals_of(conn, draft.id))

    async def awaiting_approval(self) -> list[tuple[Draft, list[str]]]:
        """Open drafts approved by fewer admins than required, with their approvers' names."""
        return await draft_store.drafts_with_approvals(self._db.reader)

    # Corrections

    async def edit(
        self,
        incident_id: int,
        changes: Fields,
        actor_id: int,
        actor_name: str,
        *,
        from_proposal: int | None = None,
    ) -> IncidentChange | AwaitingApproval:
        """Correct a published incident, or under the two-person rule keep the correction
        as a draft approved by this admin until a second one approves it."""
        return await self._change(
            DraftPurpose.EDIT, incident_id, changes, actor_id, actor_name, from_proposal
        )

    async def retract(
        self, incident_id: int, reason: str, actor_id: int, actor_name: str
    ) -> IncidentChange | AwaitingApproval:
        if len(reason) > REASON_LIMIT:
            raise NewsroomError(
                f"A retraction's reason may be up to {REASON_LIMIT:,} characters, as a summary "
                f"may; this one has {len(reason):,}. Nothing was changed."
            )
        return await self._change(
            DraftPurpose.RETRACT, incident_id, {"reason": [reason]}, actor_id, actor_name, None
        )

    async def _change(
        self,
        purpose: DraftPurpose,
        incident_id: int,
        fields: Fields,
        actor_id: int,
        actor_name: str,
        from_proposal: int | None,
    ) -> IncidentChange | AwaitingApproval:
        now = self._clock.now()
        async with self._db.transaction() as conn:
            # Checked now, so that a change that cannot be made is refused to its author
            # rather than to the second admin (and checked again when it is applied).
            await self._changed_incident(conn, purpose, incident_id, fields)
            # A second Apply of the same feed proposal approves the correction it made.
            draft = (
                await draft_store.open_draft_from_proposal(conn, from_proposal)
                if from_proposal is not None
                else None
            )
            if draft is None:
                origin = DraftOrigin.FORM if from_proposal is None else DraftOrigin.ARTICLE
                draft_id = await draft_store.create_draft(
                    conn, actor_id, origin, fields, now, purpose=purpose,
                    changes_incident=incident_id, from_proposal=from_proposal,
                )  # fmt: skip
                draft = await _open_draft_for(conn, draft_id)
            outcome = await self._approve_in(conn, draft, actor_id, actor_name)
        result = await self._announced(outcome)
        assert not isinstance(result, Incident)
        return result

    async def _approve_in(
        self, conn: aiosqlite.Connection, draft: Draft, actor_id: int, actor_name: str
    ) -> _Done | AwaitingApproval:
        approvals: list[tuple[int, str]] = []
        if self.approvals_required > 1:
            added = await draft_store.add_approval(
                conn, draft.id, actor_id, actor_name, self._clock.now()
            )
            if added:
                await record_action(
                    conn, at=self._clock.now(), actor_id=actor_id, action="approve",
                    subject=_subject_of(draft),
                )  # fmt: skip
            # An approval counts while its admin still is one: an editor revoked since
            # approving no longer vouches for the draft.
            approvals = [
                (user_id, name)
                for user_id, name in await draft_store.approvals_of(conn, draft.id)
                if await self._admins.role_of(user_id, conn) > Role.NOBODY
            ]
            if len(approvals) < self.approvals_required:
                return AwaitingApproval(
                    draft.id, approvals, self.approvals_required, newly=added,
                    purpose=draft.purpose, incident_id=draft.changes_incident,
                )  # fmt: skip
        return await self._carry_out(conn, draft, actor_id, [user for user, _ in approvals])

    async def _carry_out(
        self, conn: aiosqlite.Connection, draft: Draft, actor_id: int, approved_by: list[int]
    ) -> _Done:
        """Do what the open draft says and close it, in the caller's transaction."""
        now = self._clock.now()
        approval: dict[str, object] = {"approved_by": approved_by} if approved_by else {}
        if draft.purpose is DraftPurpose.PUBLISH:
            done = await self._publish_in(conn, draft, actor_id, approval)
        else:
            assert draft.changes_incident is not None
            done = await self._apply_in(conn, draft, actor_id, approval)
        if not await draft_store.close_draft(
            conn, draft.id, DraftStatus.PUBLISHED, now, done.incident_id
        ):
            raise NewsroomError("That draft was closed while you were approving it.")
        if draft.from_proposal is not None:
            if not await decide_proposal(
                conn, draft.from_proposal, ProposalStatus.APPLIED, actor_id, now
            ):
                raise NewsroomError(f"P{draft.from_proposal} was decided meanwhile.")
            await record_action(
                conn, at=now, actor_id=actor_id, action="proposal applied",
                subject=f"proposal P{draft.from_proposal}",
            )  # fmt: skip
        return done

    async def _publish_in(
        self, conn: aiosqlite.Connection, draft: Draft, actor_id: int, approval: dict[str, object]
    ) -> _Done:
        now = self._clock.now()
        content = incident_from_fields(draft.fields, self._zone, now)
        incident_id = await incident_store.insert_incident(conn, content, now)
        if incident_id is None:
            raise NewsroomError("An incident with that external id is already stored.")
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
            detail={"title": content.title, "alerts": alerts} | approval,
        )
        return _Done(incident_id, None, [])

    async def _apply_in(
        self, conn: aiosqlite.Connection, draft: Draft, actor_id: int, approval: dict[str, object]
    ) -> _Done:
        """An edit or a retraction, with its version, corrections and audit entry."""
        now = self._clock.now()
        assert draft.changes_incident is not None
        before, after_draft, changed = await self._changed_incident(
            conn, draft.purpose, draft.changes_incident, draft.fields
        )
        change = draft.purpose.value
        version = await incident_store.save_version(
            conn, before, change=change, fields=changed, changed_by=actor_id, now=now
        )
        # Alerts about it waiting for quiet hours are decided again on the changed incident:
        # now severity 5 they go at once; moved out of a follower's places, they are dropped.
        await release_held(conn, now, incident_id=before.id)
        if after_draft is None:
            reason = draft.fields["reason"][0]
            await incident_store.mark_retracted(conn, before.id, reason, now)
            corrections = await self._enqueue_corrections(conn, before, changed, version)
            detail: dict[str, object] = {
                "change": version, "reason": reason, "corrections": corrections
            }  # fmt: skip
        else:
            await incident_store.update_incident(conn, before.id, after_draft, now)
            if _MOVES_AN_ATTACK.intersection(changed):
                # An attack edited onto a site (or into its window) may be the Nth there.
                await self._escalation.check(conn, before.id, after_draft, now)
            corrections = 0
            # Becoming disputed matters to whoever read it; becoming confirmed can wait.
            disputed = after_draft.verification is Verification.DISPUTED
            if SUBSTANTIVE_KEYS.intersection(changed) or ("verification" in changed and disputed):
                corrections = await self._enqueue_corrections(conn, before, changed, version)
            detail = {
                "change": version,
                "changed": what_changed(before, after_draft, self._zone),
                "corrections sent": corrections,
            }
        await record_action(
            conn, at=now, actor_id=actor_id, action=change,
            subject=f"incident {before.id}", detail=detail | approval,
        )  # fmt: skip
        return _Done(before.id, before, changed)

    async def _changed_incident(
        self, conn: aiosqlite.Connection, purpose: DraftPurpose, incident_id: int, fields: Fields
    ) -> tuple[Incident, IncidentContent | None, list[str]]:
        """The incident as it is, as the change would make it (None: retracted), and the
        keys that change; NewsroomError if the change cannot be made."""
        before = await incident_store.get_incident(conn, incident_id)
        if before is None:
            raise NewsroomError(f"There is no incident #{incident_id}.")
        if purpose is DraftPurpose.RETRACT:
            if before.is_retracted:
                raise NewsroomError(f"#{incident_id} is already retracted.")
            return before, None, ["status"]
        if before.is_retracted:
            raise NewsroomError(f"#{incident_id} is retracted; it can no longer be edited.")
        merged = {**fields_from_incident(before, self._zone), **fields, **_moved(before, fields)}
        # What the form does not carry stays as it was.
        after = incident_from_fields(merged, self._zone, self._clock.now()).model_copy(
            update={"external_id": before.external_id, "reported_at": before.reported_at}
        )
        changed = changed_keys(before, after)
        if not changed:
            raise NewsroomError(f"That changes nothing in #{incident_id}.")
        return before, after, changed

    async def _announced(
        self, outcome: _Done | AwaitingApproval
    ) -> Incident | IncidentChange | AwaitingApproval:
        """After the commit: tell the listeners what was done."""
        if isinstance(outcome, AwaitingApproval):
            return outcome
        if outcome.before is None:
            incident = await self._get(outcome.incident_id)
            for listener in self.listeners:
                await _tell(listener.incident_published(incident))
            return incident
        return await self._announce(outcome.before, outcome.changed)

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
    return _still_open(draft)


def _still_open(draft: Draft) -> Draft:
    """The draft, if it is still open; NewsroomError saying what became of it otherwise."""
    if draft.purpose is not DraftPurpose.PUBLISH and draft.status is not DraftStatus.OPEN:
        what = "correction" if draft.purpose is DraftPurpose.EDIT else "retraction"
        outcome = "applied" if draft.status is DraftStatus.PUBLISHED else "cancelled"
        raise NewsroomError(f"That {what} of #{draft.changes_incident} was already {outcome}.")
    if draft.status is DraftStatus.PUBLISHED:
        raise NewsroomError(
            f"That draft was already published as #{draft.incident_id}; "
            f"/edit {draft.incident_id} changes it."
        )
    if draft.status is not DraftStatus.OPEN:
        raise NewsroomError("That draft was already closed; nothing was published from it.")
    return draft


def _moved(before: Incident, fields: Fields) -> Fields:
    """What an edit moving an incident to a known site changes besides: the province
    becomes the site's, and coordinates away from it go (the old place's, not the new),
    unless the edit gives them itself."""
    new_location = (fields.get("location") or [""])[0].strip()
    site = gazetteer().site(new_location) if new_location else None
    if site is None or site.name == before.location:
        return {}
    moved: Fields = {}
    if "region" not in fields:
        moved["region"] = [""]  # settled to the site's province
    if "coordinates" not in fields and not _near(site, before.latitude, before.longitude):
        moved["coordinates"] = [""]
    return moved


def _near(site: Place, latitude: float | None, longitude: float | None) -> bool:
    if latitude is None or longitude is None:
        return True
    if site.bbox is not None:  # a sea area
        return site.bbox.holds(latitude, longitude)
    distance = distance_km(site.latitude, site.longitude, latitude, longitude)
    return distance <= DEFAULT_SITE_RADIUS_KM


def _subject_of(draft: Draft) -> str:
    if draft.changes_incident is None:
        return f"draft {draft.id}"
    return f"draft {draft.id}: {draft.purpose.value} of incident {draft.changes_incident}"


async def _tell(notification: Awaitable[None]) -> None:
    # A listener failing (the channel is gone, say) must not undo or hide the change.
    try:
        await notification
    except Exception:
        log.exception("a newsroom listener failed")
