"""The installed product: a wheel built from this source, in a virtual environment of its own.

The wheel is built from a copy of the files git knows (tracked or new, as they are now),
so nothing a developer's earlier build left in build/ can slip into it. It is installed
into a fresh venv that has no pip and no source tree; the dependencies come from the
test's own environment (a .pth line naming its site-packages), so this needs no network.
The commands then run from a directory outside the source, as an operator's would.
"""

from __future__ import annotations

import asyncio
import configparser
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.clock import ManualClock
from bot.record.sample import load_sample
from bot.sandbox.fake_api import FakeBotApi
from storage.db import Database
from tests.people import Person
from tests.test_e2e_webhook import free_port

SOURCE = Path(__file__).resolve().parent.parent
DEPLOY = SOURCE / "deploy"


def copy_of_the_source(into: Path) -> Path:
    """The files git knows (tracked, or new and not ignored), as they are in the working tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=SOURCE, check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    for name in filter(None, listed.decode().split("\0")):
        source = SOURCE / name
        if source.is_file():  # not a tracked file deleted since the last commit
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this source, as it is now."""
    root = tmp_path_factory.mktemp("wheel")
    wheels = root / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--wheel-dir", str(wheels),
         str(copy_of_the_source(root / "source"))],
        check=True, cwd=root, timeout=300,
    )  # fmt: skip
    (built,) = wheels.glob("incident_bot-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bin/ directory of a fresh venv holding only the wheel built from this source."""
    root = tmp_path_factory.mktemp("install")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    where_packages_go = "import sysconfig; print(sysconfig.get_path('purelib'))"
    fresh_site = Path(
        subprocess.run(
            [venv / "bin" / "python", "-c", where_packages_go],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    # The dependencies, already installed here; a plain path line does not run the
    # .pth files there, so this environment's editable install of the source stays out.
    (fresh_site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--no-deps", "--no-index", "--quiet", str(wheel)],
        check=True, cwd=root, timeout=300,
    )  # fmt: skip
    yield venv / "bin"


def test_the_wheel_holds_the_source_as_it_is_and_nothing_older(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        packaged = {
            name: archive.read(name)
            for name in archive.namelist()
            if name.split("/")[0] in {"bot", "handlers", "storage"}
        }
    for name, content in packaged.items():
        assert (SOURCE / name).is_file(), f"{name} is not in the source"
        assert (SOURCE / name).read_bytes() == content, f"{name} differs from the source"
    migrations = {
        path.relative_to(SOURCE).as_posix() for path in SOURCE.glob("storage/migrations/*.sql")
    }
    assert migrations <= packaged.keys()


def clean_environment(**extra: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("INCIDENT_BOT_", "PYTHON")) and key != "TELEGRAM_BOT_TOKEN"
    }
    return {**environment, **extra}


def run(installed: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(installed / "incident-bot"), *args],
        cwd=cwd, env=clean_environment(**env), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_installed_package_is_the_wheel_not_the_source(installed: Path, tmp_path: Path) -> None:
    version = run(installed, "--version", cwd=tmp_path)
    assert version.returncode == 0
    expected = tomllib.loads((SOURCE / "pyproject.toml").read_text())["project"]["version"]
    assert version.stdout.strip() == f"incident-bot {expected}"
    where = subprocess.run(
        [installed / "python", "-c", "import bot, storage; print(bot.__file__, storage.__file__)"],
        cwd=tmp_path, env=clean_environment(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    for path in where.stdout.split():
        assert Path(path).is_relative_to(installed.parent), path


def test_db_upgrade_and_config_check_from_the_install(installed: Path, tmp_path: Path) -> None:
    database = tmp_path / "var" / "incident-bot.sqlite3"
    upgraded = run(installed, "db", "upgrade", cwd=tmp_path,
                   INCIDENT_BOT_STORAGE__PATH=str(database))  # fmt: skip
    assert upgraded.returncode == 0, upgraded.stderr
    assert "applied 0001_initial.sql" in upgraded.stdout
    # The configuration install.sh puts in /etc/incident-bot, with the token from the
    # environment as the unit gives it.
    checked = run(installed, "config", "check", "--config", str(DEPLOY / "config.toml"),
                  cwd=tmp_path, TELEGRAM_BOT_TOKEN="123456789:AAsecret")  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert 'token = "**********"' in checked.stdout and "AAsecret" not in checked.stdout
    assert 'path = "/var/lib/incident-bot/incident-bot.sqlite3"' in checked.stdout


async def test_a_short_run_of_the_installed_bot_against_the_fake_bot_api(
    installed: Path, tmp_path: Path, telegram: FakeBotApi, alice: Person
) -> None:
    metrics_port = free_port()
    bot = await asyncio.create_subprocess_exec(
        str(installed / "incident-bot"), "run", "--log-format", "json",
        cwd=tmp_path,
        env=clean_environment(
            TELEGRAM_BOT_TOKEN=telegram.token,
            INCIDENT_BOT_TELEGRAM__API_BASE_URL=telegram.api_root,
            INCIDENT_BOT_STORAGE__PATH=str(tmp_path / "bot.sqlite3"),
            INCIDENT_BOT_MONITORING__PORT=str(metrics_port),
        ),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        reply = await alice.says("/start")
        assert "security incidents" in reply.text
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{metrics_port}/metrics") as response,
        ):
            assert 'incident_bot_updates_total{command="start"} 1.0' in await response.text()
    finally:
        bot.send_signal(signal.SIGTERM)
        _, log = await bot.communicate()
    assert bot.returncode == 0, log.decode()
    assert b'"message": "started as @' in log and telegram.token.encode() not in log


async def test_the_backup_script_keeps_the_newest_daily_copies(
    installed: Path, tmp_path: Path, clock: ManualClock
) -> None:
    database = tmp_path / "live.sqlite3"
    env = {"INCIDENT_BOT_STORAGE__PATH": str(database)}
    async with Database(database) as db:
        await load_sample(db, clock)
    backups = tmp_path / "backups"
    backups.mkdir()
    today = date.today()
    for days_ago in (1, 2, 3):
        (backups / f"incident-bot-{today - timedelta(days=days_ago)}.sqlite3").write_text("old")
    (backups / "notes.txt").write_text("not a backup: left alone")
    result = subprocess.run(
        ["sh", str(DEPLOY / "backup.sh"), str(backups)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env=clean_environment(
            KEEP_DAILY="2", INCIDENT_BOT=str(installed / "incident-bot"),
            INCIDENT_BOT_CONFIG=str(tmp_path / "none.toml"), **env,
        ),
    )  # fmt: skip
    assert result.returncode == 2 and "no such config file" in result.stderr
    (tmp_path / "config.toml").write_text(f'[storage]\npath = "{database}"\n')
    result = subprocess.run(
        ["sh", str(DEPLOY / "backup.sh"), str(backups)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env=clean_environment(
            KEEP_DAILY="2", INCIDENT_BOT=str(installed / "incident-bot"),
            INCIDENT_BOT_CONFIG=str(tmp_path / "config.toml"),
        ),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in backups.iterdir()) == [
        f"incident-bot-{today - timedelta(days=1)}.sqlite3",
        f"incident-bot-{today}.sqlite3",
        "notes.txt",
    ]
    assert (backups / f"incident-bot-{today}.sqlite3").stat().st_size > 10_000


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read_string((DEPLOY / name).read_text())
    return parser


def test_the_units_are_hardened_and_name_the_paths_the_install_script_creates() -> None:
    service = unit("incident-bot.service")["Service"]
    install_script = (DEPLOY / "install.sh").read_text()
    deployed_config = tomllib.loads((DEPLOY / "config.toml").read_text())
    assert service["User"] == "incident-bot" and "useradd --system" in install_script
    assert service["ProtectSystem"] == "strict"
    assert service["NoNewPrivileges"] == "yes"
    assert service["Restart"] == "on-failure" and service["RestartPreventExitStatus"] == "2"
    database_dir = str(Path(deployed_config["storage"]["path"]).parent)
    assert service["ReadWritePaths"] == database_dir == service["WorkingDirectory"]
    assert service["EnvironmentFile"] == "/etc/incident-bot/incident-bot.env"
    assert service["EnvironmentFile"] in install_script
    program, *arguments = service["ExecStart"].split()
    assert program == "/opt/incident-bot/venv/bin/incident-bot"
    assert "/usr/bin/python3 -m venv /opt/incident-bot/venv" in install_script
    assert arguments == ["--config", "/etc/incident-bot/config.toml", "run"]

    backup = unit("incident-bot-backup.service")["Service"]
    backup_program, backup_dir = backup["ExecStart"].split()
    assert backup_program == "/opt/incident-bot/bin/incident-bot-backup"
    assert f'"$here/backup.sh" {backup_program}' in install_script
    assert backup["ReadWritePaths"].split() == [database_dir, backup_dir]
    assert backup["Environment"].startswith("KEEP_DAILY=")
    timer = unit("incident-bot-backup.timer")
    assert timer["Timer"]["OnCalendar"] == "daily" and timer["Timer"]["Persistent"] == "true"
