"""One sandbox: the fake Telegram, the real bot polling it, and the people who talk to it.

Everything production runs is here, assembled the production way — `build_application`,
PTB's HTTP stack, long polling, the job queue, the delivery engine — except that the Bot
API is the fake one on 127.0.0.1 and "now" is the sandbox's movable clock. The console
(`console.py`) only types for people and shows what came back; this module knows how to
wait for the bot to finish answering.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import HttpUrl, SecretStr

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import FloodSettings, Settings, StorageSettings, WebhookSettings
from bot.context import IncidentBotApp, delivery_of, services_of
from bot.delivery.rate_limiter import ChatRateLimiter
from bot.lifecycle import polling
from bot.models import OutboxKind, OutboxStatus
from bot.record.sample import load_sample
from bot.sandbox.clock import ClockChange, SandboxClock
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.objects import FakeUser, SentMessage
from bot.sandbox.terminal import Button, buttons_of
from storage import outbox
from storage.db import Database
from storage.subscribers import due_for_digest

__all__ = [
    "PEOPLE",
    "Arrival",
    "Outcome",
    "Persona",
    "Popup",
    "Sandbox",
    "SandboxError",
    "SandboxOptions",
]

SANDBOX_TOKEN = "123456789:sandbox-token-not-a-real-one"
SANDBOX_BOT_USERNAME = "incident_sandbox_bot"

# How long to wait for the bot. A person typing wants the answer shown as one block, so
# a reply is "finished" once nothing more has happened for QUIET seconds. The bot answers
# every message, so the long FIRST_REPLY_WAIT is only spent on a slow first chart, or on
# a button press it answers silently (which still shows as activity: answerCallbackQuery).
FIRST_REPLY_WAIT = 10.0
QUIET = 0.3
TICK = 0.02
LONGEST_WAIT = 30.0
# Outbox rows due this soon (a paced or retried alert) still belong to the current answer:
# waiting for them keeps a script's output the same on every run.
DELIVERY_HORIZON = timedelta(seconds=10)
# The sample is stored as if loaded this long before the sandbox starts: a digest lists
# what was stored since the one before, and the first digest someone asks for should not
# call eighteen incidents from 2023 and 2024 new.
SAMPLE_AGE = timedelta(days=8)
# Requests the bot makes on its own, all the time; they say nothing about an answer.
_BACKGROUND_METHODS = frozenset({"getUpdates", "getMe"})


class SandboxError(Exception):
    """Something the console cannot do, worded for the person typing."""


@dataclass(frozen=True)
class Persona:
    """Someone who can type in the sandbox; `key` is what /as takes."""

    key: str
    name: str
    user_id: int


YOU = Persona("you", "You", 100001)
OWNER = Persona("owner", "Owner", 100002)
PEOPLE: tuple[Persona, ...] = (
    YOU,
    OWNER,
    Persona("alice", "Alice", 100003),
    Persona("bob", "Bob", 100004),
    Persona("carol", "Carol", 100005),
)


@dataclass(frozen=True)
class SandboxOptions:
    as_admin: bool = False
    db_path: Path | None = None
    photos_dir: Path | None = None
    start: ClockChange | None = None


@dataclass(frozen=True)
class Arrival:
    """One thing the bot did in someone's chat: a message sent, or one edited."""

    persona: Persona
    message: SentMessage
    kind: OutboxKind | None = None  # set when the delivery engine sent it
    photo_path: str | None = None


@dataclass(frozen=True)
class Popup:
    """How the bot answered a button press: a toast, or an alert the user must close."""

    text: str
    alert: bool


@dataclass
class Outcome:
    arrivals: list[Arrival] = field(default_factory=list)
    popup: Popup | None = None
    deleted: list[tuple[Persona, int]] = field(default_factory=list)

    @property
    def nothing_seen(self) -> bool:
        return not self.arrivals and self.popup is None and not self.deleted

    def to(self, persona: Persona) -> list[Arrival]:
        return [arrival for arrival in self.arrivals if arrival.persona == persona]

    def to_others_than(self, persona: Persona) -> list[Arrival]:
        return [arrival for arrival in self.arrivals if arrival.persona != persona]


class Sandbox:
    def __init__(
        self,
        api: FakeBotApi,
        app: IncidentBotApp,
        clock: SandboxClock,
        settings: Settings,
        photos_dir: Path,
        users: dict[str, FakeUser],
        *,
        keeps_photos: bool,
    ) -> None:
        self.api = api
        self.app = app
        self.clock = clock
        self.settings = settings
        self.photos_dir = photos_dir
        self.keeps_photos = keeps_photos  # False: photos go with the temporary directory
        self.speaker = YOU
        self._users = users
        self._request_cursor = len(api.requests)
        self._deleted_cursor = len(api.deleted_messages)
        self._photo_count = 0
        self._outbox_rows_seen: set[int] = set()
        self._persona_of_chat = {persona.user_id: persona for persona in PEOPLE}
        self._chat_ids = sorted(self._persona_of_chat)

    @classmethod
    @asynccontextmanager
    async def open(cls, base: Settings, options: SandboxOptions) -> AsyncIterator[Sandbox]:
        """Start everything; on leaving, stop the bot first, then the fake, then clean up."""
        async with AsyncExitStack() as stack:
            workdir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="incident-bot-sandbox-"))
            )
            clock = SandboxClock()
            if isinstance(options.start, datetime):
                clock.set(options.start)
            elif isinstance(options.start, timedelta):
                clock.advance(options.start)
            # Message dates come from the same clock, so what the bot reads off a message
            # (/draft dates a report by it) agrees with what it reads off its own clock.
            api = FakeBotApi(
                SANDBOX_TOKEN,
                bot_username=SANDBOX_BOT_USERNAME,
                clock=lambda: clock.now().timestamp(),
            )
            await stack.enter_async_context(api)
            users = {
                persona.key: api.add_user(persona.name, user_id=persona.user_id)
                for persona in PEOPLE
            }
            db_path = options.db_path or workdir / "sandbox.sqlite3"
            owners = [OWNER.user_id, *([YOU.user_id] if options.as_admin else [])]
            settings = sandbox_settings(base, api, db_path, owners)
            if options.db_path is None:
                async with Database(db_path) as db:
                    await load_sample(db, ManualClock(clock.now() - SAMPLE_AGE))
            app = build_application(settings, clock)
            # A short long-poll, as in the tests: leaving the sandbox should not wait for one.
            await stack.enter_async_context(polling(app, poll_timeout=1))
            photos_dir = options.photos_dir or workdir / "photos"
            photos_dir.mkdir(parents=True, exist_ok=True)
            keeps = options.photos_dir is not None
            yield cls(api, app, clock, settings, photos_dir, users, keeps_photos=keeps)

    # ------------------------------------------------------------------ people

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.bot.tzinfo

    def is_owner(self, persona: Persona) -> bool:
        return persona.user_id in self.settings.telegram.admins

    def switch(self, name: str) -> Persona:
        wanted = name.strip().lower()
        for persona in PEOPLE:
            if wanted in (persona.key, persona.name.lower(), str(persona.user_id)):
                self.speaker = persona
                return persona
        names = ", ".join(persona.key for persona in PEOPLE)
        raise SandboxError(f"There is nobody called {name!r} here; choose from {names}")

    # ------------------------------------------------------------------ acting

    async def say(self, text: str) -> Outcome:
        """The speaker sends `text` in their private chat with the bot."""
        if not text.strip():
            raise SandboxError("Telegram does not send empty messages")
        outcome = await self.arrived()
        self.api.send_message(self._users[self.speaker.key], text)
        return await self._collect(outcome, expect_reply=True)

    async def press(self, which: str) -> Outcome:
        """Press button `which` (its number or its label) on the latest message with buttons."""
        message, button = self.find_button(which)
        if button.callback_data is None:
            raise SandboxError(f"[{button.number}] {button.label} opens {button.url}")
        user = self._users[self.speaker.key]
        outcome = await self.arrived()
        try:
            query_id = self.api.press_button(user, message, button.callback_data)
        except LookupError as error:
            raise SandboxError(str(error)) from None
        outcome = await self._collect(outcome, expect_reply=True)
        answer = self.api.callback_answers.get(query_id, {})
        if isinstance(answer.get("text"), str) and answer["text"]:
            outcome.popup = Popup(answer["text"], bool(answer.get("show_alert")))
        return outcome

    def find_button(self, which: str) -> tuple[SentMessage, Button]:
        """The button a press means, on the speaker's latest message that has buttons."""
        message = self.latest_with_buttons()
        if message is None:
            raise SandboxError(f"There is no message with buttons in {self.speaker.name}'s chat")
        buttons = [button for row in buttons_of(message) for button in row]
        wanted = which.strip().removeprefix("[").removesuffix("]").strip()
        exact = [b for b in buttons if wanted in (str(b.number), b.label)]
        # "Iraq" should press "✅ Iraq" too: labels carry ticks and arrows.
        partial = [b for b in buttons if wanted and wanted.casefold() in b.label.casefold()]
        if exact or len(partial) == 1:
            return message, (exact or partial)[0]
        shown = "  ".join(button.shown() for button in buttons)
        if partial:
            raise SandboxError(f"{which.strip()!r} could be any of several buttons: {shown}")
        raise SandboxError(f"The latest message with buttons has no button {which!r}: {shown}")

    def latest_with_buttons(self) -> SentMessage | None:
        for message in reversed(self.api.messages_in(self.speaker.user_id)):
            if any(buttons_of(message)):
                return message
        return None

    async def move_clock(self, change: ClockChange) -> Outcome:
        """Move the clock, then send whatever fell due on the way, as the scheduler would.

        The digest job would notice within a minute of real time; running it here shows
        the digests under the /clock line that made them due.
        """
        outcome = await self.arrived()
        target = change if isinstance(change, datetime) else self.clock.now() + change
        queued = await self._let_time_pass(target)
        # Alerts held back by quiet hours may be due now as well.
        delivery_of(self.app).wake()
        return await self._collect(outcome, expect_reply=queued > 0)

    async def _let_time_pass(self, target: datetime) -> int:
        """Go to `target`, stopping at each digest slot on the way; how many were queued.

        Jumping straight there would make every slot passed over a digest missed by
        more than the grace period, as if the bot had been down, and skip it. With the
        scheduler running, each is dispatched at its own time.
        """
        services = services_of(self.app)
        queued = 0
        passed: datetime | None = None
        while self.clock.now() < target:
            due = await due_for_digest(services.db.reader, target, 1)
            slot = due[0].next_digest_at if due else None
            if slot is None or (passed is not None and slot <= passed):
                break  # nothing more on the way (or a slot that would not move on)
            if slot > self.clock.now():
                self.clock.set(slot)
            queued += (await services.digests.dispatch_due()).queued
            passed = slot
        self.clock.set(target)
        return queued + (await services.digests.dispatch_due()).queued

    async def arrived(self) -> Outcome:
        """What the bot has done since the last look, without waiting for more.

        Each action starts with this, so that what came before it (an alert let out
        of quiet hours while nobody typed) is not taken for the start of its answer.
        """
        outcome = Outcome()
        await self._drain(outcome)
        self._bot_was_busy()
        await self._label_deliveries(outcome)
        return outcome

    # ------------------------------------------------------------------ watching the bot

    async def _collect(self, outcome: Outcome, *, expect_reply: bool) -> Outcome:
        """Add to `outcome` what the bot does from now until it has finished answering."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        last_activity: float | None = None if expect_reply else started
        already_labelled = len(outcome.arrivals)
        while True:
            now = loop.time()
            if await self._drain(outcome) or self._bot_was_busy() or self._reply_paced():
                last_activity = now
            if now - started >= LONGEST_WAIT:
                break
            if last_activity is None:
                if now - started >= FIRST_REPLY_WAIT:
                    break
            elif now - last_activity >= QUIET and not await self._delivery_due():
                break
            await asyncio.sleep(TICK)
        await self._label_deliveries(outcome, since=already_labelled)
        return outcome

    async def _drain(self, outcome: Outcome) -> bool:
        found = False
        for persona in PEOPLE:
            while self.api.pending_replies(persona.user_id):
                message = await self.api.next_reply(persona.user_id, timeout=1.0)
                outcome.arrivals.append(
                    Arrival(persona, message, photo_path=self._save_photo(message))
                )
                found = True
        deleted = self.api.deleted_messages[self._deleted_cursor :]
        self._deleted_cursor += len(deleted)
        for chat_id, message_id in deleted:
            owner = self._persona_of_chat.get(chat_id)
            if owner is not None:
                outcome.deleted.append((owner, message_id))
                found = True
        return found

    def _bot_was_busy(self) -> bool:
        """Whether the bot made a call that belongs to an answer since the last look."""
        requests = self.api.requests[self._request_cursor :]
        self._request_cursor += len(requests)
        return any(method not in _BACKGROUND_METHODS for method, _ in requests)

    def _reply_paced(self) -> bool:
        """Whether a reply is waiting for its chat's pace (a second between messages)."""
        limiter = self.app.bot.rate_limiter
        return isinstance(limiter, ChatRateLimiter) and limiter.replies_waiting > 0

    async def _delivery_due(self) -> bool:
        """Whether the delivery engine is sending, or about to send, to anyone here.

        A claimed row can wait in the engine for its chat's pace (up to a second) after
        the messages around it went out, so rows being sent count as well as due ones.
        """
        reader = services_of(self.app).db.reader
        horizon = self.clock.now() + DELIVERY_HORIZON
        return any(
            row.status is OutboxStatus.SENDING
            or (row.status is OutboxStatus.PENDING and row.not_before <= horizon)
            for row in await outbox.items_for(reader, self._chat_ids)
        )

    async def _label_deliveries(self, outcome: Outcome, *, since: int = 0) -> None:
        """Mark which arrivals the delivery engine sent, and as what (alert, digest…).

        Rows carrying their message (digests, corrections) are matched by their text;
        alerts are composed when sent, so an arrival no text matched takes the next
        alert row sent to the same chat.
        """
        unlabelled = outcome.arrivals[since:]
        if not unlabelled:
            return
        chats = sorted({arrival.persona.user_id for arrival in unlabelled})
        rows = await outbox.items_for(services_of(self.app).db.reader, chats)
        fresh = [
            row
            for row in rows
            if row.status is OutboxStatus.SENT and row.id not in self._outbox_rows_seen
        ]
        self._outbox_rows_seen.update(row.id for row in fresh)
        labelled = outcome.arrivals[:since]
        for arrival in unlabelled:
            chat_id = arrival.persona.user_id
            match = next(
                (
                    row
                    for row in fresh
                    if row.chat_id == chat_id
                    and row.payload is not None
                    and row.payload.html == arrival.message.html
                ),
                None,
            )
            if match is None and arrival.message.method in ("sendMessage", "sendPhoto"):
                match = next(
                    (
                        row
                        for row in fresh
                        if row.chat_id == chat_id and row.kind is OutboxKind.ALERT
                    ),
                    None,
                )
            if match is not None:
                fresh.remove(match)
                arrival = Arrival(arrival.persona, arrival.message, match.kind, arrival.photo_path)
            labelled.append(arrival)
        outcome.arrivals = labelled

    def _save_photo(self, message: SentMessage) -> str | None:
        if message.photo is None:
            return None
        self._photo_count += 1
        suffix = ".png" if message.photo.startswith(b"\x89PNG") else ".jpg"
        path = self.photos_dir / f"photo-{self._photo_count}{suffix}"
        path.write_bytes(message.photo)
        return str(path)


def sandbox_settings(base: Settings, api: FakeBotApi, db_path: Path, owners: list[int]) -> Settings:
    """The configuration the bot runs with: the person's own, pointed at the sandbox.

    Their timezone, delivery and tension settings stay; the Bot API, token, owners,
    database, channel and webhook are the sandbox's, and per-user flood control is
    off (a script types far faster than anyone could). A copy, not a new Settings(), so
    that INCIDENT_BOT_* variables meant for the real bot cannot override these.
    """
    telegram = base.telegram.model_copy(
        update={
            "token": SecretStr(api.token),
            "api_base_url": HttpUrl(api.api_root),
            "admins": owners,
            "channel_id": None,
        }
    )
    return base.model_copy(
        update={
            "telegram": telegram,
            "storage": StorageSettings(path=db_path),
            "webhook": WebhookSettings(),
            "flood": FloodSettings(commands=1_000_000),
        }
    )
