"""The intake end to end: a news site on 127.0.0.1 serves feeds; the bot proposes, admins decide.

Nothing reaches subscribers before an admin presses Publish; a feed read again, or after
a restart, proposes nothing twice; a later report of the same attack is flagged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import IntakeSettings, NewsroomSettings, Settings
from bot.context import IncidentBotApp, services_of
from bot.intake.items import TITLE_LIMIT, parse_feed
from bot.lifecycle import polling
from bot.record.sample import load_sample
from bot.sandbox.fake_api import SentMessage
from storage.db import Database
from tests.delivery_helpers import eventually
from tests.feed_server import FeedServer, Served, atom, atom_entry, feed_server, rss, rss_item
from tests.people import Person
from tests.test_long_and_double import everything_said

ERBIL_FIRST = rss_item(
    "iraq-desk-1001",
    "Drones target Erbil Air Base",
    "Wed, 15 Jan 2025 08:00:00 GMT",
    "Two drones targeted Erbil Air Base on Wednesday morning, injuring three coalition "
    "soldiers, officials said. No group claimed responsibility.",
    "https://iraq-desk.example.org/erbil-drones",
)
BUDGET = rss_item(
    "iraq-desk-1002",
    "Parliament passes the budget",
    "Wed, 15 Jan 2025 09:00:00 GMT",
    "Lawmakers in Baghdad approved the federal budget after a long session.",
    "https://iraq-desk.example.org/budget",
)
ERBIL_SECOND = rss_item(
    "iraq-desk-1003",
    "Toll rises after drone attack on Erbil base",
    "Wed, 15 Jan 2025 13:00:00 GMT",
    "Five coalition soldiers were injured in Wednesday's drone attack on Erbil Air Base, "
    "officials said, up from three reported earlier.",
    "https://iraq-desk.example.org/erbil-toll",
)
CONOCO = atom_entry(
    "urn:syria-desk:2001",
    "Rockets hit Conoco gas field",
    "2025-01-15T07:00:00Z",
    "Rockets struck the Conoco Gas Field in Deir ez-Zor on Wednesday. No casualties were reported.",
    "https://syria-desk.example.org/conoco",
)
OLD_TANF = atom_entry(
    "urn:syria-desk:1999",
    "Drone shot down near Al-Tanf",
    "2025-01-10T07:00:00Z",
    "A drone was shot down near the Al-Tanf Garrison on Friday.",
    "https://syria-desk.example.org/tanf",
)


@pytest.fixture
async def site() -> AsyncIterator[FeedServer]:
    async with feed_server() as server:
        yield server


def with_feeds(settings: Settings, *urls: str) -> Settings:
    intake = IntakeSettings.model_validate(
        # The news site of these tests is on 127.0.0.1.
        {
            "feeds": list(urls),
            "poll_seconds": 1,
            "timeout_seconds": 1,
            "allow_private_addresses": True,
        }
    )
    return settings.model_copy(update={"intake": intake})


async def proposals_to(person: Person, count: int) -> dict[str, SentMessage]:
    """The next `count` proposals the person receives, by title."""
    found = {}
    for _ in range(count):
        message = await person.next_reply()
        assert message.text.startswith("📥 Proposed draft P"), message.text
        title = message.text.split("\n\n")[1].split("\n")[0]
        found[title] = message
    return found


async def incident_count(app: IncidentBotApp) -> int:
    async with services_of(app).db.reader.execute("SELECT count(*) FROM incidents") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def read_again(app: IncidentBotApp, clock: ManualClock, served: Served) -> None:
    """Let the feeds fall due and wait until the server has been asked once more."""
    asked = len(served.requests)
    clock.advance(timedelta(seconds=2))

    async def asked_again() -> bool:
        return len(served.requests) > asked

    await eventually(asked_again)

    async def recorded() -> bool:
        feeds = await services_of(app).intake.feeds()
        return all(f.last_fetch_at == clock.now() for f in feeds)

    await eventually(recorded)


async def test_feeds_become_proposals_and_nothing_is_published_without_publish(
    settings: Settings, clock: ManualClock, owner: Person, alice: Person, site: FeedServer
) -> None:
    iraq = Served(rss("Iraq Desk", [ERBIL_FIRST, BUDGET]), etag='"v1"')
    syria = Served(atom("Syria Desk", [CONOCO, OLD_TANF]), "application/atom+xml")
    settings = with_feeds(settings, site.serve("/iraq.rss", iraq), site.serve("/syria", syria))
    async with Database(settings.storage.path) as database:
        await load_sample(database, clock)
    app = build_application(settings, clock)
    async with polling(app, poll_timeout=1):
        before = await incident_count(app)
        proposals = await proposals_to(owner, 2)
        assert set(proposals) == {"Drones target Erbil Air Base", "Rockets hit Conoco gas field"}
        erbil = proposals["Drones target Erbil Air Base"]
        assert erbil.button_texts == ["Use", "Edit", "Discard"]
        assert "Where: Erbil Air Base, Erbil, Iraq" in erbil.text
        assert "Casualties: 3 injured" in erbil.text
        assert 'href="https://iraq-desk.example.org/erbil-drones"' in (erbil.html or "")
        assert iraq.requests[0]["User-Agent"].startswith("incident-bot/")

        listing = await owner.says("/feeds")
        assert "1. Iraq Desk" in listing.text and "2. Syria Desk" in listing.text
        assert "Proposed 1 · skipped 1" in listing.text
        skipped = await owner.says("/feeds 2")
        assert "Drone shot down near Al-Tanf — older than 48 hours" in skipped.text
        skipped = await owner.says("/feeds 1")
        assert "Parliament passes the budget — does not read as an incident" in skipped.text

        # Read again: the Iraq feed answers 304, the Atom feed the same items; nothing new.
        await read_again(app, clock, iraq)
        assert iraq.requests[-1].get("If-None-Match") == '"v1"'
        queue = await owner.says("/queue")
        assert queue.text.startswith("Review queue — 2 waiting, oldest first")

        # Use opens the normal preview; only Publish publishes.
        preview = await owner.presses(erbil, "Use")
        assert preview.text.startswith("Draft ") and preview.button_texts == [
            "Publish", "Edit", "Cancel",
        ]  # fmt: skip
        assert await incident_count(app) == before
        closed = await owner.next_reply()
        assert closed.method == "editMessageText" and "Used by Olivia" in closed.text
        await owner.presses(preview, "Publish")
        published = await owner.next_reply()
        incident_id = int(published.text.split("#")[1].split(".")[0])
        assert await incident_count(app) == before + 1

        # A second report of the same attack is flagged as a possible update.
        iraq.body, iraq.etag = rss("Iraq Desk", [ERBIL_FIRST, BUDGET, ERBIL_SECOND]), '"v2"'
        clock.advance(timedelta(seconds=2))
        update = (await proposals_to(owner, 1))["Toll rises after drone attack on Erbil base"]
        assert f"Possible update of #{incident_id}" in update.text
        assert "injured: 3 → 5" in update.text
        assert update.button_texts == ["Apply", "Use as new", "Discard"]
        applied = await owner.presses(update, "Apply")
        assert applied.text.startswith(
            f"#{incident_id} updated:\ninjured: 3 → 5\nseverity: 3 → 4\nsource added: Iraq Desk ("
        )
        assert "Applied by Olivia" in (await owner.next_reply()).text
        card = await owner.says(f"/incident {incident_id}")
        assert "Casualties: 5 injured" in card.text

        conoco = proposals["Rockets hit Conoco gas field"]
        discarded = await owner.presses(conoco, "Discard")
        assert discarded.text.endswith("discarded. Nothing was published.")
        assert "Discarded by Olivia" in (await owner.next_reply()).text
        # A stale copy pressed again: the one who decided it is "you" to themselves.
        owner.api.press_forged(owner.user, conoco, dict(conoco.buttons[0])["Use"])
        said = await everything_said(app, owner.api, owner.chat_id)
        assert said[-1].text.endswith("was already discarded by you."), said[-1].text
        assert (await owner.says("/queue")).text.startswith("The review queue is empty")
        assert alice.api.pending_replies(alice.chat_id) == []

    # After a restart, the same items (served in full, no 304) propose nothing.
    iraq.conditional = False
    app = build_application(settings, clock)
    async with polling(app, poll_timeout=1):
        await read_again(app, clock, iraq)
        assert (await owner.says("/queue")).text.startswith("The review queue is empty")


async def test_a_failing_or_slow_feed_costs_nothing_else(
    settings: Settings, clock: ManualClock, owner: Person, site: FeedServer
) -> None:
    good = Served(rss("Iraq Desk", [ERBIL_FIRST]))
    urls = [
        site.serve("/broken", Served(status=500)),
        site.serve("/slow", Served(stall=True)),
        site.serve("/huge", Served(b"<rss>" + b" " * 10_000_000 + b"</rss>")),
        site.serve("/invalid", Served(b'<?xml version="1.0"?><rss version="2.0"><channel><item>')),
        site.serve("/good", good),
    ]
    settings = with_feeds(settings, *urls)
    app = build_application(settings, clock)
    async with polling(app, poll_timeout=1):
        proposal = (await proposals_to(owner, 1))["Drones target Erbil Air Base"]
        assert proposal.button_texts == ["Use", "Edit", "Discard"]
        latest = await owner.says("/latest 1")
        assert latest.text == "No published incidents to show."

        async def all_failed() -> bool:
            feeds = await services_of(app).intake.feeds()
            return all(feed.last_fetch_at is not None for feed in feeds)

        await eventually(all_failed)
        listing = (await owner.says("/feeds")).text
        for error in (
            "Last error: HTTP 500 Internal Server Error",
            "Last error: no answer within the timeout",
            "Last error: larger than the 2,000,000-byte limit",
            "Last error: not well-formed XML",
        ):
            assert error in listing
        metrics = (await services_of(app).metrics.exposition(services_of(app).db)).decode()
        assert 'incident_bot_feed_reads_total{feed="1",result="error"} 1.0' in metrics
        assert 'incident_bot_feed_reads_total{feed="5",result="ok"} 1.0' in metrics
        assert 'incident_bot_feed_items_total{outcome="proposed"} 1.0' in metrics
        feeds = {feed.url: feed for feed in await services_of(app).intake.feeds()}
        broken = feeds[urls[0]]
        assert broken.failures == 1 and broken.next_fetch_at == clock.now() + timedelta(seconds=1)


async def test_only_owners_manage_feeds_and_an_admin_may_turn_the_queue_off(
    settings: Settings, clock: ManualClock, owner: Person, alice: Person, site: FeedServer
) -> None:
    iraq = Served(rss("Iraq Desk", [ERBIL_FIRST]))
    settings = with_feeds(settings)
    app = build_application(settings, clock)
    async with polling(app, poll_timeout=1):
        refused = await alice.says("/feeds add " + site.url("/iraq"))
        assert refused.text.startswith("Not authorised: /feeds is for the bot's owners")
        assert (await owner.says("/settings queue off")).text.startswith("✅ Saved. No proposals")
        added = await owner.says("/feeds add " + site.serve("/iraq", iraq))
        assert added.text.startswith("Added feed 1: Iraq Desk")
        assert "Read it: 1 proposed, 0 skipped" in added.text
        queue = await owner.says("/queue")  # the proposal was not sent: this is the next reply
        assert "Drones target Erbil Air Base" in queue.text
        again = await owner.says("/queue 1")
        assert again.button_texts == ["Use", "Edit", "Discard"]
        removed = await owner.says("/feeds remove 1")
        assert removed.text.startswith("Feed 1 removed")
        bad = await owner.says("/feeds add ftp://example.org/x")
        assert bad.text.startswith("Give the feed's http or https address")


ERBIL_FORM = """/post
title: Drones target Erbil Air Base
occurred: 2025-01-15 11:00
country: Iraq
location: Erbil Air Base
type: Explosions/Remote violence
subtype: Air/drone strike
claimed_by: none
injured: 3
severity: 3
source: Iraq Desk https://iraq-desk.example.org/erbil-drones"""


@pytest.mark.parametrize("second", ["Apply", "Discard"])
async def test_under_the_two_person_rule_apply_is_a_first_approval_and_a_second_applies(
    settings: Settings,
    clock: ManualClock,
    owner: Person,
    alice: Person,
    site: FeedServer,
    second: str,
) -> None:
    iraq = Served(rss("Iraq Desk", []), etag='"v1"')
    settings = with_feeds(settings, site.serve("/iraq.rss", iraq))
    settings.newsroom = NewsroomSettings(approvals_required=2)
    app = build_application(settings, clock)
    async with polling(app, poll_timeout=1):
        await owner.says(f"/grant {alice.user.id}")
        preview = await owner.says(ERBIL_FORM)
        await owner.presses(preview, "Publish")
        await owner.next_reply()
        published = await alice.presses(await alice.next_reply(), "Approve and publish")
        incident_id = int(published.text.split("Published as #")[1].split(".")[0])
        await alice.next_reply()

        iraq.body, iraq.etag = rss("Iraq Desk", [ERBIL_SECOND]), '"v2"'
        clock.advance(timedelta(seconds=2))
        title = "Toll rises after drone attack on Erbil base"
        owners, alices = (
            (await proposals_to(owner, 1))[title],
            (await proposals_to(alice, 1))[title],
        )
        assert f"Possible update of #{incident_id}" in owners.text

        request = await owner.presses(owners, "Apply")
        assert request.text.startswith(f"Correction of #{incident_id} approved by Olivia (1/2)")
        assert "injured: 5" in request.text
        assert "Sent to 1 other admin(s)" in (await owner.next_reply()).text
        card = await owner.says(f"/incident {incident_id}")
        assert "Casualties: 3 injured" in card.text
        request = await alice.next_reply()
        assert request.button_texts == ["Approve and apply", "Cancel"]

        if second == "Discard":
            # Discarding the proposal drops the correction its Apply was waiting to make.
            await alice.presses(alices, "Discard")
            assert "Discarded by Alice" in (await alice.next_reply()).text
            assert "Discarded by Alice" in (await owner.next_reply()).text
            late = await alice.presses(request, "Approve and apply")
            assert late.text.endswith(f"That correction of #{incident_id} was already cancelled.")
            card = await owner.says(f"/incident {incident_id}")
            assert "Casualties: 3 injured" in card.text
            assert "Waiting for a second approval" not in (await owner.says("/queue")).text
            return

        # Alice's Apply on her copy of the proposal is the second approval of the same change.
        applied = await alice.presses(alices, "Apply")
        assert applied.text.startswith(f"#{incident_id} updated:\ninjured: 3 → 5")
        assert "Applied by Alice" in (await alice.next_reply()).text
        assert "Applied by Alice" in (await owner.next_reply()).text
        card = await owner.says(f"/incident {incident_id}")
        assert "Casualties: 5 injured" in card.text
        assert (await owner.says("/queue")).text == (
            "The review queue is empty: no proposal is waiting."
        )


TEASER = rss_item(
    "iraq-desk-1101",
    "Erbil: latest",
    "Wed, 15 Jan 2025 08:00:00 GMT",
    "Read the full story on our site.",
    "{article}",
)
ARTICLE = b"""<!DOCTYPE html>
<html><head><title>Drones target Erbil Air Base | Iraq Desk</title></head>
<body>
<nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></nav>
<article>
<h1>Drones target Erbil Air Base</h1>
<p>Two drones targeted Erbil Air Base on Wednesday morning, injuring three coalition
soldiers, officials said.</p>
<p>No group claimed responsibility for the attack, the latest in a series against bases
hosting US troops in Iraq and Syria.</p>
</article>
<aside>Most read: Parliament passes the budget</aside>
<footer>Copyright 2025 Iraq Desk. All rights reserved.</footer>
</body></html>"""


@pytest.mark.parametrize("fetch_linked_pages", [True, False])
async def test_a_teaser_item_is_read_from_its_linked_page_when_asked_to(
    settings: Settings,
    clock: ManualClock,
    owner: Person,
    site: FeedServer,
    fetch_linked_pages: bool,
) -> None:
    article = Served(ARTICLE, "text/html")
    teaser = TEASER.replace("{article}", site.serve("/erbil-drones.html", article))
    iraq = Served(rss("Iraq Desk", [teaser]))
    settings = with_feeds(settings, site.serve("/iraq.rss", iraq))
    settings.intake.fetch_linked_pages = fetch_linked_pages
    app = build_application(settings, clock)
    async with polling(app, poll_timeout=1):
        if not fetch_linked_pages:
            await read_again(app, clock, iraq)
            skipped = await owner.says("/feeds 1")
            assert "Erbil: latest — " in skipped.text
            assert article.requests == []
            return
        proposal = (await proposals_to(owner, 1))["Erbil: latest"]
        assert "Where: Erbil Air Base, Erbil, Iraq" in proposal.text
        assert "Casualties: 3 injured" in proposal.text
        assert "Most read" not in proposal.text and "Copyright" not in proposal.text
        (asked,) = article.requests
        assert asked["User-Agent"].startswith("incident-bot/")


async def test_a_linked_page_that_fails_leaves_the_item_as_the_feed_described_it(
    settings: Settings, clock: ManualClock, owner: Person, site: FeedServer
) -> None:
    missing = site.url("/gone.html")
    short_report = ERBIL_FIRST.replace("https://iraq-desk.example.org/erbil-drones", missing)
    iraq = Served(rss("Iraq Desk", [short_report]))
    settings = with_feeds(settings, site.serve("/iraq.rss", iraq))
    settings.intake.fetch_linked_pages = True
    app = build_application(settings, clock)
    async with polling(app, poll_timeout=1):
        proposal = (await proposals_to(owner, 1))["Drones target Erbil Air Base"]
        assert "Casualties: 3 injured" in proposal.text
        listing = await owner.says("/feeds")
        assert "error" not in listing.text.lower()


async def test_feeds_on_internal_addresses_are_refused_unless_the_operator_allows_them(
    settings: Settings, clock: ManualClock, owner: Person, site: FeedServer
) -> None:
    iraq = Served(rss("Iraq Desk", [ERBIL_FIRST]))
    site.serve("/iraq", iraq)
    internal = {
        f"http://127.0.0.1:{site.port}/iraq": "127.0.0.1 is an internal address",
        # A name that resolves to one (to 127.0.0.1 or ::1, whichever the system says first).
        f"http://localhost:{site.port}/iraq": "localhost resolves to ",
        "http://10.1.2.3/rss": "10.1.2.3 is an internal address",
        "http://169.254.169.254/latest/meta-data/": "169.254.169.254 is an internal address",
        "http://[::1]/rss": "::1 is an internal address",
        "http://[::ffff:127.0.0.1]/rss": "::ffff:127.0.0.1 is an internal address",
    }
    # A feed listed in the config file is held to the same rule when it is read.
    settings.intake = IntakeSettings.model_validate(
        {"feeds": [site.url("/iraq")], "poll_seconds": 1, "timeout_seconds": 1}
    )
    app = build_application(settings, clock)
    async with polling(app, poll_timeout=1):
        for url, why in internal.items():
            refused = await owner.says(f"/feeds add {url}")
            assert refused.text.startswith(f"Refused: {why}"), refused.text
            assert refused.text.endswith(
                "an internal address, and the bot reads feeds from the public internet only; "
                "nothing was added. Feeds on your own network need [intake] "
                "allow_private_addresses = true in the config file."
            )

        async def read_once() -> bool:
            feeds = await services_of(app).intake.feeds()
            return all(feed.last_fetch_at is not None for feed in feeds)

        await eventually(read_once)
        listing = (await owner.says("/feeds")).text
        assert "Last error: refused: 127.0.0.1 is an internal address; feeds on your" in listing
        assert len(await services_of(app).intake.feeds()) == 1
    assert iraq.requests == []


def test_a_title_longer_than_a_form_takes_is_cut_at_a_word_and_says_so() -> None:
    title = "Officials describe the drone attack on the base " * 10
    body = rss("Desk", [rss_item("long-1", title, "Wed, 15 Jan 2025 08:00:00 GMT", "Text.")])
    (item,) = parse_feed(body).items
    assert len(item.title) <= TITLE_LIMIT and item.title.endswith("…")
    assert title.startswith(item.title.removesuffix("…") + " ")


SEVERE_ERBIL_FORM = ERBIL_FORM.replace(
    "injured: 3\nseverity: 3", "injured: at least 5\nseverity: 4"
)


def no_toll(number: int) -> str:
    return rss_item(
        f"iraq-desk-20{number:02}",
        f"Drone attack on Erbil base under investigation ({number})",
        "Wed, 15 Jan 2025 11:30:00 GMT",
        "Officials are investigating the drone attack on Erbil Air Base.",
        f"https://iraq-desk.example.org/erbil-inquiry-{number}",
    )


async def published(owner: Person, form: str) -> int:
    await owner.presses(await owner.says(form), "Publish")
    return int((await owner.next_reply()).text.split("#")[1].split(".")[0])


async def test_a_report_without_a_toll_never_lowers_severity_and_another_day_is_no_update(
    settings: Settings, clock: ManualClock, owner: Person, site: FeedServer
) -> None:
    iraq = Served(rss("Iraq Desk", []), etag='"v1"')
    settings = with_feeds(settings, site.serve("/iraq.rss", iraq))
    app = build_application(settings, clock)
    async with polling(app, poll_timeout=1):
        # An attack at the same base two days before the report: another attack.
        two_days_before = SEVERE_ERBIL_FORM.replace("2025-01-15 11:00", "2025-01-13 20:00")
        await published(owner, two_days_before.replace("erbil-drones", "erbil-earlier"))
        iraq.body, iraq.etag = rss("Iraq Desk", [no_toll(1)]), '"v2"'
        clock.advance(timedelta(seconds=2))
        other = (await proposals_to(owner, 1))["Drone attack on Erbil base under investigation (1)"]
        assert "Possible update" not in other.text

        # The same day: an update, but a report without a toll says nothing of severity.
        incident_id = await published(owner, SEVERE_ERBIL_FORM)
        iraq.body, iraq.etag = rss("Iraq Desk", [no_toll(1), no_toll(2)]), '"v3"'
        clock.advance(timedelta(seconds=2))
        update = (await proposals_to(owner, 1))[
            "Drone attack on Erbil base under investigation (2)"
        ]
        assert f"Possible update of #{incident_id}" in update.text
        assert "severity:" not in update.text and "→" not in update.text
        owner.api.press_button(owner.user, update, "Apply")
        applied = "\n".join(m.text for m in await everything_said(app, owner.api, owner.chat_id))
        assert f"#{incident_id} updated:" in applied and "severity:" not in applied
        card = await owner.says(f"/incident {incident_id}")
        assert "Severity: ●●●●○ high" in card.text and "at least 5 injured" in card.text
