"""What the intake keeps: feeds, the items they delivered, and the proposals made of them."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from bot.models import UtcDatetime


class Feed(BaseModel):
    """A feed and how reading it went, with the counts /feeds shows."""

    id: int
    url: str
    from_config: bool
    title: str
    etag: str | None
    last_modified: str | None
    last_fetch_at: UtcDatetime | None
    last_new_item_at: UtcDatetime | None
    last_error: str | None
    failures: int
    next_fetch_at: UtcDatetime
    proposed: int = 0
    skipped: int = 0

    @property
    def name(self) -> str:
        return self.title or self.url


class SkippedItem(BaseModel):
    title: str
    link: str | None
    seen_at: UtcDatetime
    reason: str


class ProposalStatus(StrEnum):
    PENDING = "pending"
    USED = "used"
    EDITED = "edited"
    APPLIED = "applied"
    DISCARDED = "discarded"


class Proposal(BaseModel):
    """A draft proposed from a feed item; nothing of it is published until an admin says so."""

    id: int
    feed_id: int | None
    link: str | None
    fields: dict[str, list[str]]
    notes: list[str]
    occurred_at: UtcDatetime
    country: str
    admin1: str
    location: str
    update_of: int | None
    update_of_proposal: int | None
    status: ProposalStatus
    decided_by: int | None
    decided_at: UtcDatetime | None
    created_at: UtcDatetime

    @property
    def title(self) -> str:
        return self.fields.get("title", [""])[0]
