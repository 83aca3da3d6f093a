"""The domain: incidents, their sources and casualty counts, and troop figures.

Field names follow the ACLED conflict-event data model where one exists
(event_type, sub_event_type, admin1, location, actor names), so that ACLED
exports map onto incidents column for column.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a timezone")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_require_utc)]
NonEmptyText = Annotated[str, Field(min_length=1, max_length=300)]


class Qualifier(StrEnum):
    """How sure a reported count is."""

    EXACT = "exact"
    AT_LEAST = "at least"
    ABOUT = "about"
    NEARLY = "nearly"


class Direction(StrEnum):
    """Who an incident was aimed at, as far as US and coalition forces are concerned.

    Families and analysts follow attacks on US/coalition forces; strikes by them are
    a different kind of news (a response), so alerts and the tension index treat them apart.
    """

    ON_COALITION = "on_coalition"
    BY_COALITION = "by_coalition"
    OTHER = "other"


# Actor names that mean US or coalition forces, as written in forms, reports and ACLED's
# actor columns ("Military Forces of the United States (2021-)", "US-led coalition").
_COALITION_ACTOR = re.compile(
    r"\b(?:US|U\.S\.|USA)\b|(?i:\bUnited States\b|\bAmerican\b|\bcoalition\b|"
    r"\bCENTCOM\b|\bCentral Command\b|\bInherent Resolve\b|\bUnited Kingdom\b|\bBritish\b|"
    r"\bUK\b|\bU\.K\.|\bFrench\b|\bFrance\b)"
)


def direction_from_actors(perpetrator: str, target: str) -> Direction:
    """The direction the actor names suggest: an attack on US/coalition forces when they
    are the target, a strike by them when they carried it out, other otherwise."""
    if _COALITION_ACTOR.search(target):
        return Direction.ON_COALITION
    if _COALITION_ACTOR.search(perpetrator):
        return Direction.BY_COALITION
    return Direction.OTHER


class Status(StrEnum):
    PUBLISHED = "published"
    RETRACTED = "retracted"


class Count(BaseModel):
    """A reported number with its qualifier: "at least 5", "about 900"."""

    model_config = ConfigDict(frozen=True)

    value: int = Field(ge=0)
    qualifier: Qualifier = Qualifier.EXACT

    def __str__(self) -> str:
        if self.qualifier is Qualifier.EXACT:
            return f"{self.value:,}"
        return f"{self.qualifier.value} {self.value:,}"


class Source(BaseModel):
    """Where a report came from; ACLED rows, for one, name an outlet without a link."""

    model_config = ConfigDict(frozen=True)

    name: NonEmptyText
    url: AnyHttpUrl | None = None


class IncidentContent(BaseModel):
    """Everything an incident carries before storage gives it an id."""

    model_config = ConfigDict(str_strip_whitespace=True)

    external_id: str | None = Field(
        default=None,
        max_length=200,
        description="Stable id from the origin (sample set, ACLED event id): "
        "storing the same one twice adds nothing.",
    )
    occurred_at: UtcDatetime
    reported_at: UtcDatetime | None = None
    title: NonEmptyText
    summary: str = Field(default="", max_length=3000)
    event_type: NonEmptyText
    sub_event_type: str = Field(default="", max_length=200)
    country: NonEmptyText
    admin1: str = Field(default="", max_length=200)
    location: NonEmptyText
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    perpetrator: str = Field(default="", max_length=300)
    target: str = Field(default="", max_length=300)
    claimed_by: str | None = Field(
        default=None, max_length=300, description="None when nobody has claimed responsibility."
    )
    direction: Direction = Field(
        default=Direction.OTHER,
        description="On US/coalition forces, by them, or other; from the actors if not given.",
    )
    killed: Count | None = None
    injured: Count | None = None
    severity: int = Field(ge=1, le=5)
    sources: list[Source] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _direction_from_actors(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("direction") is None:
            return data | {
                "direction": direction_from_actors(
                    str(data.get("perpetrator") or ""), str(data.get("target") or "")
                )
            }
        return data

    @field_validator("tags")
    @classmethod
    def _normalise_tags(cls, tags: list[str]) -> list[str]:
        cleaned = (tag.strip().lower() for tag in tags)
        return sorted({tag for tag in cleaned if tag})

    @model_validator(mode="after")
    def _coordinates_come_in_pairs(self) -> IncidentContent:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude must be given together")
        return self


class Incident(IncidentContent):
    id: int
    status: Status = Status.PUBLISHED
    retraction_reason: str | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @property
    def is_retracted(self) -> bool:
        return self.status is Status.RETRACTED


class IncidentPage(BaseModel):
    """One page of a newest-first listing, with the cursor of the next (older) page."""

    incidents: list[Incident]
    older_cursor: int | None = Field(
        default=None, description="Id of the last incident shown, when older ones exist."
    )


class TroopFigureContent(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    force: NonEmptyText = Field(description="The deploying force, e.g. 'United States'.")
    host_country: NonEmptyText
    count: Count
    as_of: date
    source: Source


class TroopFigure(TroopFigureContent):
    id: int


class TroopSummary(BaseModel):
    """The latest figure for one force in one host country, and the one before it."""

    latest: TroopFigure
    previous: TroopFigure | None = None

    @property
    def change(self) -> int | None:
        if self.previous is None:
            return None
        return self.latest.count.value - self.previous.count.value


class AuditEntry(BaseModel):
    """One admin action, or one refused attempt at one."""

    id: int
    at: UtcDatetime
    actor_id: int
    action: str
    subject: str
    detail: dict[str, Any]


class IncidentChange(BaseModel):
    """What an edit or retraction changed, kept so corrections can follow it."""

    before: Incident
    after: Incident
    fields: list[str]


class DraftOrigin(StrEnum):
    FORM = "form"
    GUIDED = "guided"
    ARTICLE = "article"  # proposed from a news feed's item


class DraftStatus(StrEnum):
    OPEN = "open"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class Draft(BaseModel):
    """An incident being written with /post, not yet published: its form's fields as typed.

    The preview calls it "Draft N"; the /draft command does not make one, it proposes the
    form from a report for the admin to send as /post.
    """

    id: int
    owner_id: int
    origin: DraftOrigin
    fields: dict[str, list[str]]
    status: DraftStatus
    incident_id: int | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class DigestFrequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    OFF = "off"


DEFAULT_ALERT_DIRECTIONS = (Direction.ON_COALITION, Direction.OTHER)


class Subscription(BaseModel):
    """One chat's choices: where, how severe for instant alerts, when the digest comes."""

    chat_id: int
    chat_type: str
    active: bool = True
    inactive_reason: str | None = None
    regions: list[str] = Field(
        default_factory=list,
        description="Region groupings or countries chosen; empty means everywhere.",
    )
    min_severity: int | None = Field(default=3, ge=1, le=5, description="None: no instant alerts.")
    directions: list[Direction] = Field(
        default_factory=lambda: list(DEFAULT_ALERT_DIRECTIONS),
        min_length=1,
        description="Which directions of incident alert; strikes by US/coalition are opt-in.",
    )
    digest: DigestFrequency = DigestFrequency.DAILY
    digest_weekday: int = Field(default=0, ge=0, le=6, description="Monday is 0.")
    digest_time: time = time(8, 0)
    timezone: str = "UTC"
    quiet_start: time | None = None
    quiet_end: time | None = None
    skip_empty_digest: bool = False
    digest_chart: bool = True
    last_digest_at: UtcDatetime | None = None
    next_digest_at: UtcDatetime | None = None

    @model_validator(mode="after")
    def _quiet_hours_come_in_pairs(self) -> Subscription:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet hours need both a start and an end")
        return self


class OutboxKind(StrEnum):
    ALERT = "alert"
    CORRECTION = "correction"
    DIGEST = "digest"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"


class OutgoingMessage(BaseModel):
    """A message as the delivery engine sends it: HTML text, or a photo with a caption."""

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    html: str
    photo_png: bytes | None = None
    photo_file_id: str | None = Field(
        default=None, description="A photo Telegram already has, sent instead of bytes."
    )
    chart_key: str | None = Field(
        default=None,
        description="A stored chart to send as the photo, html its caption; resolved when sent.",
    )
    buttons: list[list[tuple[str, str]]] = Field(
        default_factory=list, description="Rows of (label, callback_data) inline buttons."
    )


class OutboxItem(BaseModel):
    id: int
    chat_id: int
    kind: OutboxKind
    dedupe_key: str
    incident_id: int | None
    payload: OutgoingMessage | None
    priority: int
    status: OutboxStatus
    not_before: UtcDatetime
    attempts: int
    last_error: str | None
