"""The callback context handlers receive, with typed access to the services."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.delivery.engine import DeliveryEngine
from bot.services import Services

_SERVICES_KEY = "services"
_DELIVERY_KEY = "delivery"


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[str, Any]]):
    @property
    def services(self) -> Services:
        services: Services = self.bot_data[_SERVICES_KEY]
        return services

    @property
    def delivery(self) -> DeliveryEngine:
        engine: DeliveryEngine = self.bot_data[_DELIVERY_KEY]
        return engine


IncidentBotApp = Application[
    ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], dict[str, Any], Any
]


def attach_services(app: IncidentBotApp, services: Services) -> None:
    app.bot_data[_SERVICES_KEY] = services


def services_of(app: IncidentBotApp) -> Services:
    services: Services = app.bot_data[_SERVICES_KEY]
    return services


def attach_delivery(app: IncidentBotApp, engine: DeliveryEngine) -> None:
    app.bot_data[_DELIVERY_KEY] = engine


def delivery_of(app: IncidentBotApp) -> DeliveryEngine:
    engine: DeliveryEngine = app.bot_data[_DELIVERY_KEY]
    return engine
