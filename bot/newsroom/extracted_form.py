"""A proposal read from a news report, as the /post form an admin checks and sends."""

from __future__ import annotations

from bot.models import direction_from_actors
from bot.newsroom.extractor import ReportProposal
from bot.newsroom.forms import DIRECTION_FORM_WORDS, Fields


def fields_from_proposal(proposal: ReportProposal) -> Fields:
    """Every key the admin must fill is present, empty where the report did not say."""
    place = proposal.place
    fields: Fields = {
        "title": [proposal.title],
        "occurred": [proposal.occurred.isoformat() if proposal.occurred else ""],
        "country": [proposal.country or ""],
        "region": [place.admin1 if place else ""],
        "location": [place.name if place else ""],
        "type": [proposal.event_type or ""],
        "subtype": [proposal.sub_event_type or ""],
        "perpetrator": [proposal.perpetrator or ""],
        "target": [proposal.target or ""],
        "claimed_by": [proposal.claimed_by or "none"],
        "direction": [
            DIRECTION_FORM_WORDS[
                direction_from_actors(proposal.perpetrator or "", proposal.target or "")
            ]
        ],
        "killed": [str(proposal.killed) if proposal.killed else ""],
        "injured": [str(proposal.injured) if proposal.injured else ""],
        "severity": [str(proposal.severity)],
        "source": [""],
        "tags": [", ".join(tag for tag in (proposal.weapon, proposal.country) if tag)],
        "summary": [proposal.summary],
    }
    return fields
