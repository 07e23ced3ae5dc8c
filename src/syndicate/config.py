"""Settings: TOML file + ``SYNDICATE_<SECTION>__<KEY>`` environment overrides, validated.

Every field carries a description; ``settings_reference()`` renders them all, and a test
checks that docs/settings.md is that reference, so no setting goes undocumented.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
)

ENV_PREFIX = "SYNDICATE_"
CONFIG_ENV = "SYNDICATE_CONFIG"
DEFAULT_CONFIG = Path("config/syndicate.toml")
SECRET_ENV = {
    "secret_key": "SYNDICATE_SECRET_KEY",
}


class ConfigError(Exception):
    """A one-line message naming the file, the key and what is wrong."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


# --- durations and weekly times ---------------------------------------------------------

_DURATION_UNITS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_duration(value: object) -> timedelta:
    """``"15m"``, ``"1h30m"``, ``"2d"``, ``"0.5s"``, or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if not isinstance(value, str):
        raise ValueError("expected a duration like '15m', '2h' or '2d'")
    text = value.strip().lower().replace(" ", "")
    if _NUMBER.fullmatch(text):
        return timedelta(seconds=float(text))
    parts = _DURATION_PART.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{value!r} is not a duration like '15m', '1h30m', '2d' or '90s'")
    return timedelta(seconds=sum(float(n) * _DURATION_UNITS[u] for n, u in parts))


def format_duration(value: timedelta) -> str:
    """The shortest text ``parse_duration`` reads back: ``"15m"``, ``"2d"``, ``"1h30m"``."""
    micros = round(value.total_seconds() * 1_000_000)
    if micros == 0:
        return "0s"
    seconds, fraction = divmod(micros, 1_000_000)
    text = ""
    for unit in "dhm":
        count, seconds = divmod(seconds, _DURATION_UNITS[unit])
        text += f"{count}{unit}" if count else ""
    if seconds or fraction:
        text += f"{seconds + fraction / 1_000_000:g}s"
    return text


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]


def _within(low: timedelta, high: timedelta | None = None) -> Callable[[Any, timedelta], timedelta]:
    def check(cls: Any, value: timedelta) -> timedelta:
        if value < low or (high is not None and value >= high):
            upper = f" and under {format_duration(high)}" if high is not None else ""
            raise ValueError(f"must be at least {format_duration(low)}{upper}")
        return value

    return check


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKLY = re.compile(r"([a-z]+)\s+(\d{1,2}):(\d{2})")


class WeeklyTime(NamedTuple):
    """A weekly moment on the wall clock: ``weekday`` 0 is Monday."""

    weekday: int
    hour: int
    minute: int

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.hour:02d}:{self.minute:02d}"


def parse_weekly_time(text: str) -> WeeklyTime:
    """``"mon 08:00"`` (or ``"Monday 8:00"``) → WeeklyTime(0, 8, 0); ValueError otherwise."""
    match = _WEEKLY.fullmatch(text.strip().lower())
    day = match[1] if match else ""
    names = WEEKDAYS if len(day) == 3 else _FULL_DAYS
    if match is None or day not in names:
        raise ValueError(f"{text!r}: expected 'DAY HH:MM' like 'mon 08:00' (DAY: mon … sun)")
    hour, minute = int(match[2]), int(match[3])
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r}: {hour:02d}:{minute:02d} is not a time of day")
    return WeeklyTime(names.index(day), hour, minute)


class SiteSettings(Section):
    title: str = Field("My site", description="The site's name, shown in feeds and the digest.")
    url: str = Field(
        "https://example.com/",
        description="The site's public base URL; article links are this plus the slug.",
    )
    description: str = Field(
        "Latest articles", description="One line about the site, used as the feeds' subtitle."
    )
    language: str = Field("en", description="Language code of the content (e.g. en, de-AT).")
    timezone: str = Field(
        "UTC", description="Time zone for dates without a time: they are midnight here."
    )
    author: str = Field("", description="Default author when an article names none.")
    postal_address: str = Field(
        "", description="Postal address printed in every digest's footer (anti-spam laws)."
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http(s) URL")
        return value if value.endswith("/") else value + "/"

    _tz = field_validator("timezone")(lambda cls, v: _check_timezone(v))


class StorageSettings(Section):
    url: str = Field(
        "sqlite:///var/syndicate.db",
        description="SQLAlchemy database URL; a relative SQLite path is under the site folder.",
    )


class GatherSettings(Section):
    max_file_size: int = Field(
        5_000_000, gt=0, description="Files larger than this many bytes are rejected."
    )


class SourceSettings(Section):
    name: str = Field(description="A unique name for the source, stored with its articles.")
    kind: Literal["folder"] = Field("folder", description="The source kind: 'folder'.")
    path: str = Field(description="Folder of .txt and .md articles, relative to the site folder.")
    category: str = Field(
        "General", description="Default category for articles that get none otherwise."
    )


class FeedSettings(Section):
    output_dir: str = Field("var/public", description="Where the feed files and index.html go.")
    items: int = Field(50, gt=0, le=10_000, description="How many newest articles each feed holds.")
    content: Literal["full", "summary"] = Field(
        "full", description="'full' puts the article body in the feed, 'summary' only the summary."
    )
    formats: tuple[Literal["rss", "atom", "json"], ...] = Field(
        ("rss", "atom", "json"), description="Which feed formats to write."
    )
    per_category: bool = Field(True, description="Also write one feed set per category.")


class DigestSettings(Section):
    schedule: str = Field("mon 08:00", description="When the weekly digest goes out: 'DAY HH:MM'.")
    timezone: str = Field(
        "UTC", description="Time zone of the schedule and of the ISO week that keys an edition."
    )
    grace: Duration = Field(
        timedelta(days=2),
        description="`syndicate run` sends a digest missed while it was down at start-up, if "
        "it is at most this late ('2d', '6h'; '0s' = never late; under 7 days).",
    )
    max_items: int = Field(20, gt=0, le=500, description="Most headlines in one edition.")
    subject: str = Field(
        "{site} — week {week}",
        description="Subject line; {site}, {week} and {count} are filled in.",
    )

    _tz = field_validator("timezone")(lambda cls, v: _check_timezone(v))
    _grace = field_validator("grace")(_within(timedelta(0), timedelta(days=7)))

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return str(parse_weekly_time(value))

    @property
    def weekly_time(self) -> WeeklyTime:
        return parse_weekly_time(self.schedule)


class ScheduleSettings(Section):
    gather_every: Duration = Field(
        timedelta(minutes=15),
        description="How often `syndicate run` gathers the sources ('15m', '1h', '90s'); the "
        "feeds are rebuilt when anything changed.",
    )
    lease_check: Duration = Field(
        timedelta(seconds=10),
        description="How often each `syndicate run` instance checks the lease that lets one "
        "instance run the jobs: the holder that it still has it, the others whether it is free.",
    )

    _every = field_validator("gather_every")(_within(timedelta(seconds=1)))
    _lease = field_validator("lease_check")(_within(timedelta(seconds=0.1), timedelta(hours=1)))


class EmailSettings(Section):
    from_address: str = Field("newsletter@example.com", description="The digest's From address.")
    from_name: str = Field("", description="The display name beside the From address.")


class SendGridSettings(Section):
    base_url: str = Field(
        "https://api.sendgrid.com",
        description="SendGrid API base URL (tests point it at a stand-in).",
    )
    api_key_env: str = Field(
        "SENDGRID_API_KEY", description="Name of the environment variable holding the API key."
    )
    timeout: float = Field(30.0, gt=0, description="Seconds to wait for one API request.")
    max_retries: int = Field(
        5, ge=0, description="Retries of a request that certainly did not go through (5xx, 429)."
    )
    concurrency: int = Field(
        1,
        ge=1,
        le=16,
        description="Requests in flight at once; a crash leaves that many batches uncertain.",
    )


class SmtpSettings(Section):
    host: str = Field("localhost", description="SMTP server host name.")
    port: int = Field(587, gt=0, lt=65536, description="SMTP server port.")
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="'starttls' (port 587), 'tls' (implicit TLS, port 465) or 'none'."
    )
    username: str = Field("", description="SMTP login name; empty = no login.")
    password_env: str = Field(
        "SYNDICATE_SMTP_PASSWORD",
        description="Name of the environment variable holding the SMTP password.",
    )
    timeout: float = Field(30.0, gt=0, description="Seconds to wait for the SMTP server.")


class DeliverySettings(Section):
    backend: Literal["outbox", "smtp", "sendgrid"] = Field(
        "outbox", description="How mail is sent: 'outbox' (files), 'smtp' or 'sendgrid'."
    )
    outbox_dir: str = Field(
        "var/outbox", description="Folder for previews and for the outbox backend's .eml files."
    )
    max_consecutive_failures: int = Field(
        5, ge=1, description="Pause a send after this many failed requests in a row."
    )
    sendgrid: SendGridSettings = Field(
        default_factory=SendGridSettings, description="The SendGrid backend."
    )
    smtp: SmtpSettings = Field(default_factory=SmtpSettings, description="The SMTP backend.")


class WebSettings(Section):
    base_url: str = Field(
        "",
        description="Public URL of the web front (unsubscribe, preferences, archive); "
        "empty = site.url.",
    )
    host: str = Field("127.0.0.1", description="Address `syndicate run` listens on.")
    port: int = Field(8080, gt=0, lt=65536, description="Port `syndicate run` listens on.")
    confirm_ttl: Duration = Field(
        timedelta(hours=48), description="How long a subscription's confirmation link is valid."
    )
    subscribe_per_ip_per_hour: int = Field(
        5, ge=1, description="Subscribe requests one client address may make in an hour."
    )
    subscribe_per_address_per_day: int = Field(
        3, ge=1, description="Subscribe attempts for one email address in a day."
    )
    cache_max_age: Duration = Field(
        timedelta(minutes=5),
        description="Cache-Control max-age for the feeds and archive pages the web front serves.",
    )

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http(s) URL")
        return value if not value or value.endswith("/") else value + "/"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    site: SiteSettings = Field(default_factory=SiteSettings, description="The site.")
    storage: StorageSettings = Field(default_factory=StorageSettings, description="The database.")
    gather: GatherSettings = Field(default_factory=GatherSettings, description="Gathering.")
    sources: tuple[SourceSettings, ...] = Field(
        (), description="Where articles come from: one [[sources]] table each."
    )
    categories: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Keyword rules: category = [words]; an article whose title or text has one "
        "of the words gets that category when it has none of its own.",
    )
    feeds: FeedSettings = Field(default_factory=FeedSettings, description="Feed output.")
    digest: DigestSettings = Field(default_factory=DigestSettings, description="The digest.")
    schedule: ScheduleSettings = Field(
        default_factory=ScheduleSettings, description="The jobs of `syndicate run`."
    )
    email: EmailSettings = Field(default_factory=EmailSettings, description="Email identity.")
    delivery: DeliverySettings = Field(
        default_factory=DeliverySettings, description="Mail delivery."
    )
    web: WebSettings = Field(default_factory=WebSettings, description="The web front.")

    # Not settings: where the file was read from, to resolve relative paths.
    root: Path = Field(Path("."), exclude=True, description="(internal) the site folder.")
    source_file: str = Field("", exclude=True, description="(internal) the config file read.")

    def path(self, value: str) -> Path:
        """A configured path, resolved against the site folder when relative."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.root / p

    @property
    def database_url(self) -> str:
        url = self.storage.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.path(url[len(prefix) :]))
        return url

    @property
    def secret_key(self) -> str:
        return os.environ.get(SECRET_ENV["secret_key"], "")

    @property
    def web_url(self) -> str:
        return self.web.base_url or self.site.url


# --- loading ---------------------------------------------------------------------------


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to read: --config, else $SYNDICATE_CONFIG, else ./config/syndicate.toml."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def load_settings(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read, override from the environment, and validate. Raises ConfigError."""
    env = os.environ if env is None else env
    config_path = find_config(path)
    raw: dict[str, Any] = {}
    where = "<defaults>"
    root = Path.cwd()
    if config_path is not None:
        where = str(config_path)
        try:
            raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{where}: file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: cannot read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: not valid TOML: {exc}") from None
        root = config_path.resolve().parent.parent
    for key in ("root", "source_file"):
        if key in raw:
            raise ConfigError(f"{where}: {key}: not a setting")
    _apply_env(raw, env)
    try:
        return Settings.model_validate({**raw, "root": root, "source_file": where})
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_first_error(exc)}") from None


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    """SYNDICATE_FEEDS__ITEMS sets [feeds] items; SYNDICATE_DELIVERY__SMTP__HOST sets
    [delivery.smtp] host."""
    for name, value in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        *sections, key = name[len(ENV_PREFIX) :].lower().split("__")
        model: type[BaseModel] = Settings
        table = raw
        for depth, section in enumerate(sections):
            field = model.model_fields.get(section)
            inner = field.annotation if field is not None else None
            where = ".".join(sections[: depth + 1])
            if not (isinstance(inner, type) and issubclass(inner, Section)):
                raise ConfigError(f"{name}: no settings section [{where}]")
            model = inner
            table = table.setdefault(section, {})
            if not isinstance(table, dict):
                raise ConfigError(f"{name}: [{where}] is not a table in the file")
        if key not in model.model_fields:
            raise ConfigError(f"{name}: [{'.'.join(sections)}] has no key {key!r}")
        table[key] = _env_value(value)


def _env_value(value: str) -> Any:
    """Lists come as JSON or comma-separated text; pydantic converts scalars from text."""
    stripped = value.strip()
    if stripped.startswith("["):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return value
    return value


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors()
    err = errors[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(top)"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    return f"{loc}: {msg}{more}"


# --- showing and documenting -----------------------------------------------------------

REDACTED = "********"


def effective_settings(settings: Settings) -> dict[str, Any]:
    """The settings as plain data, secrets from the environment shown only as set/unset."""
    data = settings.model_dump(mode="json")
    data["secrets"] = {
        env_name: (REDACTED if os.environ.get(env_name) else "(unset)")
        for env_name in sorted(secret_env_names(settings))
    }
    return data


def secret_env_names(settings: Settings) -> set[str]:
    return {
        *SECRET_ENV.values(),
        settings.delivery.sendgrid.api_key_env,
        settings.delivery.smtp.password_env,
    }


def iter_settings(
    model: type[BaseModel] = Settings, prefix: str = ""
) -> Iterator[tuple[str, Any, str]]:
    """Every documented setting as (dotted name, default, description)."""
    for name, info in model.model_fields.items():
        if info.exclude:
            continue
        dotted = f"{prefix}{name}"
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from iter_settings(annotation, dotted + ".")
            continue
        if name == "sources":
            yield from iter_settings(SourceSettings, "sources[].")
            continue
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        yield dotted, default, info.description or ""


def settings_reference() -> str:
    """docs/settings.md, generated from the models (a test keeps the file in step)."""
    lines = [
        "# Settings",
        "",
        "Generated by `syndicate config docs`. Every scalar key `[section] key` can be set",
        "from the environment as `SYNDICATE_<SECTION>__<KEY>` (lists as JSON).",
        "",
        "| setting | default | description |",
        "| --- | --- | --- |",
    ]
    for dotted, default, description in iter_settings():
        shown = (
            "(required)"
            if default is None
            else f"`{json.dumps(_plain(default), ensure_ascii=False)}`"
        )
        lines.append(f"| `{dotted}` | {shown} | {description} |")
    lines += ["", "## Secrets (environment only)", ""]
    for key, env_name in sorted(SECRET_ENV.items()):
        lines.append(f"- `{env_name}`: {SECRET_HELP[key]}")
    lines.append(
        "- the SendGrid API key and the SMTP password, in the variables that "
        "`delivery.sendgrid.api_key_env` and `delivery.smtp.password_env` name "
        "(`SENDGRID_API_KEY`, `SYNDICATE_SMTP_PASSWORD` by default)."
    )
    return "\n".join(lines) + "\n"


SECRET_HELP = {
    "secret_key": "signs unsubscribe, preference and confirmation tokens (HMAC-SHA256).",
}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, timedelta):
        return format_duration(value)
    return value
