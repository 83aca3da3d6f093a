"""Logging set-up, with the bot token redacted from every line.

httpx logs each request URL at INFO, and Bot API URLs contain the token, so the
redaction runs on the final formatted line, tracebacks included, whatever logger
produced it.
"""

from __future__ import annotations

import json
import logging
import re
import sys

_TOKEN_IN_URL = re.compile(r"bot\d+:[A-Za-z0-9_-]+")
REDACTED = "[REDACTED]"


def redact(line: str, secrets: list[str]) -> str:
    """`line` without any of `secrets` nor anything shaped like a token in a Bot API URL."""
    for secret in secrets:
        if secret:
            line = line.replace(secret, REDACTED)
    return _TOKEN_IN_URL.sub(f"bot{REDACTED}", line)


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self._secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, line: str) -> str:
        return redact(line, self._secrets)


class JsonLinesFormatter(RedactingFormatter):
    """One JSON object per line, for log shippers; redacted like the plain format."""

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return self.redact(json.dumps(event, ensure_ascii=False))


# PTB's log records whose traceback says nothing their message does not: its failed
# start-up request (a wrong token or server, no network), after which `incident-bot run`
# says what went wrong in one line of its own, and an answer that is not JSON, which its
# message quotes. (Logger name, start of the message.)
_TRACEBACKS_WITHOUT_NEWS = (
    ("telegram.ext", "Network Retry Loop (Bootstrap"),
    ("telegram.request", "Can not load invalid JSON data"),
)


class _PtbFailuresInOneLine(logging.Filter):
    """Those records without their traceback, which --log-level DEBUG keeps."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            record.exc_info
            and logging.getLogger().getEffectiveLevel() > logging.DEBUG
            and any(
                record.name.startswith(name) and record.getMessage().startswith(start)
                for name, start in _TRACEBACKS_WITHOUT_NEWS
            )
        ):
            record.exc_info = None
            record.exc_text = None
        return True


def configure_logging(
    level: str = "INFO", secrets: list[str] | None = None, *, json_lines: bool = False
) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_PtbFailuresInOneLine())
    formatter_class = JsonLinesFormatter if json_lines else RedactingFormatter
    handler.setFormatter(
        formatter_class("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets or [])
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # One line per HTTP request drowns the events that matter.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
