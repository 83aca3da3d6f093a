"""Subscriptions: who wants which alerts and digests. (Being written.)"""

from __future__ import annotations

from bot.clock import Clock
from storage.db import Database


class SubscriptionService:
    def __init__(self, db: Database, clock: Clock, default_timezone: str) -> None:
        self._db = db
        self._clock = clock
        self._default_timezone = default_timezone
