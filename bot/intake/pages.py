"""A feed item's linked page, read for its main text when the item says too little.

Off unless `[intake] fetch_linked_pages = true`. The page is fetched like a feed (the
intake's own session: its User-Agent and timeout, the same size cap and address rules)
and its article text is taken with trafilatura, which drops navigation, adverts and
footers. Any failure leaves the item as its feed described it.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from bot.intake.fetch import FetchError, fetch_page

log = logging.getLogger(__name__)

# A description shorter than this is a teaser ("Drones hit a base. Read more"): the
# extractor finds the place, casualties and claim in the article itself.
SHORT_DESCRIPTION = 400


def says_too_little(text: str) -> bool:
    return len(text) < SHORT_DESCRIPTION


async def main_text(session: aiohttp.ClientSession, url: str, *, max_bytes: int) -> str | None:
    """The article text of the page at `url`, or None if it cannot be had."""
    try:
        page = await fetch_page(session, url, max_bytes=max_bytes)
    except FetchError as error:
        log.info("linked page %s not read: %s", url, error)
        return None
    # Imported here: trafilatura and lxml hold 12 MB once imported, and the bots that
    # leave fetch_linked_pages off never need them.
    import trafilatura

    text = await asyncio.to_thread(trafilatura.extract, page, include_comments=False)
    return text or None
