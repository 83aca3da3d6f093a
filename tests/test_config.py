from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

TOKEN = "123456789:AAtest-token_value"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_values_are_read_and_defaults_fill_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path, f'[telegram]\ntoken = "{TOKEN}"\nadmins = [42, 7]\n')
    settings = load_settings(path, environ={})
    assert settings.require_token() == TOKEN
    assert settings.telegram.admins == [42, 7]
    assert settings.telegram.api_root == "https://api.telegram.org"
    assert settings.bot.timezone == "UTC"
    assert settings.storage.path == Path("incident-bot.sqlite3")


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[bot]\ntimezone = "UTC"\n[storage]\npath = "a.db"\n')
    monkeypatch.setenv("INCIDENT_BOT_BOT__TIMEZONE", "Asia/Baghdad")
    monkeypatch.setenv("INCIDENT_BOT_TELEGRAM__ADMINS", "[1, 2]")
    settings = load_settings(path)
    assert settings.bot.timezone == "Asia/Baghdad"
    assert settings.telegram.admins == [1, 2]
    assert settings.storage.path == Path("a.db")


def test_telegram_bot_token_variable_is_accepted_and_prefixed_one_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert load_settings(path).require_token() == TOKEN
    monkeypatch.setenv("INCIDENT_BOT_TELEGRAM__TOKEN", "42:other")
    assert load_settings(path).require_token() == "42:other"


def test_missing_default_file_is_fine_but_a_named_missing_file_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(None, environ={}).telegram.token is None
    with pytest.raises(ConfigError, match="no such config file"):
        load_settings(tmp_path / "absent.toml", environ={})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[telegram]\nadmins = ['alice']\n", "telegram.admins (item 1): must be a whole number"),
        ("[telegram]\nadmins = [-5]\n", "telegram.admins (item 1): must be more than 0"),
        (
            "[telegram]\nadmins = [42, 99999999999999999999999]\n",
            "telegram.admins (item 2): must be 4503599627370495 or less",
        ),
        ("[bot]\ntimezone = 'Mars/Olympus'\n", "bot.timezone: unknown timezone 'Mars/Olympus'"),
        ("[telegram]\napi_base_url = 'x'\n", "telegram.api_base_url: must be a web address"),
        ("[telegram]\ntokne = 'x'\n", "telegram.tokne: unknown key"),
        ("[telegram\n", "not valid TOML"),
    ],
)
def test_bad_values_name_the_key_and_the_problem(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), environ={})
    assert expected in str(caught.value)


def test_a_config_saved_in_another_encoding_gets_one_line_and_a_bom_is_fine(
    tmp_path: Path,
) -> None:
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes("[bot]\n# Caf\u00e9 newsroom\ntimezone = 'UTC'\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"not UTF-8 text .*; save it as UTF-8"):
        load_settings(latin1, environ={})
    with_bom = tmp_path / "bom.toml"
    with_bom.write_bytes(b"\xef\xbb\xbf[bot]\ntimezone = 'Asia/Baghdad'\n")
    assert load_settings(with_bom, environ={}).bot.timezone == "Asia/Baghdad"


def test_a_malformed_token_is_refused_without_being_echoed(tmp_path: Path) -> None:
    secret = "not-a-token-but-secret-looking"
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, f'[telegram]\ntoken = "{secret}"\n'), environ={})
    assert "telegram.token: does not look like a bot token" in str(caught.value)
    assert secret not in str(caught.value)


def test_no_token_explains_botfather_and_the_sandbox(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""), environ={})
    with pytest.raises(ConfigError) as caught:
        settings.require_token()
    assert "@BotFather" in str(caught.value) and "TELEGRAM_BOT_TOKEN" in str(caught.value)


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_bad_config_is_one_clear_line_and_exit_status_2(tmp_path: Path) -> None:
    path = write(tmp_path, "[bot]\ntimezone = 'Nowhere/Land'\n")
    result = run_cli("--config", str(path), "run", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"incident-bot: {path}: bot.timezone: unknown timezone 'Nowhere/Land'; "
        "use an IANA name such as 'UTC' or 'Asia/Baghdad'"
    ]


def test_cli_run_without_token_says_how_to_get_one(tmp_path: Path) -> None:
    result = run_cli("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "@BotFather" in result.stderr


def test_cli_db_upgrade_and_load_sample_are_idempotent(tmp_path: Path) -> None:
    env = {"INCIDENT_BOT_STORAGE__PATH": str(tmp_path / "bot.sqlite3")}
    first = run_cli("db", "upgrade", cwd=tmp_path, env=env)
    assert first.returncode == 0 and "applied 0001_initial.sql" in first.stdout
    again = run_cli("db", "upgrade", cwd=tmp_path, env=env)
    assert "nothing to apply" in again.stdout
    loaded = run_cli("load-sample", cwd=tmp_path, env=env)
    assert loaded.returncode == 0, loaded.stderr
    reloaded = run_cli("load-sample", cwd=tmp_path, env=env)
    assert re.search(r": 0 of \d+ incidents and 0 of \d+ troop figures were new", reloaded.stdout)


def test_cli_webhook_mode_names_the_missing_settings(tmp_path: Path) -> None:
    env = {"TELEGRAM_BOT_TOKEN": "123:abc", "INCIDENT_BOT_STORAGE__PATH": str(tmp_path / "b.db")}
    result = run_cli("run", "--webhook", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        "incident-bot: webhook.public_url and webhook.secret_token: needed for --webhook"
        in result.stderr
    )


def test_webhook_mode_with_telegram_needs_an_https_address(tmp_path: Path) -> None:
    webhook = "[webhook]\npublic_url = 'http://bot.example.org'\nsecret_token = 's3cret'\n"
    with pytest.raises(ConfigError, match=r"webhook\.public_url: .*only to an https:// address"):
        load_settings(write(tmp_path, webhook), environ={}).require_webhook()
    # A self-hosted Bot API server may send updates over plain HTTP.
    self_hosted = f"[telegram]\napi_base_url = 'http://127.0.0.1:8081'\n{webhook}"
    assert load_settings(write(tmp_path, self_hosted), environ={}).require_webhook()


def test_cli_backup_copies_a_database_that_is_in_use(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite3"
    env = {"INCIDENT_BOT_STORAGE__PATH": str(live)}
    assert run_cli("load-sample", cwd=tmp_path, env=env).returncode == 0
    holder = sqlite3.connect(live)  # another connection has the database open
    holder.execute("BEGIN IMMEDIATE")  # and is in the middle of writing
    try:
        result = run_cli("db", "backup", str(tmp_path / "copy.sqlite3"), cwd=tmp_path, env=env)
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 0, result.stderr
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert copy.execute("SELECT count(*) FROM incidents").fetchone()[0] == 18
    assert not (tmp_path / "copy.sqlite3.partial").exists()
    missing = run_cli("db", "backup", "x.db", cwd=tmp_path,
                      env={"INCIDENT_BOT_STORAGE__PATH": str(tmp_path / "none.db")})  # fmt: skip
    assert missing.returncode == 2 and "no database at" in missing.stderr


def test_cli_invalid_json_in_an_environment_variable_is_one_line_and_exit_status_2(
    tmp_path: Path,
) -> None:
    result = run_cli("run", cwd=tmp_path, env={"INCIDENT_BOT_TELEGRAM__ADMINS": "[123:x]"})
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(
        "incident-bot: environment variable INCIDENT_BOT_TELEGRAM__ADMINS: not valid JSON; "
    )
    assert "EnvSettingsSource" not in line
    assert "INCIDENT_BOT_TELEGRAM__ADMINS='[123456789]'" in line and "123:x" not in line


@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o640, True), (0o600, False)])
def test_a_config_file_with_the_token_readable_by_others_is_warned_about(
    tmp_path: Path, mode: int, warned: bool
) -> None:
    path = write(tmp_path, f"[telegram]\ntoken = '{TOKEN}'\n[storage]\npath = 'x.sqlite3'\n")
    path.chmod(mode)
    result = run_cli("--config", str(path), "db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ("holds the bot token and others may read it: chmod 600 it" in result.stderr) == warned
    assert TOKEN not in result.stderr


def run_against_bot_api(
    tmp_path: Path,
    status: int,
    description: Callable[[str], str],
    *,
    page: bytes | None = None,
    userinfo: str = "",
) -> subprocess.CompletedProcess[str]:
    """`incident-bot run` against a stand-in Bot API answering every call with `status`
    (or with `page`, not the Bot API's JSON), reached as http://`userinfo`127.0.0.1."""

    class StandIn(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = {"ok": False, "error_code": status, "description": description(self.path)}
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(body).encode() if page is None else page)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        return run_cli(
            "run",
            cwd=tmp_path,
            env={
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "INCIDENT_BOT_TELEGRAM__API_BASE_URL": (
                    f"http://{userinfo}127.0.0.1:{server.server_port}"
                ),
                "INCIDENT_BOT_STORAGE__PATH": str(tmp_path / "bot.sqlite3"),
            },
        )
    finally:
        server.shutdown()


def test_cli_startup_server_error_echoing_the_path_does_not_print_the_token(
    tmp_path: Path,
) -> None:
    """A proxy in front of the Bot API answers 500 and quotes the request line."""
    result = run_against_bot_api(tmp_path, 500, lambda path: path)
    assert result.returncode == 1
    assert "cannot reach the Bot API" in result.stderr
    assert TOKEN not in result.stderr and TOKEN.split(":")[1] not in result.stderr


def test_cli_startup_with_a_bot_api_password_shows_it_nowhere(tmp_path: Path) -> None:
    """A self-hosted Bot API behind HTTP authentication, failing: one line, no traceback."""
    result = run_against_bot_api(tmp_path, 500, lambda path: path, userinfo="desk:pa55word@")
    assert result.returncode == 1
    assert "cannot reach the Bot API at http://desk:***@127.0.0.1:" in result.stderr
    assert "pa55word" not in result.stderr and "Traceback" not in result.stderr


def test_cli_startup_against_a_server_that_is_not_a_bot_api_says_so_in_one_line(
    tmp_path: Path,
) -> None:
    """A wrong api_base_url: a web server answering 200 with a page of its own."""
    result = run_against_bot_api(tmp_path, 200, str, page=b"<html>It works!</html>")
    assert result.returncode == 1
    assert "did not answer as a Bot API does" in result.stderr
    assert "check telegram.api_base_url" in result.stderr
    assert "Traceback" not in result.stderr and TOKEN not in result.stderr


def test_cli_a_refused_token_leaves_no_unclosed_session_behind(tmp_path: Path) -> None:
    """The fake Bot API answers 401 to a token it does not know."""
    result = run_against_bot_api(tmp_path, 401, lambda path: "Unauthorized")
    assert result.returncode == 2
    assert "Unclosed" not in result.stderr, result.stderr
