"""The command line as an operator meets it: options anywhere, help, statuses, config check."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from bot import cli

TOKEN = "123456789:AAsecret-token_value"


@pytest.fixture
def logging_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What main() asked of the logging set-up (the real one would replace pytest's)."""
    calls: list[dict[str, Any]] = []

    def record(level: str, secrets: list[str] | None = None, *, json_lines: bool = False) -> None:
        calls.append({"level": level, "json_lines": json_lines})

    monkeypatch.setattr(cli, "configure_logging", record)
    return calls


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "INCIDENT_BOT_TELEGRAM__TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INCIDENT_BOT_STORAGE__PATH", str(tmp_path / "bot.sqlite3"))
    return tmp_path


def test_export_takes_the_global_options_after_the_subcommand(
    workdir: Path, logging_calls: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sample", "load"]) == 0
    capsys.readouterr()
    argv = ["export", "--log-level", "INFO", "--since", "2024-01-01", "--format", "csv"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("external_id,") and "Tower 22" in out
    assert "2023-10-17" not in out  # --since applied
    assert logging_calls[-1] == {"level": "INFO", "json_lines": False}


def test_global_options_work_before_and_after_and_the_later_one_wins(
    workdir: Path, logging_calls: list[dict[str, Any]]
) -> None:
    config = workdir / "elsewhere.toml"
    config.write_text(f'[storage]\npath = "{workdir / "other.sqlite3"}"\n', encoding="utf-8")
    parser = cli.build_parser()
    before = parser.parse_args(["--config", str(config), "--log-format", "json", "db", "upgrade"])
    after = parser.parse_args(["db", "upgrade", "--config", str(config), "--log-format", "json"])
    both = parser.parse_args(["--log-level", "DEBUG", "sample", "load", "--log-level", "WARNING"])
    neither = parser.parse_args(["sample", "load"])
    assert before.config == after.config == config
    assert before.log_format == after.log_format == "json"
    assert both.log_level == "WARNING"
    assert (neither.config, neither.log_level, neither.log_format) == (None, None, "text")


def _subcommand_parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(((*path, name), sub))
                found.extend(_subcommand_parsers(sub, (*path, name)))
    return found


def test_every_subcommand_help_describes_its_arguments_and_the_exit_statuses() -> None:
    commands = _subcommand_parsers(cli.build_parser())
    names = {" ".join(path) for path, _ in commands}
    assert {"run", "config check", "db backup", "db restore", "sample remove", "export"} <= names
    for path, parser in commands:
        text = parser.format_help()
        assert parser.description, f"incident-bot {' '.join(path)} --help has no description"
        for action in parser._actions:
            if action.help is None:
                raise AssertionError(f"incident-bot {' '.join(path)}: {action.dest} lacks help")
        for option in ("--config", "--log-level", "--log-format"):
            assert option in text, f"incident-bot {' '.join(path)} --help lacks {option}"
        assert "exit status" in text and "2  wrong usage or configuration" in text


def test_usage_errors_exit_with_status_2(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["export", "--format", "xml"])
    assert exited.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


def test_config_check_prints_the_effective_settings_with_secrets_masked(
    workdir: Path,
    logging_calls: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = workdir / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "{TOKEN}"\nadmins = [42]\n[webhook]\nsecret_token = "s3cret"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("INCIDENT_BOT_BOT__TIMEZONE", "Asia/Baghdad")
    assert cli.main(["config", "check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"# {config} and the environment: no problems found" in out
    assert 'token = "**********"' in out and 'secret_token = "**********"' in out
    assert TOKEN not in out and "s3cret" not in out
    assert "admins = [42]" in out and 'timezone = "Asia/Baghdad"' in out
    assert "# public_url: not set" in out


def test_config_check_says_the_token_is_missing(
    workdir: Path, logging_calls: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "config.toml").write_text("[telegram]\nadmins = [42]\n", encoding="utf-8")
    # Exit status 0: only `run` needs the token, and install.sh checks the file before it
    # is set.
    assert cli.main(["config", "check"]) == 0
    said = capsys.readouterr()
    assert said.err == f"incident-bot: {cli.MISSING_TOKEN}\n"
    assert "# config.toml and the environment: no other problems found." in said.out
    assert "no problems found" not in said.out


def test_config_check_reports_every_problem_in_plain_words_with_status_2(
    workdir: Path, logging_calls: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    config = workdir / "config.toml"
    config.write_text(
        "[telegram]\nadmins = ['me']\napi_base_url = 'nowhere'\n[delivery]\nconcurrency = 0\n"
        "[webhook]\nport = 'eighty'\n",
        encoding="utf-8",
    )
    assert cli.main(["config", "check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"incident-bot: {config}: telegram.api_base_url: must be a web address such as "
        "https://example.org",
        f"{config}: telegram.admins (item 1): must be a whole number",
        f"{config}: delivery.concurrency: must be 1 or more",
        f"{config}: webhook.port: must be a whole number",
    ]


def test_a_bad_value_from_the_environment_names_the_variable(
    workdir: Path,
    logging_calls: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (workdir / "config.toml").write_text("[delivery]\nconcurrency = 'lots'\n", encoding="utf-8")
    monkeypatch.setenv("INCIDENT_BOT_DELIVERY__MAX_ATTEMPTS", "several")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not-a-token")
    assert cli.main(["config", "check"]) == 2
    assert sorted(capsys.readouterr().err.removeprefix("incident-bot: ").splitlines()) == [
        "config.toml: delivery.concurrency: must be a whole number",
        "environment variable INCIDENT_BOT_DELIVERY__MAX_ATTEMPTS: delivery.max_attempts: "
        "must be a whole number",
        "environment variable TELEGRAM_BOT_TOKEN: telegram.token: does not look like a bot "
        "token (digits, a colon, then letters and digits, as @BotFather gives it)",
    ]
