"""The delivery engine. (Being written.)"""

from __future__ import annotations

from telegram import Bot

from bot.clock import Clock
from bot.config import DeliverySettings
from bot.delivery.composition import Composer
from bot.models import Incident, IncidentChange
from storage.db import Database


class DeliveryEngine:
    def __init__(
        self,
        bot: Bot,
        db: Database,
        clock: Clock,
        settings: DeliverySettings,
        composer: Composer,
    ) -> None:
        self._bot = bot
        self._db = db
        self._clock = clock
        self._settings = settings
        self._compose = composer

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def wake(self) -> None:
        pass

    async def incident_published(self, incident: Incident) -> None:
        self.wake()

    async def incident_changed(self, change: IncidentChange) -> None:
        self.wake()
