"""What to do with an outbox row when its turn comes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Prepared:
    """A message ready for any chat: the Bot API method and its parameters, chat aside.

    Built once per rendering and posted as it is to every chat that gets it. A
    picture Telegram does not have yet comes as `upload` (its bytes), and then
    `chart_key` names the stored chart whose later copies go by file id.
    """

    endpoint: str
    parameters: Mapping[str, str]
    upload: bytes | None = None
    chart_key: str | None = None


@dataclass(frozen=True, slots=True)
class Send:
    message: Prepared


@dataclass(frozen=True, slots=True)
class Hold:
    """Not now (quiet hours, a chart being uploaded): back to the queue until `until`,
    with `reason` recorded on the row."""

    until: datetime
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Drop:
    """Never: the row became moot (its incident was retracted, the chat unsubscribed)."""

    reason: str


Outcome = Send | Hold | Drop
