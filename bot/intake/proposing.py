"""From a feed item to a proposed draft, or to the reason it was not proposed.

An item is proposed when the article extractor reads it as an attack, a strike or a
clash (an event type) at a place in the covered countries, and its date is recent.
The proposal is the /post form the extractor fills, with the item's own title, the
item's link as the source, and the date the text gives (else the item's date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot.intake.items import FeedItem
from bot.newsroom.extracted_form import fields_from_proposal
from bot.newsroom.extractor import ReportProposal, propose_incident
from bot.newsroom.forms import NONE_WORDS, NOT_REPORTED_WORDS, Fields
from bot.regions import REGIONS

COVERED_COUNTRIES = frozenset(country for group in REGIONS.values() for country in group)

# Keys in which a later report of the same attack may tell more, and Apply may change.
UPDATABLE_KEYS = ("killed", "injured", "claimed_by", "perpetrator", "severity")


@dataclass(frozen=True)
class Proposed:
    fields: Fields
    notes: tuple[str, ...]
    occurred_at: datetime
    country: str
    admin1: str
    location: str


@dataclass(frozen=True)
class Skipped:
    reason: str


def assess(
    item: FeedItem, *, source_name: str, now: datetime, max_age: timedelta, zone: tzinfo
) -> Proposed | Skipped:
    if item.published is not None and item.published < now - max_age:
        hours = max_age.total_seconds() / 3600
        dated = item.published.astimezone(zone)
        return Skipped(f"older than {hours:g} hours (dated {dated.day} {dated:%b %Y})")
    reported = (item.published or now).astimezone(zone)
    article = propose_incident(f"{item.title}.\n\n{item.text}", published=reported.date())
    problem = _not_an_incident(article)
    if problem:
        return Skipped(problem)
    assert article.country is not None and article.place is not None
    occurred = _occurred(article.occurred, reported, zone)
    fields = fields_from_proposal(article)
    fields["title"] = [item.title or fields["title"][0]]
    fields["occurred"] = [occurred.astimezone(zone).strftime("%Y-%m-%d %H:%M")]
    fields["source"] = [f"{source_name} {item.link}" if _is_web(item.link) else source_name]
    return Proposed(
        fields=fields,
        notes=article.notes,
        occurred_at=occurred,
        country=article.country,
        admin1=article.place.admin1,
        location=article.place.name,
    )


def _not_an_incident(article: ReportProposal) -> str | None:
    if article.country is None:
        return "names no place in the covered countries"
    if article.country not in COVERED_COUNTRIES:
        return f"in {article.country}, outside the covered countries"
    if article.event_type is None:
        return "does not read as an incident (no attack, strike, weapon or clash)"
    return None


def _occurred(in_text: date | None, reported: datetime, zone: tzinfo) -> datetime:
    """The date the text gives; the item's own time when it is that same day."""
    if in_text is None or in_text == reported.date():
        return reported
    return datetime.combine(in_text, time(0, 0), zone)


def _is_web(link: str | None) -> bool:
    return link is not None and link.startswith(("http://", "https://"))


def differences(proposal: Fields, current: Fields) -> list[tuple[str, str, str]]:
    """(key, now, in the new report) for each updatable field the new report tells otherwise.

    A field the new report leaves empty, or a claim it does not mention, is no news. The
    severity the extractor gives follows the toll: a report without one (severity 2 by
    the rule) says nothing about it, and a report never lowers it.
    """
    found = []
    tells_a_toll = any(_told(proposal, key) for key in ("killed", "injured"))
    for key in UPDATABLE_KEYS:
        new = (proposal.get(key) or [""])[0].strip()
        old = (current.get(key) or [""])[0].strip()
        said = new.casefold()
        # "Not reported" tells nothing; a report that no one claimed it is no news either.
        if said in NOT_REPORTED_WORDS or (key == "claimed_by" and said in NONE_WORDS):
            continue
        if key == "severity" and not (tells_a_toll and _higher(new, old)):
            continue
        if new.casefold() != old.casefold():
            found.append((key, old or "—", new))
    return found


def _told(fields: Fields, key: str) -> bool:
    said = (fields.get(key) or [""])[0].strip().casefold()
    return said not in NOT_REPORTED_WORDS


def _higher(new: str, old: str) -> bool:
    return new.isdigit() and (not old.isdigit() or int(new) > int(old))
