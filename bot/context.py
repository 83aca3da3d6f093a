"""The callback context handlers receive, with typed access to the services."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.services import Services

_SERVICES_KEY = "services"


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[str, Any]]):
    @property
    def services(self) -> Services:
        services: Services = self.bot_data[_SERVICES_KEY]
        return services


IncidentBotApp = Application[
    ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], dict[str, Any], Any
]


def attach_services(app: IncidentBotApp, services: Services) -> None:
    app.bot_data[_SERVICES_KEY] = services


def services_of(app: IncidentBotApp) -> Services:
    services: Services = app.bot_data[_SERVICES_KEY]
    return services
