"""The domain: incidents, their sources and casualty counts, and troop figures.

Field names follow the ACLED conflict-event data model where one exists
(event_type, sub_event_type, admin1, location, actor names), so that ACLED
exports map onto incidents column for column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.numbers import SQLITE_MAX_INTEGER

# The ranges every value must lie in, wherever it comes from (a form, /edit, an import).
# Each violation is reported as one line naming the field; nothing outside them is stored.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)  # on the calendar of whoever gives the time
FUTURE_ALLOWANCE = timedelta(days=1)  # a report from a time zone ahead, or a typo caught late
MAX_CASUALTIES = 100_000
SUMMARY_LIMIT = 3000  # characters
# Validation context keys: the present moment, from the injectable clock, and the time
# zone the times were given in (the bot's, for a form; UTC where none is said).
NOW = "now"
ZONE = "zone"


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a timezone")
    return value.astimezone(UTC)


def check_moment(value: datetime, now: datetime, zone: tzinfo = UTC) -> None:
    """A reported time lies between 1900-01-01 and a day after `now`, both as read in
    `zone`, the time zone it was given in, and is told back as it was given."""
    latest = now + FUTURE_ALLOWANCE
    local = value.astimezone(zone)
    if local.replace(tzinfo=None) < EARLIEST.replace(tzinfo=None) or value > latest:
        raise ValueError(
            f"must lie between 1900-01-01 and {latest.astimezone(zone):%Y-%m-%d %H:%M} "
            f"{zone} (a day from now); got {local:%Y-%m-%d %H:%M}"
        )


def _now_of(info: ValidationInfo) -> datetime | None:
    context = info.context or {}
    now = context.get(NOW)
    return now if isinstance(now, datetime) else None


def _zone_of(info: ValidationInfo) -> tzinfo:
    zone = (info.context or {}).get(ZONE)
    return zone if isinstance(zone, tzinfo) else UTC


UtcDatetime = Annotated[datetime, AfterValidator(_require_utc)]
NonEmptyText = Annotated[str, Field(min_length=1, max_length=300)]


class Qualifier(StrEnum):
    """How sure a reported count is."""

    EXACT = "exact"
    AT_LEAST = "at least"
    MORE_THAN = "more than"
    ABOUT = "about"
    NEARLY = "nearly"
    UP_TO = "up to"


class Verification(StrEnum):
    """How far an incident is established."""

    CONFIRMED = "confirmed"  # by an official, or by two independent sources
    REPORTED = "reported"  # by one source
    CLAIMED = "claimed"  # only the perpetrator's claim
    DISPUTED = "disputed"  # sources contradict each other


# The wordings before a number that an admin's form and a news report read alike; each
# reader adds its own (a form's "exactly", a report's "no fewer than", ...).
COUNT_WORDINGS: Mapping[str, Qualifier] = MappingProxyType(
    {
        "at least": Qualifier.AT_LEAST,
        "about": Qualifier.ABOUT,
        "around": Qualifier.ABOUT,
        "approximately": Qualifier.ABOUT,
        "nearly": Qualifier.NEARLY,
    }
)
# English day names in date.weekday() order (Subscription.digest_weekday indexes them).
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


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

    value: int = Field(ge=0, le=SQLITE_MAX_INTEGER)
    qualifier: Qualifier = Qualifier.EXACT

    @property
    def is_none(self) -> bool:
        """Reported as none: exactly 0."""
        return self.value == 0 and self.qualifier is Qualifier.EXACT

    def __str__(self) -> str:
        if self.qualifier is Qualifier.EXACT:
            return f"{self.value:,}"
        return f"{self.qualifier.value} {self.value:,}"


# A word that is a link of some scheme ("ftp://…", "javascript:alert(1)", "mailto:…").
_SCHEMED_WORD = re.compile(r"^([a-z][a-z0-9+.-]*):\S", re.IGNORECASE)
WEB_SCHEMES = frozenset({"http", "https"})


def not_a_web_link(word: str) -> str | None:
    """Why `word` cannot be part of a source — a link whose scheme is not http(s) — or None.

    One rule for every way in (the form, /edit, the guided /post, import): a source is a
    name, optionally with its http(s) link, and nothing link-like is kept as a name.
    """
    match = _SCHEMED_WORD.match(word)
    if match is None or match.group(1).lower() in WEB_SCHEMES:
        return None
    return (
        f"“{word}” is not a web link: give a source as a name, optionally with its http(s) "
        "link, e.g. “Reuters https://www.reuters.com/…”"
    )


class Source(BaseModel):
    """Where a report came from; ACLED rows, for one, name an outlet without a link."""

    model_config = ConfigDict(frozen=True)

    name: NonEmptyText
    url: AnyHttpUrl | None = None

    @field_validator("name")
    @classmethod
    def _no_other_links(cls, name: str) -> str:
        for word in name.split():
            if problem := not_a_web_link(word):
                raise ValueError(problem)
        return name


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
    summary: str = Field(default="", max_length=SUMMARY_LIMIT)
    event_type: NonEmptyText
    sub_event_type: str = Field(default="", max_length=200)
    country: NonEmptyText
    admin1: str = Field(default="", max_length=200)
    location: NonEmptyText
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    perpetrator: str = Field(default="", max_length=300, description="Empty: not reported.")
    no_perpetrator: bool = Field(default=False, description="Reported as nobody.")
    target: str = Field(default="", max_length=300)
    claimed_by: str | None = Field(
        default=None, max_length=300, description="None: no claim recorded."
    )
    direction: Direction = Field(
        default=Direction.OTHER,
        description="On US/coalition forces, by them, or other; from the actors if not given.",
    )
    no_claim: bool = Field(default=False, description="Reported that no group has claimed it.")
    killed: Count | None = Field(default=None, description="None: not reported.")
    injured: Count | None = Field(default=None, description="None: not reported.")
    severity: int = Field(ge=1, le=5)
    verification: Verification = Verification.REPORTED
    confirmed_by: str = Field(default="", max_length=300)
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

    @field_validator("occurred_at", "reported_at")
    @classmethod
    def _within_the_record(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        # Checked where a value comes in (the caller passes the clock's now); what is
        # already stored is read as it is.
        now = _now_of(info)
        if value is not None and now is not None:
            check_moment(value, now, _zone_of(info))
        return value

    @field_validator("killed", "injured")
    @classmethod
    def _casualties_in_range(cls, value: Count | None) -> Count | None:
        if value is not None and value.value > MAX_CASUALTIES:
            raise ValueError(f"must be from 0 to {MAX_CASUALTIES:,}; got {value.value:,}")
        return value

    @model_validator(mode="after")
    def _coordinates_come_in_pairs(self) -> IncidentContent:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude must be given together")
        if self.no_claim and self.claimed_by:
            raise ValueError("a claim cannot be both made and reported as none")
        if self.no_perpetrator and self.perpetrator:
            raise ValueError("a perpetrator cannot be both named and reported as none")
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


class SearchResults(BaseModel):
    """The newest incidents matching a search, and how many match in all."""

    incidents: list[Incident]
    total: int = Field(description="How many match: exact when `exact`, else an estimate.")
    exact: bool


class IncidentPage(BaseModel):
    """One page of a newest-first listing, with the cursor of the next (older) page."""

    incidents: list[Incident]
    older_cursor: int | None = Field(
        default=None, description="Id of the last incident shown, when older ones exist."
    )


class TroopKind(StrEnum):
    """What kind of figure a troop count is: figures of different kinds do not subtract."""

    OFFICIAL = "official"  # announced by the force or government
    ESTIMATE = "estimate"  # an outside or unofficial estimate
    DISCLOSURE = "disclosure"  # a later disclosure of what the number really was
    REPORTED = "reported"  # as reported in the press


class TroopFigureContent(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    force: NonEmptyText = Field(description="The deploying force, e.g. 'United States'.")
    host_country: NonEmptyText
    count: Count
    kind: TroopKind = TroopKind.REPORTED
    as_of: date
    source: Source

    @field_validator("as_of")
    @classmethod
    def _within_the_record(cls, value: date, info: ValidationInfo) -> date:
        now = _now_of(info)
        if now is not None:
            check_moment(datetime.combine(value, time(0, 0), UTC), now)
        return value


class TroopFigure(TroopFigureContent):
    id: int


class TroopSummary(BaseModel):
    """The latest figure for one force in one host country, and the one before it."""

    latest: TroopFigure
    previous: TroopFigure | None = None

    @property
    def change(self) -> int | None:
        """The difference, only when it is known: both figures exact and of one kind."""
        if self.previous is None:
            return None
        before, after = self.previous, self.latest
        comparable = (
            before.kind is after.kind
            and before.count.qualifier is Qualifier.EXACT
            and after.count.qualifier is Qualifier.EXACT
        )
        return after.count.value - before.count.value if comparable else None


class AuditEntry(BaseModel):
    """One admin action, or one refused attempt at one."""

    id: int
    at: UtcDatetime
    actor_id: int
    action: str
    subject: str
    detail: dict[str, Any]


class IncidentVersion(BaseModel):
    """One change to an incident: how it was before, how it was after, who, when."""

    incident_id: int
    version: int
    change: str  # "edit" | "retract"
    changed_by: int
    changed_at: UtcDatetime
    before: Incident
    after: Incident


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


class DraftPurpose(StrEnum):
    """What a draft does once approved: publish a new incident, or change a published one
    (a correction or retraction waiting for a second approval under the two-person rule)."""

    PUBLISH = "publish"
    EDIT = "edit"
    RETRACT = "retract"


class Draft(BaseModel):
    """A change to the record waiting for its admin's Publish (and, under the two-person
    rule, a second admin's approval): a new incident's form fields as typed, or an edit's
    changed lines, or a retraction's reason (fields["reason"]).

    The preview calls it "Draft N". /draft keeps the form it proposes as a draft whose
    preview "Use this draft" opens once (previewed_at).
    """

    id: int
    owner_id: int
    origin: DraftOrigin
    fields: dict[str, list[str]]
    status: DraftStatus
    incident_id: int | None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    purpose: DraftPurpose = DraftPurpose.PUBLISH
    changes_incident: int | None = None  # the incident an edit or retraction changes
    from_proposal: int | None = None  # the feed proposal whose Apply made it
    previewed_at: UtcDatetime | None = None


class DigestFrequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    OFF = "off"


DEFAULT_ALERT_DIRECTIONS = (Direction.ON_COALITION, Direction.OTHER)
DEFAULT_SITE_RADIUS_KM = 25.0
MIN_WATCH_RADIUS_KM = 1.0
MAX_WATCH_RADIUS_KM = 200.0


class Watch(BaseModel):
    """A site a chat watches with /watch: incidents there or within its radius alert."""

    model_config = ConfigDict(frozen=True)

    site: NonEmptyText
    radius_km: float = Field(
        default=DEFAULT_SITE_RADIUS_KM, ge=MIN_WATCH_RADIUS_KM, le=MAX_WATCH_RADIUS_KM
    )


class Subscription(BaseModel):
    """One chat's choices: where, how severe for instant alerts, when the digest comes."""

    chat_id: int
    chat_type: str
    active: bool = True
    inactive_reason: str | None = None
    everywhere: bool = Field(
        default=False,
        description="Every place, whatever the watches (regions are then empty). Without "
        "it, a chat with no regions and no watches follows no place. Left out, it is "
        "true for a subscription that names no place.",
    )
    regions: list[str] = Field(
        default_factory=list,
        description="Regions, countries, provinces or sites chosen; empty with everywhere.",
    )
    watches: list[Watch] = Field(
        default_factory=list, description="Sites watched with /watch, each with its radius."
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

    @model_validator(mode="before")
    @classmethod
    def _everywhere_unless_places_are_named(cls, data: Any) -> Any:
        if isinstance(data, dict) and "everywhere" not in data:
            return {**data, "everywhere": not data.get("regions") and not data.get("watches")}
        return data

    @model_validator(mode="after")
    def _everywhere_has_no_regions(self) -> Subscription:
        if self.everywhere and self.regions:
            raise ValueError("everywhere covers every region: choose one or the other")
        return self

    @property
    def follows_nothing(self) -> bool:
        """No place chosen at all: no alerts and no digest until the chat chooses some."""
        return not (self.everywhere or self.regions or self.watches)

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
