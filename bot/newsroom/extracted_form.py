"""A proposal read from a news report, as the /post form an admin checks and sends."""

from __future__ import annotations

from bot.models import Verification
from bot.newsroom.extractor import ReportProposal
from bot.newsroom.forms import DIRECTION_FORM_WORDS, Fields, count_field

NOT_REPORTED = "not reported"


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
        "claimed_by": [_claim(proposal)],
        "direction": [DIRECTION_FORM_WORDS[proposal.direction]],
        # "None" only when the report says so; a count it does not give is not reported.
        "killed": [count_field(proposal.killed) or NOT_REPORTED],
        "injured": [count_field(proposal.injured) or NOT_REPORTED],
        # "claimed" (only the perpetrator's word) or "disputed"; "reported" goes without saying.
        "verification": [
            "" if proposal.verification is Verification.REPORTED else proposal.verification.value
        ],
        "severity": [str(proposal.severity)],
        "source": [""],
        "tags": [", ".join(tag for tag in (proposal.weapon, proposal.country) if tag)],
        "summary": [proposal.summary],
    }
    return fields


def _claim(proposal: ReportProposal) -> str:
    if proposal.claimed_by:
        return proposal.claimed_by
    return "no group has claimed" if proposal.claim_status == "none" else NOT_REPORTED
