"""Reading a report takes about as long whatever the report holds.

A regular expression that can match the same text in many ways tries every one of them
before it gives up: a list of numbers and commas ("2, 500, 300, ...") once took the
extractor longer than a minute for a few hundred characters, freezing the bot for everyone.
Times here are only compared with each other, measured side by side on the same machine as
processor time (which a busy machine does not inflate): an odd text may take at most ten
times as long as a plain report of the same length. The only clock figure is HANG, a guard
against a run that would never end.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.newsroom.extractor import MAX_REPORT_CHARS, propose_incident

PUBLISHED = date(2024, 8, 10)
PLAIN_REPORT = (Path(__file__).parent / "fixtures" / "ain_al_asad_article.txt").read_text("utf-8")
# A plain report is read in well under a second; only a runaway comes near this.
HANG = 60.0
AT_MOST_TIMES_PLAIN = 10

# Pieces of the wording the casualty, date, place and claim rules look for, and the commas,
# spaces and dots between them: repeated and mixed, they make the texts that make regular
# expressions backtrack.
PIECES = (
    "2",
    "500",
    "2,500",
    "2, 500",
    ",",
    ", ",
    " ",
    " and ",
    " killed",
    " were ",
    " wounded",
    " a ",
    " an ",
    " one",
    " two",
    " soldiers",
    " U.S.",
    ". ",
    "-",
    "al-",
    " Ain al-Asad",
    " on Monday",
    " 2024-08-05",
    " 5 Aug",
    " no one",
    " claimed",
    " calling itself Abc",
    " Tower 22",
    " Among the wounded were ",
    "\n",
)


def _cpu_time_to_read(text: str) -> float:
    """The processor time reading `text` takes (not the time waited for a busy machine),
    failing, not hanging, if the reading runs away."""
    taken: list[float] = []

    def read() -> None:
        started = time.thread_time()
        propose_incident(text, published=PUBLISHED)
        taken.append(time.thread_time() - started)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(HANG)
    if reader.is_alive():
        pytest.fail(f"reading {len(text)} characters did not end within {HANG:g} s: {text[:80]!r}")
    return taken[0]


def _fastest(text: str, plain: str) -> tuple[float, float]:
    """The least processor time of three readings of `text` and of `plain`, in turns."""
    odd, usual = float("inf"), float("inf")
    for _ in range(3):
        odd = min(odd, _cpu_time_to_read(text))
        usual = min(usual, _cpu_time_to_read(plain))
    return odd, usual


def _repeated(piece: str, length: int) -> str:
    return (piece * (length // len(piece) + 1))[:length]


def _assert_about_as_fast_as_a_plain_report(text: str) -> None:
    odd, usual = _fastest(text, _repeated(PLAIN_REPORT, len(text)))
    assert odd <= AT_MOST_TIMES_PLAIN * usual, (
        f"{len(text)} characters took {odd:.3f} s, a plain report as long {usual:.3f} s: "
        f"{text[:80]!r}"
    )


@pytest.fixture(scope="module", autouse=True)
def _compiled() -> None:
    """The first reading compiles the gazetteer's patterns; it is not what is measured."""
    propose_incident("Rockets hit Baghdad.", published=PUBLISHED)


def test_a_list_of_numbers_and_commas_is_read_as_fast_as_a_report() -> None:
    # The report that froze the bot for 23 seconds.
    text = "Shelling near Deir ez-Zor: " + "2, 500, 300, " * 11 + " killed"
    _assert_about_as_fast_as_a_plain_report(text)
    _assert_about_as_fast_as_a_plain_report(_repeated("2, 500, 300, ", 1000) + " killed")


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=10))
def test_any_repeated_wording_is_read_as_fast_as_a_report(pieces: list[str]) -> None:
    _assert_about_as_fast_as_a_plain_report(_repeated("".join(pieces), 1000))


@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(st.sampled_from((*PIECES, *"ab1 ,.-'\"")), min_size=200, max_size=600))
def test_a_long_random_text_is_read_as_fast_as_a_report(pieces: list[str]) -> None:
    text = "".join(pieces)
    _assert_about_as_fast_as_a_plain_report(_repeated(text, MAX_REPORT_CHARS))


def test_only_the_first_part_of_an_overlong_text_is_read_and_the_notes_say_so() -> None:
    head = "Rockets hit Ain al-Asad air base on 5 August, wounding two soldiers. "
    tail = "Elsewhere, 99 soldiers were killed. " * (MAX_REPORT_CHARS // 30)
    proposal = propose_incident(head + " " * MAX_REPORT_CHARS + tail, published=PUBLISHED)
    assert proposal.killed is None
    assert proposal.injured is not None and proposal.injured.value == 2
    assert any("characters of the report were read" in note for note in proposal.notes)
    short = propose_incident(head, published=PUBLISHED)
    assert not any("characters of the report were read" in note for note in short.notes)
