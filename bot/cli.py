"""The incident-bot command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from telegram.error import InvalidToken, NetworkError

from bot.clock import SystemClock
from bot.config import ConfigError, Settings, load_settings
from bot.lifecycle import ALLOWED_UPDATES
from bot.log_setup import configure_logging
from bot.sample import load_sample
from storage.db import Database

EXIT_USAGE = 2
log = logging.getLogger("incident-bot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incident-bot",
        description="A Telegram bot that records security incidents and tells people about them.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help="TOML config file (default: ./config.toml if it exists)",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the bot (long polling); the default command")
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply pending schema migrations")
    commands.add_parser(
        "load-sample", help="load the bundled sample incidents and troop figures (idempotent)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        secrets = [settings.telegram.token.get_secret_value()] if settings.telegram.token else []
        configure_logging(args.log_level, secrets)
        if args.command == "db":
            return asyncio.run(_db_upgrade(settings))
        if args.command == "load-sample":
            return asyncio.run(_load_sample(settings))
        return _run(settings)
    except ConfigError as error:
        print(f"incident-bot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _run(settings: Settings) -> int:
    from bot.app import build_application

    app = build_application(settings)
    try:
        app.run_polling(allowed_updates=ALLOWED_UPDATES)
    except InvalidToken:
        print(
            "incident-bot: telegram.token: the Bot API refused this token; "
            "check it with @BotFather (/token) and set it again",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except NetworkError as error:
        print(
            f"incident-bot: cannot reach the Bot API at {settings.telegram.api_root}: {error}",
            file=sys.stderr,
        )
        return 1
    return 0


async def _db_upgrade(settings: Settings) -> int:
    # Opening the database applies whatever migrations it lacks.
    async with Database(settings.storage.path) as db:
        applied = db.migrations_applied
    done = f"applied {', '.join(applied)}" if applied else "nothing to apply"
    print(f"database {settings.storage.path} is up to date ({done})")
    return 0


async def _load_sample(settings: Settings) -> int:
    async with Database(settings.storage.path) as db:
        result = await load_sample(db, SystemClock())
    print(
        f"sample loaded into {settings.storage.path}: "
        f"{result.incidents_added} of {result.incidents_total} incidents and "
        f"{result.figures_added} of {result.figures_total} troop figures were new"
    )
    return 0
