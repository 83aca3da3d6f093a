"""`incident-bot sandbox`: talk to the real bot in a terminal, without Telegram or a token.

The person types as a Telegram user would; a few lines are the console's own:

    /as NAME      type as someone else (/as alone lists the people)
    /clock WHEN   move the sandbox's clock: +1d, +3h, +30m, or 2024-08-10 12:00
    [N]           press button N of the latest message with buttons (also /press N)
    /sandbox      the console's help; /quit (or Ctrl-D) leaves

`--script FILE` reads the lines from a file instead (one message a line; `#` lines are
comments, echoed) and writes the conversation to standard output, without colours, so
that the same script gives the same transcript on every run: the README's examples
are made this way.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, TextIO

from bot.config import Settings
from bot.sandbox.clock import describe_shift, parse_clock_change
from bot.sandbox.objects import SentMessage
from bot.sandbox.session import (
    PEOPLE,
    Arrival,
    Outcome,
    Persona,
    Sandbox,
    SandboxError,
    SandboxOptions,
)
from bot.sandbox.terminal import first_words, message_lines

__all__ = ["Entry", "main", "outcome_lines", "parse_script", "run_lines"]

INDENT = "  "
# More messages than this to other people in one go are counted, not listed.
LISTED_SUMMARIES = 3
EXIT_USAGE = 2

HELP = """\
Sandbox commands (anything else goes to the bot as a message):
  /as NAME      type as someone else: you, owner, alice, bob, carol (/as alone lists them)
  /clock WHEN   move the clock: +1d, +3h, +30m, or a time such as 2024-08-10 12:00
                (/clock alone shows it); digests that fall due are sent at once
  [N]           press button N of the latest message with buttons; /press Publish works too
  /sandbox      this help; /quit or Ctrl-D leaves
End a line with \\ to carry the message on to the next line; a pasted block is one message."""


@dataclass(frozen=True)
class Entry:
    """One step of a script: a comment, a blank line, or a line to act on."""

    text: str
    kind: Literal["comment", "blank", "line"]


def parse_script(lines: Iterable[str]) -> list[Entry]:
    """Comments and blank lines as they are; a line ending in `\\` runs on to the next."""
    entries: list[Entry] = []
    pending: list[str] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if pending:
            pending.append(line.rstrip())
        elif line.lstrip().startswith("#"):
            entries.append(Entry(line, "comment"))
            continue
        elif not line.strip():
            entries.append(Entry("", "blank"))
            continue
        else:
            pending.append(line.rstrip())
        if pending[-1].endswith("\\"):
            pending[-1] = pending[-1][:-1].rstrip()
            continue
        entries.append(Entry("\n".join(pending), "line"))
        pending = []
    if pending:
        entries.append(Entry("\n".join(pending), "line"))
    return entries


class Console:
    """Carries out the lines one by one and says what happened, as lines of text."""

    def __init__(self, sandbox: Sandbox, *, ansi: bool, photo_paths: bool) -> None:
        self.sandbox = sandbox
        self.ansi = ansi
        self.photo_paths = photo_paths
        self.problems = 0
        self.finished = False
        self.seen: dict[tuple[int, int], SentMessage] = {}

    @property
    def prompt(self) -> str:
        return f"{self.sandbox.speaker.name}> "

    def echo(self, text: str) -> list[str]:
        """The line as typed, after the prompt; a multi-line message stays aligned."""
        continuation = "\n" + " " * len(self.prompt)
        return [self.prompt + text.replace("\n", continuation)]

    async def act(self, text: str) -> list[str]:
        command, _, rest = text.strip().partition(" ")
        command = command.lower()
        try:
            if command == "/as":
                return self._switch(rest)
            if command == "/clock":
                return await self._clock(rest)
            if command == "/press":
                if not rest.strip():
                    raise SandboxError("Say which button: /press 1, or /press Publish")
                return self._show(await self.sandbox.press(rest))
            if command.startswith("[") and text.strip().endswith("]"):
                return self._show(await self.sandbox.press(text.strip()))
            if command == "/sandbox":
                return [INDENT + line for line in HELP.split("\n")]
            if command in ("/quit", "/exit"):
                self.finished = True
                return []
            return self._show(await self.sandbox.say(text))
        except SandboxError as error:
            self.problems += 1
            return [f"{INDENT}[sandbox] {error}"]

    async def meanwhile(self) -> list[str]:
        """What arrived while nobody typed (alerts out of quiet hours, digests)."""
        outcome = await self.sandbox.arrived()
        return [] if outcome.nothing_seen else self._show(outcome)

    def _switch(self, name: str) -> list[str]:
        sandbox = self.sandbox
        if not name.strip():
            lines = [f"{INDENT}[sandbox] who can type (/as NAME):"]
            for persona in PEOPLE:
                role = "owner" if sandbox.is_owner(persona) else ""
                typing = "← typing" if persona == sandbox.speaker else ""
                line = (
                    f"{persona.key:<6} {persona.name:<6} id {persona.user_id}  {role:<5} {typing}"
                )
                lines.append(f"{INDENT}  {line.rstrip()}")
            return lines
        persona = sandbox.switch(name)
        role = ", an owner" if sandbox.is_owner(persona) else ""
        return [f"{INDENT}[sandbox] now typing as {persona.name} (id {persona.user_id}{role})"]

    async def _clock(self, text: str) -> list[str]:
        sandbox = self.sandbox
        if not text.strip():
            return [f"{INDENT}[sandbox] clock: {self._when(sandbox.clock.now())}"]
        try:
            change = parse_clock_change(text, sandbox.zone)
        except ValueError as error:
            raise SandboxError(str(error)) from None
        before = sandbox.clock.now()
        outcome = await sandbox.move_clock(change)
        after = sandbox.clock.now()
        moved = "" if isinstance(change, datetime) else f" ({describe_shift(after - before)})"
        shown = outcome_lines(
            outcome,
            sandbox.speaker,
            ansi=self.ansi,
            seen=self.seen,
            photo_paths=self.photo_paths,
            note_silence=False,
        )
        return [f"{INDENT}[sandbox] clock: {self._when(after)}{moved}", *shown]

    def _when(self, moment: datetime) -> str:
        local = moment.astimezone(self.sandbox.zone)
        return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"

    def _show(self, outcome: Outcome) -> list[str]:
        return outcome_lines(
            outcome,
            self.sandbox.speaker,
            ansi=self.ansi,
            seen=self.seen,
            photo_paths=self.photo_paths,
        )


def outcome_lines(
    outcome: Outcome,
    speaker: Persona,
    *,
    ansi: bool,
    seen: dict[tuple[int, int], SentMessage] | None = None,
    photo_paths: bool = True,
    note_silence: bool = True,
) -> list[str]:
    """What the speaker sees in full, then a line for each message to someone else.

    `seen` holds the last version of every message shown so far, so that an edit can
    show what changed; it is brought up to date here. Without `photo_paths` a photo is
    described instead of located: a script's transcript must not name a temporary
    directory, which differs on every run and is gone when the script ends.
    """
    seen = {} if seen is None else seen
    lines: list[str] = []
    if outcome.popup is not None:
        shape = "alert box" if outcome.popup.alert else "notice"
        lines.append(f"{INDENT}[{shape}] {outcome.popup.text}")
    for index, arrival in enumerate(outcome.to(speaker)):
        if index:
            lines.append("")
        message = arrival.message
        shown = message_lines(
            message,
            ansi=ansi,
            photo_path=arrival.photo_path if photo_paths else None,
            previous=seen.get((message.chat_id, message.message_id)),
        )
        lines.extend(_indented(shown))
    for persona, message_id in outcome.deleted:
        if persona == speaker:
            lines.append(f"{INDENT}(the bot deleted message {message_id})")
    lines.extend(_summaries(outcome.to_others_than(speaker)))
    if outcome.nothing_seen and note_silence:
        lines.append(f"{INDENT}(no reply)")
    for arrival in outcome.arrivals:
        seen[(arrival.message.chat_id, arrival.message.message_id)] = arrival.message
    return lines


def _indented(lines: Sequence[str]) -> Iterator[str]:
    for line in lines:
        yield INDENT + line if line.strip() else ""


def _summaries(arrivals: Sequence[Arrival]) -> list[str]:
    if len(arrivals) <= LISTED_SUMMARIES:
        return [
            f"{INDENT}↳ {_what(arrival)} to {arrival.persona.name}: {first_words(arrival.message)}"
            for arrival in arrivals
        ]
    counts: dict[str, list[str]] = {}
    for arrival in arrivals:
        names = counts.setdefault(_what(arrival), [])
        if arrival.persona.name not in names:
            names.append(arrival.persona.name)
    lines = []
    for what, names in counts.items():
        count = sum(1 for arrival in arrivals if _what(arrival) == what)
        lines.append(f"{INDENT}↳ {count} {what}{'s' if count > 1 else ''} to {_names(names)}")
    return lines


def _what(arrival: Arrival) -> str:
    if arrival.kind is not None:
        return arrival.kind.value
    return "edit" if arrival.message.method.startswith("edit") else "message"


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# ---------------------------------------------------------------------- running


async def run_lines(sandbox: Sandbox, lines: Iterable[str], out: TextIO) -> int:
    """Script mode: each entry echoed, then what came of it. 1 if any line was refused."""
    console = Console(sandbox, ansi=False, photo_paths=sandbox.keeps_photos)
    for entry in parse_script(lines):
        # Every answer ends with a blank line, so the script's own blank lines would
        # only double them.
        if entry.kind == "comment":
            _write(out, [entry.text])
        elif entry.kind == "line":
            _write(out, console.echo(entry.text))
            _write(out, [*await console.act(entry.text), ""])
            if console.finished:
                break
    return 1 if console.problems else 0


async def run_terminal(sandbox: Sandbox, out: TextIO, *, banner: list[str]) -> int:
    """Interactive mode: a prompt; messages that arrive while it waits are shown at once."""
    ansi = out.isatty() and "NO_COLOR" not in os.environ
    console = Console(sandbox, ansi=ansi, photo_paths=True)
    _write(out, banner)
    reader = _LineReader()
    while not console.finished:
        prompt = console.prompt
        reading = asyncio.ensure_future(reader.read(prompt))
        while not reading.done():
            done, _ = await asyncio.wait({reading}, timeout=0.5)
            if not done:
                arrived = await console.meanwhile()
                if arrived:
                    _interrupt_prompt(out, prompt, arrived)
        text = reading.result()
        if text is None:
            out.write("\n")
            break
        if text.strip():
            _write(out, [*await console.act(text), ""])
        else:
            # Enter on its own shows whatever has arrived, without waiting for the watch.
            _write(out, await console.meanwhile())
    return 0


def _write(out: TextIO, lines: Sequence[str]) -> None:
    for line in lines:
        out.write(line + "\n")
    out.flush()


def _interrupt_prompt(out: TextIO, prompt: str, lines: Sequence[str]) -> None:
    """Show lines above the prompt and draw the prompt again with what was typed so far."""
    if not out.isatty():
        _write(out, lines)
        return
    typed = ""
    with contextlib.suppress(ImportError):
        import readline

        typed = readline.get_line_buffer()
    out.write("\r\x1b[2K")
    _write(out, lines)
    out.write(prompt + typed)
    out.flush()


class _LineReader:
    """Reads what the person types on a thread, so the bot keeps running meanwhile.

    A thread blocked in input() cannot be interrupted; as a daemon it does not keep the
    process alive when the person leaves with Ctrl-C.
    """

    def __init__(self) -> None:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())

    async def read(self, prompt: str) -> str | None:
        loop = asyncio.get_running_loop()
        result: asyncio.Future[str | None] = loop.create_future()

        def deliver(value: str | None) -> None:
            if not result.done():
                result.set_result(value)

        def work() -> None:
            value = _read_message(prompt)
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                loop.call_soon_threadsafe(deliver, value)

        threading.Thread(target=work, name="sandbox-input", daemon=True).start()
        return await result


def _read_message(prompt: str) -> str | None:
    """One message: a line, the lines it continues onto with `\\`, and the rest of a paste."""
    continuation = " " * len(prompt)
    try:
        lines = [input(prompt)]
        while True:
            if lines[-1].endswith("\\"):
                lines[-1] = lines[-1][:-1].rstrip()
                lines.append(input(continuation))
            elif _more_typed_already():
                # Pasted lines arrive together; in Telegram a paste is one message.
                lines.append(input(continuation))
            else:
                return "\n".join(lines)
    except EOFError:
        return None


def _more_typed_already() -> bool:
    try:
        ready, _, _ = select.select([sys.stdin], [], [], 0.03)
    except (OSError, ValueError):
        return False  # no select() on this kind of input (Windows consoles)
    return bool(ready)


async def main(
    settings: Settings,
    options: SandboxOptions,
    *,
    script: Path | None,
    out: TextIO,
) -> int:
    """Run the sandbox: the script's lines, or standard input if it is not a terminal."""
    lines: list[str] | None = None
    if script is not None and str(script) != "-":
        try:
            lines = script.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            print(f"incident-bot: {script}: {error.strerror}", file=sys.stderr)
            return EXIT_USAGE
    elif script is not None or not sys.stdin.isatty():
        lines = sys.stdin.read().splitlines()
    async with Sandbox.open(settings, options) as sandbox:
        if lines is not None:
            return await run_lines(sandbox, lines, out)
        return await run_terminal(sandbox, out, banner=_banner(sandbox, options))


def _banner(sandbox: Sandbox, options: SandboxOptions) -> list[str]:
    data = (
        f"the database {options.db_path}"
        if options.db_path
        else "a throw-away database with the sample data"
    )
    you = "an owner" if sandbox.is_owner(PEOPLE[0]) else "a user; /as owner to post incidents"
    return [
        "incident-bot sandbox: the real bot and a pretend Telegram, on this computer only.",
        f"It uses {data}; photos go to {sandbox.photos_dir}.",
        f"You are typing as You ({you}). Try /start, /latest 3, /troops, /subscribe Iraq.",
        "",
        HELP,
        "",
    ]
