from __future__ import annotations

from bot.clock import ManualClock
from bot.models import Direction, Subscription
from storage.db import Database
from storage.incidents import insert_incident
from storage.outbox import enqueue_alerts, matching_subscribers
from storage.subscribers import save_subscription
from tests.factories import incident_content


async def subscribe(db: Database, clock: ManualClock, chat_id: int, regions: list[str],
                    countries: list[str], **fields: object) -> None:  # fmt: skip
    subscription = Subscription.model_validate(
        {"chat_id": chat_id, "chat_type": "private", "regions": regions, **fields}
    )
    async with db.transaction() as conn:
        await save_subscription(conn, subscription, countries, clock.now())


async def test_alerts_match_country_everywhere_and_severity_and_are_enqueued_once(
    db: Database, clock: ManualClock
) -> None:
    await subscribe(db, clock, 1, [], [], min_severity=3)
    await subscribe(db, clock, 2, ["Iraq"], ["Iraq"], min_severity=4)
    await subscribe(db, clock, 3, ["Syria"], ["Syria"], min_severity=1)
    await subscribe(db, clock, 4, ["Iraq"], ["Iraq"], min_severity=1, active=False)
    await subscribe(db, clock, 5, ["Levant"], ["Lebanon", "Jordan"], min_severity=None)
    await subscribe(db, clock, 6, ["Iraq", "Syria"], ["Iraq", "Syria"], min_severity=2)

    assert sorted(await matching_subscribers(db.reader, "Iraq", 4)) == [1, 2, 6]
    assert sorted(await matching_subscribers(db.reader, "iraq", 3)) == [1, 6]
    assert sorted(await matching_subscribers(db.reader, "Syria", 1)) == [3]
    assert await matching_subscribers(db.reader, "Lebanon", 5) == [1]

    async with db.transaction() as conn:
        incident_id = await insert_incident(conn, incident_content(), clock.now())
        assert incident_id is not None
        assert (
            await enqueue_alerts(conn, incident_id, "Iraq", 4, Direction.ON_COALITION, clock.now())
            == 3
        )
        assert (
            await enqueue_alerts(conn, incident_id, "Iraq", 4, Direction.ON_COALITION, clock.now())
            == 0
        )
