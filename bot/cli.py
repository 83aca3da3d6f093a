"""The incident-bot command line."""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Literal, TextIO

from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.clock import SystemClock
from bot.config import (
    DEFAULT_CONFIG_PATH,
    ConfigError,
    Settings,
    describe_settings,
    load_settings,
    token_readable_by_others,
)
from bot.context import IncidentBotApp
from bot.lifecycle import ALLOWED_UPDATES
from bot.log_setup import configure_logging, redact
from bot.newsroom.transfer import (
    FORMATS,
    ExportReport,
    Format,
    TransferError,
    export_incidents,
    import_file,
    output_file,
    parse_moment,
)
from bot.record.atom import write_atom
from bot.record.sample import load_sample, remove_sample
from storage.db import Database, UnusableDatabase
from storage.maintenance import (
    DatabaseInUse,
    UnusableBackup,
    backup_database,
    check_backup,
    holding_database,
    lock_path,
    restore_database,
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_STATUSES = """exit status:
  0  done
  1  the command failed (e.g. a bad row in an import, a backup that could not be written)
  2  wrong usage or configuration: the message names the option, argument or key"""
log = logging.getLogger("incident-bot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incident-bot",
        description="A Telegram bot that records security incidents and tells people about them. "
        "The options below work before or after any command.",
        parents=[_global_options()],
        epilog=EXIT_STATUSES,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"incident-bot {version('incident-bot')}"
    )
    parser.set_defaults(config=None, log_level=None, log_format="text")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", help="what to do (run when none is given)"
    )
    runner = _command(
        commands, "run", "run the bot; the default command",
        "Run the bot with long polling until Ctrl-C or SIGTERM (which stop it cleanly), "
        "or on a webhook with --webhook.",
    )  # fmt: skip
    runner.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates on a webhook (see [webhook] in config.example.toml) "
        "instead of long polling; polling again later removes the webhook",
    )
    _add_sandbox(commands)
    config = _command(commands, "config", "check the configuration")
    config_actions = config.add_subparsers(
        dest="config_command", metavar="ACTION", required=True, help="check"
    )
    _command(
        config_actions, "check", "validate the configuration and print the effective settings",
        "Read the config file (--config PATH, or ./config.toml) and the INCIDENT_BOT_* "
        "environment variables, report every problem, or print the settings the bot would "
        "use, with secrets masked.",
    )  # fmt: skip
    db = _command(commands, "db", "database maintenance: upgrade, backup, restore")
    db_actions = db.add_subparsers(
        dest="db_command", metavar="ACTION", required=True, help="upgrade, backup or restore"
    )
    _command(
        db_actions, "upgrade", "apply pending schema migrations",
        "Apply the schema migrations the database (storage.path) lacks, and exit. "
        "run does this too.",
    )  # fmt: skip
    backup = _command(
        db_actions, "backup", "copy the database to PATH, safely, even while the bot runs",
        "Copy the database (storage.path) to PATH with SQLite's online backup, safely while "
        "the bot runs. The copy appears under PATH only when complete.",
    )  # fmt: skip
    backup.add_argument("path", type=Path, metavar="PATH", help="the file to write the copy to")
    backup.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    restore = _command(
        db_actions, "restore", "replace the database with a backup; the bot must be stopped",
        "Replace the database (storage.path) with BACKUP. Refused while the bot runs, and "
        "unless BACKUP passes SQLite's integrity check. The replaced database is kept beside "
        "it as storage.path.replaced-TIME.",
    )  # fmt: skip
    restore.add_argument(
        "backup", type=Path, metavar="BACKUP", help="a file written by 'incident-bot db backup'"
    )
    sample = _command(commands, "sample", "the bundled sample data: load or remove it")
    sample_actions = sample.add_subparsers(
        dest="sample_command", metavar="ACTION", required=True, help="load or remove"
    )
    _command(sample_actions, "load", SAMPLE_LOAD_HELP)
    _command(
        sample_actions, "remove", "delete the sample incidents and troop figures",
        "Delete every sample incident and troop figure, with the alerts and corrections "
        "queued or sent about them, in one transaction. What you added yourself stays.",
    )  # fmt: skip
    _command(commands, "load-sample", "the same as 'sample load'")
    _add_transfer(commands)
    return parser


MISSING_TOKEN = (
    "telegram.token: not set; `run` needs it: TELEGRAM_BOT_TOKEN in the environment (as "
    "the service's environment file gives it) or token in the config file's [telegram]"
)
SAMPLE_LOAD_HELP = "load the bundled sample incidents and troop figures (idempotent)"


class _HelpFormatter(argparse.HelpFormatter):
    """Descriptions wrapped to the terminal; the table of exit statuses kept as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text == EXIT_STATUSES:
            return text
        return super()._fill_text(text, width, indent)


def _global_options() -> argparse.ArgumentParser:
    # Defaults are SUPPRESS here, and set once on the main parser: otherwise a
    # subcommand's default would overwrite an option given before the subcommand.
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="PATH",
        help="TOML config file (default: ./config.toml if it exists)",
    )
    options.add_argument(
        "--log-level",
        default=argparse.SUPPRESS,
        choices=["DEBUG", "INFO", "WARNING"],
        help="INFO by default; WARNING for sandbox, whose log lines would interleave the chat",
    )
    options.add_argument(
        "--log-format",
        default=argparse.SUPPRESS,
        choices=["text", "json"],
        help="one line per event: plain text (default) or JSON objects",
    )
    return options


_GLOBAL_OPTIONS = _global_options()


def _command(
    group: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand that takes the global options too, and lists the exit statuses."""
    return group.add_parser(
        name,
        help=summary,
        description=description or summary[0].upper() + summary[1:] + ".",
        parents=[_GLOBAL_OPTIONS],
        epilog=EXIT_STATUSES,
        formatter_class=_HelpFormatter,
    )


def _add_sandbox(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sandbox = _command(
        commands, "sandbox", "try the bot in this terminal: no token, no network, sample data",
        "Run the real bot against a pretend Telegram on this computer and chat "
        "with it here: type as a user; /as NAME switches who types, /clock +1d moves time, "
        "[N] presses a button, /sandbox lists these. Needs no token and no network.",
    )  # fmt: skip
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


def _add_transfer(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    importer = _command(
        commands, "import",
        "import incidents from a CSV or JSON Lines file, or an ACLED export (idempotent)",
        "Import incidents from FILE (.csv, .jsonl or .ndjson), all in one "
        "transaction. Every row is checked first; a bad row means nothing is imported "
        "(exit status 1) unless --skip-invalid is given. The README describes the format.",
    )  # fmt: skip
    importer.add_argument(
        "file", type=Path, metavar="FILE", help="a .csv, .jsonl or .ndjson file of incidents"
    )
    importer.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid rows and report the others, instead of importing nothing",
    )
    exporter = _command(
        commands, "export",
        "export every incident, retracted ones included, in the format import reads",
        "Write every incident, retracted ones included (or those since DATE), as CSV or "
        "JSON Lines, in the format import reads. Troop figures travel only in a JSON "
        "Lines export of everything (--format jsonl without --since), after the "
        "incidents; a CSV file holds incidents only, and an export that leaves the "
        "figures out says so on standard error.",
    )  # fmt: skip
    exporter.add_argument(
        "--format", dest="fmt", required=True, choices=(*FORMATS, "atom"),
        help="JSON Lines (incidents and troop figures) or CSV (incidents only), which "
        "import reads, or an Atom 1.0 feed of the latest incidents (atom_feed.entries of "
        "them)",
    )  # fmt: skip
    exporter.add_argument(
        "--since",
        type=_since,
        metavar="DATE",
        help="only incidents that occurred on or after DATE (ISO 8601, UTC unless it says); "
        "troop figures are then left out",
    )
    exporter.add_argument(
        "--output", type=Path, metavar="PATH", help="write to PATH instead of standard output"
    )


def _since(text: str) -> datetime:
    try:
        return parse_moment(text).astimezone(UTC)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        secrets = _secrets_of(settings)
        level = args.log_level or ("WARNING" if args.command == "sandbox" else "INFO")
        configure_logging(level, secrets, json_lines=args.log_format == "json")
        if token_readable_by_others(args.config):
            log.warning(
                "%s holds the bot token and others may read it: chmod 600 it",
                args.config or DEFAULT_CONFIG_PATH,
            )
        return _dispatch(args, settings)
    except ConfigError as error:
        print(f"incident-bot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except UnusableDatabase as error:
        return _fail(f"storage.path: {error}", EXIT_USAGE)
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    match args.command, getattr(args, f"{args.command}_command", None):
        case "config", "check":
            return _config_check(settings, args.config)
        case "db", "upgrade":
            return asyncio.run(_db_upgrade(settings))
        case "db", "backup":
            return _db_backup(settings, args.path, force=args.force)
        case "db", "restore":
            return _db_restore(settings, args.backup)
        case ("sample", "load") | ("load-sample", None):
            return asyncio.run(_load_sample(settings))
        case "sample", "remove":
            return asyncio.run(_remove_sample(settings))
        case "sandbox", None:
            return _sandbox(settings, args)
        case "import", None:
            return asyncio.run(_import(settings, args.file, skip_invalid=args.skip_invalid))
        case "export", None:
            return asyncio.run(_export(settings, args.fmt, args.since, args.output))
        case _:
            return _run(settings, webhook=getattr(args, "webhook", False))


def _fail(message: str, status: int = EXIT_FAILURE) -> int:
    print(f"incident-bot: {message}", file=sys.stderr)
    return status


def _run(settings: Settings, *, webhook: bool) -> int:
    from bot.app import build_application

    try:
        with holding_database(settings.storage.path):
            # Before the bot talks to Telegram: a migration that fails stops it here.
            asyncio.run(_upgrade(settings.storage.path))
            app = build_application(settings)
            # Everything built so far (modules, PTB, handlers, settings) lives as long as
            # the process: freezing it spares the garbage collector from scanning it again
            # on every collection during a broadcast.
            gc.freeze()
            if webhook:
                asyncio.run(_serve_webhook(app, settings))
            else:
                # PTB's own loop: it deletes any webhook first, and stops cleanly on SIGTERM.
                app.run_polling(allowed_updates=ALLOWED_UPDATES)
    except DatabaseInUse:
        return _fail(
            f"storage.path: another incident-bot is already running on "
            f"{settings.storage.path} (it holds {lock_path(settings.storage.path)})"
        )
    except InvalidToken:
        return _fail(
            "telegram.token: the Bot API refused this token; "
            "check it with @BotFather (/token) and set it again",
            EXIT_USAGE,
        )
    except NetworkError as error:
        # The error's text can echo the request path, and so the token, back from the server.
        said = redact(str(error), _secrets_of(settings))
        return _fail(f"cannot reach the Bot API at {settings.telegram.shown_api_root}: {said}")
    except TelegramError as error:
        # An answer that is not the Bot API's (not JSON, or JSON of another shape): a wrong
        # telegram.api_base_url, or a proxy's error page.
        said = redact(str(error), _secrets_of(settings))
        return _fail(
            f"the server at {settings.telegram.shown_api_root} did not answer as a Bot API "
            f"does ({said}); check telegram.api_base_url"
        )
    return EXIT_OK


def _secrets_of(settings: Settings) -> list[str]:
    """What no log line or message may show: the token, the webhook's secret, and the
    password of a Bot API server behind HTTP authentication."""
    secrets = [
        secret.get_secret_value()
        for secret in (settings.telegram.token, settings.webhook.secret_token)
        if secret is not None
    ]
    password = settings.telegram.api_password
    return [*secrets, password] if password else secrets


def _config_check(settings: Settings, path: Path | None) -> int:
    source = path or (DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None)
    where = f"{source}" if source else "no config file (defaults)"
    verdict = "no problems found"
    if settings.telegram.token is None:
        # Not an error: only `run` needs the token, and a deployment checks its config
        # before the token is in the service's environment file.
        print(f"incident-bot: {MISSING_TOKEN}", file=sys.stderr)
        verdict = "no other problems found"
    print(f"# {where} and the environment: {verdict}. Effective settings:")
    print(describe_settings(settings), end="")
    return EXIT_OK


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
    except UnusableDatabase as error:
        return _fail(f"--db: {error}", EXIT_USAGE)
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


def _db_backup(settings: Settings, target: Path, *, force: bool) -> int:
    source = settings.storage.path
    if not source.exists():
        return _no_database(source, "to back up")
    if target.resolve() == source.resolve():
        return _fail("the backup must go to another file than the database", EXIT_USAGE)
    if not target.parent.is_dir():
        return _fail(
            f"{target}: there is no directory {target.parent} to put the backup in; "
            f"create it first (mkdir -p {target.parent})",
            EXIT_USAGE,
        )
    if target.is_dir():
        return _fail(
            f"{target} is a directory; name the backup file in it, e.g. "
            f"{target / (source.stem + '-backup' + source.suffix)}",
            EXIT_USAGE,
        )
    if target.exists() and not force:
        return _fail(
            f"{target} already exists; choose another name, or add --force to overwrite it",
            EXIT_USAGE,
        )
    try:
        backup_database(source, target)
    except (OSError, sqlite3.Error) as error:
        return _fail(f"backup to {target} failed: {error}")
    print(f"backed up {source} to {target}")
    return EXIT_OK


def _db_restore(settings: Settings, backup: Path) -> int:
    database = settings.storage.path
    if not backup.is_file():
        return _fail(f"{backup}: no such backup file", EXIT_USAGE)
    if backup.resolve() == database.resolve():
        return _fail("that is the database itself (storage.path), not a backup", EXIT_USAGE)
    try:
        check_backup(backup)
    except UnusableBackup as problem:
        return _fail(f"{backup}: {problem}; nothing was changed")
    kept = _unused_name(
        database.with_name(f"{database.name}.replaced-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
    )
    try:
        with holding_database(database):
            restore_database(backup, database, kept)
    except DatabaseInUse:
        return _fail(
            f"a bot is running on {database}; stop it first (e.g. systemctl stop "
            "incident-bot), then restore; nothing was changed"
        )
    except (OSError, sqlite3.Error) as error:
        return _fail(f"restore from {backup} failed: {error}")
    if kept.exists():
        print(f"restored {database} from {backup}; the replaced database is kept as {kept}")
    else:
        print(f"restored {database} from {backup}")
    return EXIT_OK


def _no_database(path: Path, to_do: str) -> int:
    # Opening would create an empty database: a mistyped storage.path must not.
    return _fail(f"storage.path: no database at {path} {to_do}; nothing was created", EXIT_USAGE)


def _unused_name(wanted: Path) -> Path:
    """`wanted`, or `wanted`-2, -3… if taken: a second restore within the same second
    must not overwrite the database the first one kept."""
    candidate, number = wanted, 2
    while candidate.exists():
        candidate, number = wanted.with_name(f"{wanted.name}-{number}"), number + 1
    return candidate


async def _upgrade(path: Path) -> tuple[list[str], int]:
    """Apply the migrations the database lacks: their names, and the places re-spelled."""
    # Opening the database applies them.
    async with Database(path) as db:
        return db.migrations_applied, db.places_respelled


async def _db_upgrade(settings: Settings) -> int:
    applied, respelled = await _upgrade(settings.storage.path)
    done = f"applied {', '.join(applied)}" if applied else "nothing to apply"
    print(f"database {settings.storage.path} is up to date ({done})")
    if respelled:
        print(f"the places of {respelled} incidents now read as the gazetteer names them")
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


async def _remove_sample(settings: Settings) -> int:
    if not settings.storage.path.exists():
        return _no_database(settings.storage.path, "to remove the sample from")
    async with Database(settings.storage.path) as db:
        removed = await remove_sample(db)
    print(
        f"removed from {settings.storage.path}: {removed.incidents} sample incidents, "
        f"{removed.figures} sample troop figures and {removed.messages} alerts and "
        "corrections about them"
    )
    return EXIT_OK


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
        f"imported {_counted(report.imported, 'incident')}"
        + (
            f" and {_counted(report.figures_imported, 'troop figure')}"
            if report.figures_imported
            else ""
        )
        + f" ({report.already_present} already present, {report.invalid} invalid rows skipped)"
    )
    # Every row refused is a failure even when skipping was asked for.
    return 1 if report.problems and report.valid == 0 else 0


async def _export(
    settings: Settings, fmt: Format | Literal["atom"], since: datetime | None, output: Path | None
) -> int:
    if fmt == "atom" and since is not None:
        return _fail("--since does not apply to --format atom, which holds the latest "
                     "atom_feed.entries incidents", EXIT_USAGE)  # fmt: skip
    if not settings.storage.path.exists():
        return _no_database(settings.storage.path, "to export from")
    async with Database(settings.storage.path) as db:

        async def write(out: TextIO) -> ExportReport:
            if fmt == "atom":
                # A feed of the latest incidents, not a copy of the record to import.
                entries = await write_atom(db, settings, out, SystemClock().now())
                return ExportReport(entries, 0, figures_left_out=False)
            return await export_incidents(db, out, fmt, since)

        try:
            if output is not None:
                with output_file(output) as out:
                    report = await write(out)
                print(f"{_exported(report)} to {output}")
                _say_figures_left_out(report)
                return 0
            # The file format is UTF-8 whatever the terminal's locale says.
            if isinstance(sys.stdout, io.TextIOWrapper):
                sys.stdout.reconfigure(encoding="utf-8", newline="")
            report = await write(sys.stdout)
            sys.stdout.flush()
        except TransferError as error:
            print(f"incident-bot: {error}", file=sys.stderr)
            return EXIT_USAGE
        except BrokenPipeError:
            # The reader (head, say) has gone; stop quietly, and keep Python from
            # complaining again when it flushes stdout at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
    print(_exported(report), file=sys.stderr)
    _say_figures_left_out(report)
    return 0


def _exported(report: ExportReport) -> str:
    figures = (
        f" and {_counted(report.troop_figures, 'troop figure')}" if report.troop_figures else ""
    )
    return f"exported {_counted(report.incidents, 'incident')}{figures}"


def _counted(count: int, noun: str) -> str:
    """ "1 incident", "2 incidents"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _say_figures_left_out(report: ExportReport) -> None:
    """Troop figures left out are said, not silently dropped: on stderr, so that the
    export on standard output stays importable."""
    if report.figures_left_out:
        print(
            "troop figures are not included: only a JSON Lines export of everything "
            "(--format jsonl without --since) carries them",
            file=sys.stderr,
        )
