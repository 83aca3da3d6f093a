"""The public command list: one source for /help and for Telegram's command menu."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import BotCommand


@dataclass(frozen=True)
class CommandInfo:
    name: str
    arguments: str
    description: str

    def as_bot_command(self) -> BotCommand:
        return BotCommand(self.name, self.description)


PUBLIC_COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("latest", "[N] [place]", "Newest incidents, optionally in a country or place"),
    CommandInfo("incident", "ID", "The full card of one incident"),
    CommandInfo("search", "TEXT", "Incidents whose report mentions the text"),
    CommandInfo("troops", "[country]", "Latest troop deployment figures"),
    CommandInfo("help", "", "Every command and what it does"),
    CommandInfo("start", "", "What this bot is for"),
)
