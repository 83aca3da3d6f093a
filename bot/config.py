"""Configuration: a TOML file, overridden by INCIDENT_BOT_* environment variables.

Precedence, highest first: INCIDENT_BOT_SECTION__KEY variables, TELEGRAM_BOT_TOKEN
(for the token only), the TOML file, the defaults below.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    PositiveInt,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError

from bot.numbers import TELEGRAM_USER_ID_MAX
from bot.plain_errors import plain_message

DEFAULT_CONFIG_PATH = Path("config.toml")
OFFICIAL_API_BASE_URL = "https://api.telegram.org"
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


class ConfigError(Exception):
    """A configuration problem, worded for the person who runs the bot."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TelegramSettings(_Section):
    token: SecretStr | None = Field(default=None, description="Bot token from @BotFather.")
    api_base_url: HttpUrl = Field(
        default=HttpUrl(OFFICIAL_API_BASE_URL),
        description="Bot API server; change only for a self-hosted server or the fake one.",
    )
    admins: list[Annotated[PositiveInt, Field(le=TELEGRAM_USER_ID_MAX)]] = Field(
        default_factory=list, description="Numeric Telegram user ids of the owners."
    )
    http_backend: Literal["aiohttp", "httpx"] = Field(
        default="aiohttp",
        description="HTTP client under python-telegram-bot: aiohttp (faster) or PTB's httpx.",
    )
    connection_pool_size: int = Field(
        default=64, ge=1, le=1024, description="Connections kept open to the Bot API."
    )
    channel_id: int | str | None = Field(
        default=None,
        description="Channel every published incident is also posted to: -100… id or @name.",
    )

    @field_validator("channel_id")
    @classmethod
    def _channel_is_id_or_username(cls, channel: int | str | None) -> int | str | None:
        if isinstance(channel, str) and not re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{4,31}", channel):
            raise ValueError("expected a numeric chat id (-100…) or a public @channelname")
        return channel

    @field_validator("token")
    @classmethod
    def _token_has_bot_token_shape(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and not _TOKEN_SHAPE.match(token.get_secret_value()):
            raise ValueError(
                "does not look like a bot token (digits, a colon, then letters and digits, "
                "as @BotFather gives it)"
            )
        return token

    @property
    def api_root(self) -> str:
        return str(self.api_base_url).rstrip("/")

    @property
    def api_password(self) -> str | None:
        """The password of a Bot API server behind HTTP authentication (user:pass@host),
        a secret like the token."""
        return self.api_base_url.password

    @property
    def shown_api_root(self) -> str:
        """api_root as it may be shown or logged: any password masked."""
        password = self.api_password
        return self.api_root.replace(f":{password}@", ":***@", 1) if password else self.api_root


class StorageSettings(_Section):
    path: Path = Field(default=Path("incident-bot.sqlite3"), description="SQLite database file.")


class BotSettings(_Section):
    timezone: str = Field(default="UTC", description="IANA timezone used to show times.")

    @field_validator("timezone")
    @classmethod
    def _timezone_is_known(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {name!r}; use an IANA name such as 'UTC' or 'Asia/Baghdad'"
            ) from None
        return name

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class DeliverySettings(_Section):
    """Pacing and retries of messages to subscribers; defaults are Telegram's published limits."""

    global_per_second: float = Field(default=30, gt=0, description="Messages a second, overall.")
    private_chat_per_second: float = Field(default=1, gt=0, description="Per private chat.")
    group_per_minute: float = Field(default=20, gt=0, description="Per group or channel.")
    max_attempts: int = Field(default=5, ge=1, description="Tries before a message is failed.")
    retry_backoff_seconds: float = Field(default=5, gt=0, description="First retry delay.")
    concurrency: int = Field(default=16, ge=1, le=512, description="Sends in flight at once.")
    digest_grace_hours: float = Field(
        default=6, ge=0, description="How late a missed digest may still be sent."
    )
    digest_check_seconds: float = Field(
        default=60, gt=0, description="How often the dispatcher looks for due digests."
    )


class FloodSettings(_Section):
    """Per-user flood control: someone sending more than `commands` messages or button
    presses within `per_seconds` gets one notice and is then ignored for
    `cooldown_seconds`; everyone else is answered as usual."""

    commands: int = Field(default=20, ge=1, description="Messages a user may send in a span.")
    per_seconds: float = Field(default=10, gt=0, description="The span, in seconds.")
    cooldown_seconds: float = Field(
        default=30, gt=0, description="How long a user over the limit is ignored."
    )
    refusal_audit_seconds: float = Field(
        default=600, ge=0, description="A stranger's refused admin commands: audited once so."
    )


class TensionSettings(_Section):
    """The regional tension index; the README explains the formula."""

    severity_weights: list[float] = Field(
        default=[1, 2, 4, 8, 16], min_length=5, max_length=5,
        description="Weight of an incident of severity 1..5.",
    )  # fmt: skip
    killed_weight: float = Field(default=1.0, ge=0, description="Added per person killed.")
    injured_weight: float = Field(default=0.25, ge=0, description="Added per person injured.")
    casualty_weight_cap: float = Field(
        default=20, ge=0, description="Most that casualties can add to one incident."
    )
    strike_weight: float = Field(
        default=0.5, ge=0, le=1,
        description="Share of its weight that a strike by US/coalition forces counts for.",
    )  # fmt: skip
    hostile_event_types: list[str] = Field(
        default=["Battles", "Explosions/Remote violence", "Violence against civilians"],
        description="ACLED event types that count; protests, riots and strategic "
        "developments do not.",
    )
    half_life_days: float = Field(default=7, gt=0, description="An incident's weight halves so.")
    baseline_days: int = Field(default=90, ge=7, description="The region's own normal.")
    baseline_floor: float = Field(
        default=1.0, gt=0, description="Smallest baseline, so a quiet region's first attack counts."
    )
    level_ratios: list[float] = Field(
        default=[0.75, 1.25, 2.0, 3.5], min_length=4, max_length=4,
        description="Index/baseline ratios where guarded, elevated, high and severe begin.",
    )  # fmt: skip
    evidence_days: int = Field(
        default=7, ge=1, description="Window in which a level above elevated needs evidence."
    )
    evidence_incidents: int = Field(
        default=2, ge=1,
        description="Incidents in that window needed above elevated, unless one killed someone.",
    )  # fmt: skip
    trend_threshold: float = Field(
        default=0.15, ge=0, description="Change of the 7-day mean that counts as a trend."
    )

    @field_validator("level_ratios")
    @classmethod
    def _ratios_increase(cls, ratios: list[float]) -> list[float]:
        if ratios != sorted(ratios) or len(set(ratios)) != len(ratios):
            raise ValueError("must increase, e.g. [0.75, 1.25, 2.0, 3.5]")
        return ratios


class EscalationSettings(_Section):
    """Escalation notices: the Nth attack on one site within a window."""

    attacks: int = Field(
        default=3, ge=2, description="The attack on one site that brings a notice (3: the 3rd)."
    )
    window_days: float = Field(default=7, gt=0, description="Days in which the attacks count.")
    cooldown_days: float = Field(
        default=7, ge=0, description="Days after a notice before the same site gets another."
    )
    radius_km: float = Field(
        default=25, gt=0, le=200, description="How near a site an attack counts as on it."
    )


class WebhookSettings(_Section):
    """Webhook mode (`incident-bot run --webhook`)."""

    public_url: HttpUrl | None = Field(
        default=None, description="The https URL at which Telegram reaches this server."
    )
    listen: str = Field(default="127.0.0.1", description="Address the server binds to.")
    port: int = Field(default=8443, ge=0, le=65535, description="Port the server binds to.")
    path: str = Field(
        default="/telegram", pattern=r"^/[A-Za-z0-9/_-]*$", description="Path of the webhook."
    )
    secret_token: SecretStr | None = Field(
        default=None,
        description="Shared secret Telegram sends with every update (1-256 of A-Z a-z 0-9 _ -).",
    )

    @field_validator("secret_token")
    @classmethod
    def _secret_has_telegram_shape(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", secret.get_secret_value()
        ):
            raise ValueError("must be 1 to 256 characters, each A-Z, a-z, 0-9, _ or -")
        return secret

    @property
    def secret(self) -> str:
        assert self.secret_token is not None, "checked by Settings.require_webhook"
        return self.secret_token.get_secret_value()

    @property
    def public_url_with_path(self) -> str:
        assert self.public_url is not None
        return str(self.public_url).rstrip("/") + self.path


class MonitoringSettings(_Section):
    """/metrics (Prometheus) and /healthz, on a port of their own."""

    listen: str = Field(default="127.0.0.1", description="Address the monitoring server binds to.")
    port: int | None = Field(
        default=None, ge=0, le=65535,
        description="Port for /metrics and /healthz; not set: no monitoring server.",
    )  # fmt: skip
    max_update_silence_minutes: float | None = Field(
        default=None, gt=0,
        description="/healthz says unhealthy after this long without an update; not set: never.",
    )  # fmt: skip


class IntakeSettings(_Section):
    """News feeds the bot reads for proposed drafts (see "The newsroom's intake")."""

    feeds: list[HttpUrl] = Field(
        default_factory=list, description="RSS or Atom feeds to read, http or https."
    )
    poll_seconds: float = Field(default=300, ge=1, description="How often each feed is read.")
    max_age_hours: float = Field(
        default=48, gt=0, description="Older items are remembered but not proposed."
    )
    timeout_seconds: float = Field(default=20, gt=0, description="Longest wait for one feed.")
    max_bytes: int = Field(
        default=2_000_000, ge=10_000, description="Largest feed body read; larger ones fail."
    )
    fetch_linked_pages: bool = Field(
        default=False,
        description=(
            "When an item's description is short, read its linked page's main text "
            "(same timeout, size cap and User-Agent as the feeds)."
        ),
    )
    allow_private_addresses: bool = Field(
        default=False,
        description="Read feeds on this machine or a private network (127.0.0.1, 10.x, "
        "169.254.x.x): off, so that /feeds add cannot reach internal services.",
    )


class NewsroomSettings(_Section):
    """How incidents reach the record."""

    approvals_required: Literal[1, 2] = Field(
        default=1,
        description=(
            "Admins who must approve, each once, before an incident is published or a "
            "correction or retraction applied."
        ),
    )


class AtomFeedSettings(_Section):
    """The Atom feed of the record, which other newsrooms' tools can follow."""

    enabled: bool = Field(default=True, description="Serve GET /feed.atom in webhook mode.")
    entries: int = Field(
        default=50, ge=1, le=500, description="How many of the latest changed incidents."
    )
    title: str = Field(
        default="incident-bot: security incidents",
        min_length=1,
        max_length=200,
        description="The feed's title.",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="INCIDENT_BOT_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    bot: BotSettings = Field(default_factory=BotSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    flood: FloodSettings = Field(default_factory=FloodSettings)
    tension: TensionSettings = Field(default_factory=TensionSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    newsroom: NewsroomSettings = Field(default_factory=NewsroomSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    atom_feed: AtomFeedSettings = Field(default_factory=AtomFeedSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's contents arrive as init values; the environment overrides them.
        return env_settings, init_settings

    def require_webhook(self) -> WebhookSettings:
        """The webhook settings, checked complete; raise ConfigError naming what is missing."""
        missing = [
            f"webhook.{key}"
            for key, value in (
                ("public_url", self.webhook.public_url),
                ("secret_token", self.webhook.secret_token),
            )
            if value is None
        ]
        if missing:
            raise ConfigError(
                f"{' and '.join(missing)}: needed for --webhook (see config.example.toml)"
            )
        public_url = self.webhook.public_url
        assert public_url is not None
        if public_url.scheme != "https" and self.telegram.api_root == OFFICIAL_API_BASE_URL:
            # Telegram's own servers deliver updates only over HTTPS (a self-hosted Bot API
            # server may use plain HTTP, on a network of its own).
            raise ConfigError(
                f"webhook.public_url: Telegram sends updates only to an https:// address, "
                f"not {public_url.scheme}://; e.g. https://bot.example.org"
            )
        return self.webhook

    def require_token(self) -> str:
        if self.telegram.token is None:
            raise ConfigError(
                "telegram.token: no bot token configured. Create a bot with @BotFather in "
                "Telegram (send it /newbot), then set TELEGRAM_BOT_TOKEN or telegram.token "
                "in config.toml. To try the bot without a token, run: incident-bot sandbox "
                "(in a checkout: make sandbox)"
            )
        return self.telegram.token.get_secret_value()


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the configuration; raise ConfigError with one line per problem.

    An explicitly named file must exist; the default ./config.toml may be absent,
    in which case defaults and the environment are used.
    """
    environ = os.environ if environ is None else environ
    file_path = path or DEFAULT_CONFIG_PATH
    data = _read_toml(file_path, required=path is not None)
    token = environ.get("TELEGRAM_BOT_TOKEN")
    if token:
        data.setdefault("telegram", {})["token"] = token
    try:
        return Settings(**data)
    except ValidationError as error:
        raise ConfigError(_describe(error, file_path, environ)) from None
    except SettingsError:
        # pydantic-settings names only the section, in its own words: name the variables
        # (never their values, which may be secrets).
        variables = _variables_not_json() or ["INCIDENT_BOT_…"]
        raise ConfigError(
            "\n".join(
                f"environment variable {name}: not valid JSON; a list or table from the "
                "environment must be JSON, e.g. INCIDENT_BOT_TELEGRAM__ADMINS='[123456789]'"
                for name in variables
            )
        ) from None


def _variables_not_json() -> list[str]:
    """The INCIDENT_BOT_* variables that set a section, a list or a table but hold no JSON."""
    found = []
    for name, value in os.environ.items():  # pydantic-settings reads the process environment
        upper = name.upper()
        if not upper.startswith("INCIDENT_BOT_"):
            continue
        section, _, key = upper.removeprefix("INCIDENT_BOT_").lower().partition("__")
        field = Settings.model_fields.get(section)
        if field is None or field.annotation is None:
            continue
        if key:
            section_fields = getattr(field.annotation, "model_fields", {})
            if key not in section_fields or not _takes_json(section_fields[key].annotation):
                continue
        try:
            json.loads(value)
        except ValueError:
            found.append(upper)
    return sorted(found)


def _takes_json(annotation: Any) -> bool:
    """Whether pydantic-settings reads a field of this type from the environment as JSON."""
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        return any(_takes_json(arg) for arg in get_args(annotation) if arg is not type(None))
    return origin in (list, dict, tuple, set) or annotation in (list, dict, tuple, set)


def token_readable_by_others(path: Path | None) -> bool:
    """Whether the config file holds the bot token and people other than its owner may
    read it (it should be mode 0600)."""
    file_path = path or DEFAULT_CONFIG_PATH
    try:
        exposed = file_path.stat().st_mode & 0o077
        holds_token = "token" in _read_toml(file_path, required=False).get("telegram", {})
    except (OSError, ConfigError):
        return False
    return bool(exposed) and holds_token


def _read_toml(path: Path, *, required: bool) -> dict[str, Any]:
    try:
        # An editor's byte-order mark is not an error worth refusing a config for.
        return tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {error.start + 1} is not); save it as UTF-8"
        ) from None
    except FileNotFoundError:
        if required:
            raise ConfigError(
                f"{path}: no such config file (copy config.example.toml to start one)"
            ) from None
        return {}
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror}") from None


def _key_name(loc: tuple[int | str, ...]) -> str:
    """`telegram.admins (item 1)` for pydantic's ('telegram', 'admins', 0)."""
    key = ".".join(str(part) for part in loc if isinstance(part, str))
    items = [f"item {part + 1}" for part in loc if isinstance(part, int)]
    return f"{key} ({', '.join(items)})" if items else key


def _describe(error: ValidationError, path: Path, environ: Mapping[str, str]) -> str:
    # Only the location and message: pydantic's own str() would echo the input,
    # which for telegram.token is the secret.
    lines = []
    for problem in error.errors(include_input=False, include_url=False):
        key = _key_name(problem["loc"])
        if problem["type"] == "extra_forbidden":
            message = "unknown key (see config.example.toml for the keys there are)"
        else:
            message = plain_message(problem)
        lines.append(f"{_source_of(problem['loc'], path, environ)}: {key}: {message}")
    return "\n".join(lines)


def _source_of(loc: tuple[int | str, ...], path: Path, environ: Mapping[str, str]) -> str:
    """Where a bad value came from: the variable that set it (it wins), or the file."""
    if len(loc) >= 2:
        variable = f"INCIDENT_BOT_{loc[0]}__{loc[1]}".upper()
        # pydantic-settings reads the process environment, in any case.
        if any(name.upper() == variable for name in os.environ):
            return f"environment variable {variable}"
        if loc[:2] == ("telegram", "token") and environ.get("TELEGRAM_BOT_TOKEN"):
            return "environment variable TELEGRAM_BOT_TOKEN"
    return str(path)


def describe_settings(settings: Settings) -> str:
    """The effective settings in the config file's own TOML, secrets masked.

    What `incident-bot config check` prints: the file's values merged with the
    environment's and the defaults, as the bot will use them.
    """
    lines: list[str] = []
    effective = settings.model_dump(mode="json")
    effective["telegram"]["api_base_url"] = settings.telegram.shown_api_root
    _describe_table(effective, [], lines)
    return "\n".join(lines).strip() + "\n"


def _describe_table(table: Mapping[str, Any], path: list[str], lines: list[str]) -> None:
    # Plain keys first, then sub-tables ([a.b]) and arrays of tables ([[a.b]]), as TOML needs.
    subtables: list[tuple[str, str, Mapping[str, Any]]] = []
    for key, value in table.items():
        if isinstance(value, Mapping):
            subtables.append((f"[{'.'.join([*path, key])}]", key, value))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            subtables.extend((f"[[{'.'.join([*path, key])}]]", key, item) for item in value)
        elif value is None:
            lines.append(f"# {key}: not set")
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for header, key, subtable in subtables:
        lines.extend(["", header])
        _describe_table(subtable, [*path, key], lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)
