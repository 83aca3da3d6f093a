"""The intake: reading the feeds when they are due and proposing their new items.

Each feed is read on its own: a feed that fails, hangs or sends rubbish records its
error and waits longer before the next try (poll_seconds, doubling up to an hour),
and the others carry on. An item is remembered, with what became of it, in the same
transaction as its proposal, so nothing is proposed twice, across restarts too.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import timedelta, tzinfo
from urllib.parse import urlparse

import aiohttp

from bot.clock import Clock
from bot.config import IntakeSettings
from bot.errors import UserError
from bot.intake.fetch import (
    ALLOW_PRIVATE_HINT,
    EXAMPLE_FEED_URL,
    FetchError,
    client_session,
    fetch_feed,
    internal_address,
)
from bot.intake.items import FeedItem, parse_feed
from bot.intake.pages import main_text, says_too_little
from bot.intake.proposing import Proposed, assess, differences
from bot.intake.records import Feed, Proposal, ProposalStatus, SkippedItem
from bot.models import IncidentChange
from bot.monitoring import FeedReadResult, Metrics
from bot.newsroom.changes import AwaitingApproval, Newsroom
from bot.newsroom.forms import Fields, fields_from_incident
from storage import incidents as incident_store
from storage import intake as store
from storage.admins import record_action
from storage.db import Database
from storage.drafts import cancel_drafts_from_proposal

log = logging.getLogger(__name__)

# An item this near in time to an incident at the same place may report the same attack;
# one further apart is another attack, however alike (9 and 11 August at one base).
MATCH_WINDOW = timedelta(days=1)
LONGEST_BACK_OFF = timedelta(hours=1)
SKIPPED_SHOWN = 10


class IntakeError(UserError, ValueError):
    """An intake request that cannot be carried out, worded for the admin."""


@dataclass(frozen=True)
class FeedRead:
    """What one reading of a feed gave: the proposals it made, or its error."""

    feed_id: int
    result: FeedReadResult
    proposals: list[Proposal]
    skipped: int
    error: str | None


class Intake:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: IntakeSettings,
        zone: tzinfo,
        newsroom: Newsroom,
        metrics: Metrics,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._zone = zone
        self._newsroom = newsroom
        self._metrics = metrics
        self._session: aiohttp.ClientSession | None = None
        self._reading: set[int] = set()

    @property
    def poll_seconds(self) -> float:
        return self._settings.poll_seconds

    async def start(self) -> None:
        """Open the HTTP session and add the config file's feeds (those not yet read)."""
        self._session = client_session(
            self._settings.timeout_seconds,
            allow_private_addresses=self._settings.allow_private_addresses,
        )
        now = self._clock.now()
        async with self._db.transaction() as conn:
            for url in self._settings.feeds:
                await store.add_feed(conn, str(url), added_by=None, from_config=True, now=now)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # Feeds

    async def feeds(self) -> list[Feed]:
        return await store.list_feeds(self._db.reader)

    async def feed(self, number: int) -> tuple[Feed, list[SkippedItem]]:
        feed = await store.get_feed(self._db.reader, number)
        if feed is None:
            raise IntakeError(f"There is no feed {number}; /feeds lists them.")
        return feed, await store.skipped_items(self._db.reader, number, SKIPPED_SHOWN)

    async def add_feed(self, address: str, actor_id: int) -> tuple[Feed, FeedRead]:
        """Add a feed and read it at once, so the admin sees at once whether it works."""
        url = _feed_url(address)
        if not self._settings.allow_private_addresses:
            internal = await internal_address(url, self._settings.timeout_seconds)
            if internal is not None:
                raise IntakeError(
                    f"Refused: {internal}, and the bot reads feeds from the public internet "
                    f"only; nothing was added. {ALLOW_PRIVATE_HINT.capitalize()}."
                )
        async with self._db.transaction() as conn:
            feed_id = await store.add_feed(
                conn, url, added_by=actor_id, from_config=False, now=self._clock.now()
            )
            if feed_id is None:
                raise IntakeError("That feed is read already; /feeds lists them.")
            await record_action(
                conn, at=self._clock.now(), actor_id=actor_id, action="feed add",
                subject=f"feed {feed_id}", detail={"url": url},
            )  # fmt: skip
        feed = await self._feed(feed_id)
        read = await self._read(feed)
        return await self._feed(feed_id), read

    async def remove_feed(self, number: int, actor_id: int) -> Feed:
        feed = await store.get_feed(self._db.reader, number)
        if feed is None:
            raise IntakeError(f"There is no feed {number}; /feeds lists them.")
        if feed.from_config:
            raise IntakeError(
                f"Feed {number} is listed in the config file ([intake] feeds); "
                "remove it there and restart the bot."
            )
        async with self._db.transaction() as conn:
            await store.remove_feed(conn, number)
            await record_action(
                conn, at=self._clock.now(), actor_id=actor_id, action="feed remove",
                subject=f"feed {number}", detail={"url": feed.url},
            )  # fmt: skip
        return feed

    async def read_due_feeds(self) -> list[FeedRead]:
        """Read every feed that is due, all at once; each one's failure stays its own."""
        due = [
            feed
            for feed in await store.due_feeds(self._db.reader, self._clock.now())
            if feed.id not in self._reading
        ]
        return list(await asyncio.gather(*(self._read(feed) for feed in due)))

    async def _read(self, feed: Feed) -> FeedRead:
        self._reading.add(feed.id)
        try:
            read = await self._fetch_and_propose(feed)
        except FetchError as error:
            read = await self._failed(feed, str(error))
        except Exception:
            log.exception("reading feed %s failed", feed.id)
            read = await self._failed(feed, "internal error while reading it (see the log)")
        finally:
            self._reading.discard(feed.id)
        self._metrics.feed_read(feed.id, read.result, len(read.proposals), read.skipped)
        return read

    async def _fetch_and_propose(self, feed: Feed) -> FeedRead:
        if self._session is None:
            raise RuntimeError("the intake has not been started")
        fetched = await fetch_feed(
            self._session,
            feed.url,
            etag=feed.etag,
            last_modified=feed.last_modified,
            max_bytes=self._settings.max_bytes,
        )
        title = None
        proposals: list[Proposal] = []
        skipped = 0
        if fetched.body is not None:
            parsed = await asyncio.to_thread(parse_feed, fetched.body)
            title = parsed.title
            seen = await store.seen_keys(
                self._db.reader, feed.id, [item.key for item in parsed.items]
            )
            source_name = parsed.title or urlparse(feed.url).hostname or feed.url
            for item in parsed.items:
                if item.key in seen:
                    continue
                proposal = await self._take_item(feed.id, await self._told(item), source_name)
                if proposal is None:
                    skipped += 1
                else:
                    proposals.append(proposal)
        now = self._clock.now()
        async with self._db.transaction() as conn:
            await store.record_fetch_success(
                conn,
                feed.id,
                title=title,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                new_items=bool(proposals) or bool(skipped),
                now=now,
                next_fetch_at=now + timedelta(seconds=self._settings.poll_seconds),
            )
        result: FeedReadResult = "not_modified" if fetched.body is None else "ok"
        return FeedRead(feed.id, result, proposals, skipped, None)

    async def _told(self, item: FeedItem) -> FeedItem:
        """The item, with its linked page's main text when its description says too little
        and the config asks for it (fetch_linked_pages)."""
        if not (self._settings.fetch_linked_pages and item.link and says_too_little(item.text)):
            return item
        if not item.link.startswith(("http://", "https://")) or self._session is None:
            return item
        text = await main_text(self._session, item.link, max_bytes=self._settings.max_bytes)
        if text is None or len(text) <= len(item.text):
            return item
        return replace(item, text=text)

    async def _take_item(self, feed_id: int, item: FeedItem, source_name: str) -> Proposal | None:
        """Remember the item and propose it if it reads as a recent incident."""
        now = self._clock.now()
        # Off the event loop: the extractor reads the item, and a long one must not keep
        # the bot from answering users meanwhile.
        outcome = await asyncio.to_thread(
            assess,
            item,
            source_name=source_name,
            now=now,
            max_age=timedelta(hours=self._settings.max_age_hours),
            zone=self._zone,
        )
        reason = "" if isinstance(outcome, Proposed) else outcome.reason
        record = store.ItemRecord(item.key, item.title, item.link, item.published, reason)
        update_of, update_of_proposal = (
            await self._earlier_report(item.link, outcome)
            if isinstance(outcome, Proposed)
            else (None, None)
        )
        async with self._db.transaction() as conn:
            if not await store.remember_item(conn, feed_id, record, now):
                return None
            if not isinstance(outcome, Proposed):
                return None
            proposal_id = await store.insert_proposal(
                conn,
                store.NewProposal(
                    feed_id=feed_id,
                    link=item.link,
                    fields=outcome.fields,
                    notes=outcome.notes,
                    occurred_at=outcome.occurred_at,
                    country=outcome.country,
                    admin1=outcome.admin1,
                    location=outcome.location,
                    update_of=update_of,
                    update_of_proposal=update_of_proposal,
                ),
                now,
            )
        return await self.proposal(proposal_id)

    async def _earlier_report(
        self, link: str | None, proposed: Proposed
    ) -> tuple[int | None, int | None]:
        """The published incident, else the pending proposal, this item may be a report of."""
        near = store.Nearness(
            link=link,
            country=proposed.country,
            admin1=proposed.admin1,
            location=proposed.location,
            around=proposed.occurred_at,
            window=MATCH_WINDOW,
        )
        incident = await store.published_incident_near(self._db.reader, near)
        if incident is not None:
            return incident, None
        return None, await store.pending_proposal_near(self._db.reader, near)

    async def _failed(self, feed: Feed, error: str) -> FeedRead:
        log.warning("feed %s (%s): %s", feed.id, feed.url, error)
        # The wait doubles with each failure in a row: poll_seconds, twice that, … an hour.
        poll = timedelta(seconds=self._settings.poll_seconds)
        wait = min(poll * 2**feed.failures, max(LONGEST_BACK_OFF, poll))
        now = self._clock.now()
        async with self._db.transaction() as conn:
            await store.record_fetch_failure(
                conn, feed.id, error=error, now=now, next_fetch_at=now + wait
            )
        return FeedRead(feed.id, "error", [], 0, error)

    async def _feed(self, feed_id: int) -> Feed:
        feed = await store.get_feed(self._db.reader, feed_id)
        assert feed is not None
        return feed

    # Proposals

    async def pending(self) -> list[Proposal]:
        return await store.pending_proposals(self._db.reader)

    async def proposal(self, proposal_id: int) -> Proposal:
        found = await store.get_proposal(self._db.reader, proposal_id)
        if found is None:
            raise IntakeError(f"There is no proposal P{proposal_id}.")
        return found

    async def differences(self, proposal: Proposal) -> list[tuple[str, str, str]]:
        """How a possible update differs from what it may update."""
        current = await self._current_fields(proposal)
        return differences(proposal.fields, current) if current is not None else []

    async def _current_fields(self, proposal: Proposal) -> Fields | None:
        if proposal.update_of is not None:
            incident = await incident_store.get_incident(self._db.reader, proposal.update_of)
            return fields_from_incident(incident, self._zone) if incident else None
        if proposal.update_of_proposal is not None:
            return (await self.proposal(proposal.update_of_proposal)).fields
        return None

    async def decide(self, proposal_id: int, status: ProposalStatus, actor_id: int) -> Proposal:
        """Close a pending proposal for `actor_id`; IntakeError if someone else did first."""
        async with self._db.transaction() as conn:
            if not await store.decide_proposal(
                conn, proposal_id, status, actor_id, self._clock.now()
            ):
                raise IntakeError(await self._already_decided(proposal_id, actor_id))
            # A correction its Apply made, still waiting for a second approval, goes too.
            await cancel_drafts_from_proposal(conn, proposal_id, self._clock.now())
            await record_action(
                conn, at=self._clock.now(), actor_id=actor_id,
                action=f"proposal {status.value}", subject=f"proposal P{proposal_id}",
            )  # fmt: skip
        return await self.proposal(proposal_id)

    async def apply_update(
        self, proposal_id: int, actor_id: int, actor_name: str
    ) -> IncidentChange | AwaitingApproval:
        """Correct the incident a possible update refers to with what the new report adds
        (under the two-person rule: approve that correction); the proposal is decided
        "applied" in the correction's own transaction."""
        proposal = await self.proposal(proposal_id)
        if proposal.update_of is None:
            raise IntakeError(f"P{proposal_id} is not an update of a published incident.")
        if proposal.status is not ProposalStatus.PENDING:
            raise IntakeError(await self._already_decided(proposal_id, actor_id))
        incident = await incident_store.get_incident(self._db.reader, proposal.update_of)
        if incident is None:
            raise IntakeError(f"There is no incident #{proposal.update_of}.")
        current = fields_from_incident(incident, self._zone)
        changes: Fields = {key: [new] for key, _, new in differences(proposal.fields, current)}
        new_sources = [s for s in proposal.fields.get("source", []) if s not in current["source"]]
        if new_sources:
            changes["source"] = current["source"] + new_sources
        return await self._newsroom.edit(
            proposal.update_of, changes, actor_id, actor_name, from_proposal=proposal_id
        )

    async def _already_decided(self, proposal_id: int, actor_id: int) -> str:
        proposal = await self.proposal(proposal_id)
        by = "you" if proposal.decided_by == actor_id else f"user {proposal.decided_by}"
        return f"P{proposal_id} was already {proposal.status.value} by {by}."

    async def remember_message(self, proposal_id: int, chat_id: int, message_id: int) -> None:
        async with self._db.transaction() as conn:
            await store.remember_proposal_message(conn, proposal_id, chat_id, message_id)

    async def messages_of(self, proposal_id: int) -> list[tuple[int, int]]:
        return await store.proposal_messages(self._db.reader, proposal_id)

    # Who receives proposals

    async def set_queue(self, user_id: int, on: bool) -> None:
        async with self._db.transaction() as conn:
            await store.set_queue_opt_out(conn, user_id, not on, self._clock.now())

    async def opted_out(self) -> frozenset[int]:
        return await store.queue_opt_outs(self._db.reader)


def _feed_url(address: str) -> str:
    address = address.strip()
    if address.casefold() == "example":
        return EXAMPLE_FEED_URL
    parsed = urlparse(address)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise IntakeError(
            "Give the feed's http or https address, e.g. /feeds add https://example.org/rss "
            "(or /feeds add example for the bundled example feed)."
        )
    return address
