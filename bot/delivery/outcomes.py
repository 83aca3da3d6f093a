"""What to do with an outbox item when its turn comes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.models import OutboxItem, OutgoingMessage


@dataclass(frozen=True)
class Send:
    message: OutgoingMessage


@dataclass(frozen=True)
class Hold:
    """Not now (quiet hours): back to the queue until `until`."""

    until: datetime


@dataclass(frozen=True)
class Drop:
    """Never: the item became moot (its incident was retracted, the chat unsubscribed)."""

    reason: str


Outcome = Send | Hold | Drop
Decide = Callable[[OutboxItem], Awaitable[Outcome]]
