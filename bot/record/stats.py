"""The numbers behind /stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, tzinfo

from bot.clock import Clock
from storage import outbox
from storage.db import Database
from storage.sample import SampleRows, count_sample
from storage.subscribers import subscribers_by_region


@dataclass(frozen=True)
class DeliveryStats:
    since: datetime
    subscribers_by_region: dict[str, int]
    sent: dict[str, int]  # by outbox kind: alert, correction, digest (a digest's text)
    digest_charts: int  # the charts that followed their digests, each a message of its own
    failures: dict[str, int]
    dropped: dict[str, int]
    outbox_depth: int
    sample: SampleRows


async def delivery_stats(db: Database, clock: Clock, zone: tzinfo) -> DeliveryStats:
    """Today's figures, "today" starting at midnight in the bot's timezone."""
    midnight = datetime.combine(clock.now().astimezone(zone).date(), time(0), tzinfo=zone)
    counts = await outbox.settled_since(db.reader, midnight)
    sent = dict(counts.sent)
    charts = sent.pop(outbox.DIGEST_CHART, 0)
    return DeliveryStats(
        since=midnight,
        subscribers_by_region=await subscribers_by_region(db.reader),
        sent=sent,
        digest_charts=charts,
        failures=counts.failures,
        dropped=counts.dropped,
        outbox_depth=await outbox.depth(db.reader),
        sample=await count_sample(db.reader),
    )
