"""Which addresses a feed may be read from, checked as the connection is made."""

from __future__ import annotations

import re

import pytest

from bot.intake.fetch import FetchError, client_session, fetch_feed, is_public
from tests.feed_server import Served, feed_server, rss


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("127.0.0.1", False),
        ("10.0.0.5", False),
        ("172.16.3.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.1.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.5", False),
    ],
)
def test_only_public_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(address) is public


async def test_a_name_that_resolves_to_an_internal_address_is_refused_when_read() -> None:
    """What DNS rebinding leads to: the name is checked as resolved at each read, not
    only when the feed was added."""
    async with feed_server() as site:
        served = Served(rss("Iraq Desk", []))
        site.serve("/rss", served)
        url = f"http://localhost:{site.port}/rss"
        async with client_session(2, allow_private_addresses=False) as session:
            with pytest.raises(FetchError) as refused:
                await fetch_feed(session, url, etag=None, last_modified=None, max_bytes=10_000)
        assert re.fullmatch(
            r"refused: localhost resolves to (127\.0\.0\.1|::1), an internal address; feeds on "
            r"your own network need \[intake\] allow_private_addresses = true in the config file",
            str(refused.value),
        ), refused.value
        assert served.requests == []
        async with client_session(2, allow_private_addresses=True) as session:
            fetched = await fetch_feed(
                session, url, etag=None, last_modified=None, max_bytes=10_000
            )
        assert fetched.body is not None and len(served.requests) == 1
