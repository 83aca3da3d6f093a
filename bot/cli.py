"""The incident-bot command line."""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from telegram.error import InvalidToken, NetworkError

from bot.clock import SystemClock
from bot.config import ConfigError, Settings, load_settings
from bot.context import IncidentBotApp
from bot.lifecycle import ALLOWED_UPDATES
from bot.log_setup import configure_logging
from bot.newsroom.transfer import (
    FORMATS,
    Format,
    TransferError,
    export_incidents,
    import_file,
    output_file,
    parse_moment,
)
from bot.record.sample import load_sample
from storage.db import Database, backup_database

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
    parser.add_argument(
        "--log-level",
        default=None,
        choices=["DEBUG", "INFO", "WARNING"],
        help="INFO by default; WARNING for sandbox, whose log lines would interleave the chat",
    )
    parser.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="one line per event: plain text (default) or JSON objects",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    runner = commands.add_parser("run", help="run the bot; the default command")
    runner.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates on a webhook (see [webhook] in config.example.toml) "
        "instead of long polling; polling again later removes the webhook",
    )
    sandbox = commands.add_parser(
        "sandbox",
        help="try the bot in this terminal: no token, no network, sample data",
        description="Run the real bot against a pretend Telegram on this computer and chat "
        "with it here: type as a user; /as NAME switches who types, /clock +1d moves time, "
        "[N] presses a button, /sandbox lists these. Needs no token and no network.",
    )
    sandbox.add_argument(
        "--as-admin", action="store_true", help="type as an owner of the bot (/post at once)"
    )
    sandbox.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="use and keep this database (created if missing, no sample loaded) instead of "
        "a throw-away one holding the sample data; never the live bot's (use a copy)",
    )
    sandbox.add_argument(
        "--script",
        type=Path,
        metavar="FILE",
        help="take the lines from FILE ('-': standard input), one message a line, and write "
        "the conversation to standard output",
    )
    sandbox.add_argument(
        "--photos",
        type=Path,
        metavar="DIR",
        help="save the photos the bot sends in DIR (default: a temporary directory, "
        "removed at exit)",
    )
    sandbox.add_argument(
        "--clock",
        metavar="WHEN",
        help="start the clock at WHEN, e.g. '2024-08-10 12:00' (in bot.timezone) or +1d, "
        "instead of now",
    )
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply pending schema migrations")
    backup = db_commands.add_parser(
        "backup", help="copy the database to PATH, safely, even while the bot runs"
    )
    backup.add_argument("path", type=Path, metavar="PATH")
    commands.add_parser(
        "load-sample", help="load the bundled sample incidents and troop figures (idempotent)"
    )
    importer = commands.add_parser(
        "import",
        help="import incidents from a CSV or JSON Lines file, or an ACLED export (idempotent)",
        description="Import incidents from FILE (.csv, .jsonl or .ndjson), all in one "
        "transaction. Every row is checked first; a bad row means nothing is imported "
        "(exit status 1) unless --skip-invalid is given.",
    )
    importer.add_argument("file", type=Path, metavar="FILE")
    importer.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid rows and report the others, instead of importing nothing",
    )
    exporter = commands.add_parser(
        "export",
        help="export every incident, retracted ones included, in the format import reads",
    )
    exporter.add_argument(
        "--format", dest="fmt", required=True, choices=FORMATS, help="JSON Lines or CSV"
    )
    exporter.add_argument(
        "--since",
        type=_since,
        metavar="DATE",
        help="only incidents that occurred on or after DATE (ISO 8601, UTC unless it says)",
    )
    exporter.add_argument(
        "--output", type=Path, metavar="PATH", help="write to PATH instead of standard output"
    )
    return parser


def _since(text: str) -> datetime:
    try:
        return parse_moment(text).astimezone(UTC)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        secrets = [
            secret.get_secret_value()
            for secret in (settings.telegram.token, settings.webhook.secret_token)
            if secret is not None
        ]
        level = args.log_level or ("WARNING" if args.command == "sandbox" else "INFO")
        configure_logging(level, secrets, json_lines=args.log_format == "json")
        if args.command == "db" and args.db_command == "backup":
            return _db_backup(settings, args.path)
        if args.command == "db":
            return asyncio.run(_db_upgrade(settings))
        if args.command == "sandbox":
            return _sandbox(settings, args)
        if args.command == "load-sample":
            return asyncio.run(_load_sample(settings))
        if args.command == "import":
            return asyncio.run(_import(settings, args.file, skip_invalid=args.skip_invalid))
        if args.command == "export":
            return asyncio.run(_export(settings, args.fmt, args.since, args.output))
        return _run(settings, webhook=getattr(args, "webhook", False))
    except ConfigError as error:
        print(f"incident-bot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _run(settings: Settings, *, webhook: bool) -> int:
    from bot.app import build_application

    app = build_application(settings)
    try:
        if webhook:
            asyncio.run(_serve_webhook(app, settings))
        else:
            # PTB's own loop: it deletes any webhook first, and stops cleanly on SIGTERM.
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


def _sandbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot.sandbox.clock import parse_clock_change
    from bot.sandbox.console import main as run_console
    from bot.sandbox.session import SandboxOptions

    start = None
    if args.clock is not None:
        try:
            start = parse_clock_change(args.clock, settings.bot.tzinfo)
        except ValueError as error:
            print(f"incident-bot: --clock: {error}", file=sys.stderr)
            return EXIT_USAGE
    if args.db is not None and args.db.resolve() == settings.storage.path.resolve():
        # The sandbox writes to its database as the bot does, and the subscribers in it
        # cannot be reached in a pretend Telegram: the bot would deactivate them all.
        print(
            "incident-bot: --db: that is the bot's own database (storage.path); give the "
            "sandbox a copy: incident-bot db backup COPY, then --db COPY",
            file=sys.stderr,
        )
        return EXIT_USAGE
    options = SandboxOptions(
        as_admin=args.as_admin, db_path=args.db, photos_dir=args.photos, start=start
    )
    if isinstance(sys.stdout, io.TextIOWrapper):
        # A transcript is UTF-8 like the files it ends up in; a terminal that cannot show
        # an emoji gets a placeholder rather than a crash.
        scripted = args.script is not None or not sys.stdin.isatty()
        if scripted:
            sys.stdout.reconfigure(encoding="utf-8")
        else:
            sys.stdout.reconfigure(errors="replace")
    try:
        return asyncio.run(run_console(settings, options, script=args.script, out=sys.stdout))
    except KeyboardInterrupt:
        print()  # Ctrl-C at the prompt: end its line before the shell's comes back
        return 130


async def _serve_webhook(app: IncidentBotApp, settings: Settings) -> None:
    from bot.webhook import serving_webhook

    webhook = settings.require_webhook()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with serving_webhook(app, webhook):
        log.info("serving the webhook at %s", webhook.public_url_with_path)
        await stop.wait()
        log.info("stopping: no new updates are taken; in-flight work is settled")


def _db_backup(settings: Settings, target: Path) -> int:
    source = settings.storage.path
    if not source.exists():
        print(f"incident-bot: storage.path: no database at {source} to back up", file=sys.stderr)
        return EXIT_USAGE
    if target.resolve() == source.resolve():
        print("incident-bot: the backup must go to another file than the database", file=sys.stderr)
        return EXIT_USAGE
    try:
        backup_database(source, target)
    except (OSError, sqlite3.Error) as error:
        print(f"incident-bot: backup to {target} failed: {error}", file=sys.stderr)
        return 1
    print(f"backed up {source} to {target}")
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


async def _import(settings: Settings, path: Path, *, skip_invalid: bool) -> int:
    async with Database(settings.storage.path) as db:
        try:
            report = await import_file(db, path, skip_invalid=skip_invalid, clock=SystemClock())
        except TransferError as error:
            print(f"incident-bot: {error}", file=sys.stderr)
            return EXIT_USAGE
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if not report.committed:
        print(
            f"nothing imported: {report.invalid} of {report.rows} rows are invalid; fix them, "
            f"or use --skip-invalid to import the {report.valid} valid ones",
            file=sys.stderr,
        )
        return 1
    print(
        f"imported {report.imported} incidents ({report.already_present} already present, "
        f"{report.invalid} invalid rows skipped)"
    )
    # Every row refused is a failure even when skipping was asked for.
    return 1 if report.problems and report.valid == 0 else 0


async def _export(
    settings: Settings, fmt: Format, since: datetime | None, output: Path | None
) -> int:
    async with Database(settings.storage.path) as db:
        try:
            if output is not None:
                with output_file(output) as out:
                    written = await export_incidents(db, out, fmt, since)
                print(f"exported {written} incidents to {output}")
                return 0
            # The file format is UTF-8 whatever the terminal's locale says.
            if isinstance(sys.stdout, io.TextIOWrapper):
                sys.stdout.reconfigure(encoding="utf-8", newline="")
            written = await export_incidents(db, sys.stdout, fmt, since)
            sys.stdout.flush()
        except TransferError as error:
            print(f"incident-bot: {error}", file=sys.stderr)
            return EXIT_USAGE
        except BrokenPipeError:
            # The reader (head, say) has gone; stop quietly, and keep Python from
            # complaining again when it flushes stdout at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
    print(f"exported {written} incidents", file=sys.stderr)
    return 0
