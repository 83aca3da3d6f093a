"""The command lists: one source for /help and for Telegram's command menus."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import BotCommand

from bot.newsroom.admins import Role


def typed_command(text: str) -> str:
    """The command a message starts with, as typed ("/Latest"), without "@botname"."""
    return text.split()[0].split("@")[0]


@dataclass(frozen=True)
class CommandInfo:
    name: str
    arguments: str
    description: str
    role: Role = Role.NOBODY

    def as_bot_command(self) -> BotCommand:
        return BotCommand(self.name, self.description)


PUBLIC_COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo(
        "latest",
        "[N] [place] [attacks|strikes|other]",
        "Newest incidents, optionally in a place or of one direction",
    ),
    CommandInfo("incident", "ID", "The full card of one incident"),
    CommandInfo(
        "count",
        "[place] [since DATE] [until DATE] [attacks|strikes|other]",
        "How many incidents, killed and injured, with a chart",
    ),
    CommandInfo("search", "TEXT [in PLACE]", "Incidents whose report mentions the text"),
    CommandInfo("troops", "[country or region]", "Latest troop deployment figures"),
    CommandInfo("subscribe", "[places]", "Alerts and a digest for the places you choose"),
    CommandInfo("settings", "[key value]", "Your alert and digest choices, and changing them"),
    CommandInfo("watch", "PLACE [N km]", "Alerts for a base or town and 1-200 km around it"),
    CommandInfo("unwatch", "PLACE", "Stop watching a base or town"),
    CommandInfo("unsubscribe", "", "Stop all alerts and digests"),
    CommandInfo("tension", "[place]", "How tense each region is now, with a chart"),
    CommandInfo("digest", "", "Your digest now: what is new since the last one (or the past day)"),
    CommandInfo("help", "", "Every command and what it does"),
    CommandInfo("start", "", "What this bot is for"),
)

ADMIN_COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("post", "[form]", "Post an incident: guided, or key: value lines", Role.EDITOR),
    CommandInfo("draft", "TEXT", "Propose a draft from a pasted news report", Role.EDITOR),
    CommandInfo("edit", "ID [key: value …]", "Correct fields of an incident", Role.EDITOR),
    CommandInfo("retract", "ID REASON", "Retract an incident, keeping the record", Role.EDITOR),
    CommandInfo("history", "ID", "Every version of an incident: who changed what", Role.EDITOR),
    CommandInfo("settroops", "form", "Add a troop figure (force, host, count…)", Role.EDITOR),
    CommandInfo("cancel", "", "Leave the guided /post", Role.EDITOR),
    CommandInfo("stats", "", "Subscribers, deliveries and failures today", Role.EDITOR),
    CommandInfo("queue", "[N]", "Proposed drafts from the feeds, waiting", Role.EDITOR),
    CommandInfo("grant", "USER_ID", "Make a user an editor", Role.OWNER),
    CommandInfo("revoke", "USER_ID", "Take editing away from a user", Role.OWNER),
    CommandInfo("audit", "[N]", "The last N admin actions", Role.OWNER),
    CommandInfo("feeds", "[add URL|remove N|N]", "The news feeds read for proposals", Role.OWNER),
)

# /cancel only leaves a conversation, so anyone may send it without being refused.
GUARDED_COMMANDS = {c.name: c.role for c in ADMIN_COMMANDS if c.name != "cancel"}


def menu_for(role: Role) -> list[BotCommand]:
    """The command menu a user with `role` sees in their chat with the bot."""
    admin = [command for command in ADMIN_COMMANDS if command.role <= role]
    return [command.as_bot_command() for command in (*PUBLIC_COMMANDS, *admin)]
