"""The one module that knows python-telegram-bot's private and changing API."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest
from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

from bot.ptb_compat import retry_after_seconds


@pytest.mark.parametrize("ptb_timedelta", ["", "true"])
@pytest.mark.parametrize(
    ("given", "seconds"), [(3, 3.0), (timedelta(seconds=1.5), 1.5), (timedelta(minutes=2), 120.0)]
)
def test_retry_after_in_seconds_whatever_ptb_timedelta_says(
    monkeypatch: pytest.MonkeyPatch, ptb_timedelta: str, given: int | timedelta, seconds: float
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", ptb_timedelta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)  # RetryAfter's own __init__
        error = RetryAfter(given)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert retry_after_seconds(error) == seconds
