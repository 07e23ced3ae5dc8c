"""The settings model: one section class per [section], every field with a description."""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from syndicate.config.bounces import BounceSettings
from syndicate.config.digest import DigestSettings
from syndicate.config.section import Section
from syndicate.config.values import (
    Duration,
    check_timezone,
    parse_p256_public_key,
    plain_address,
    within,
)
from syndicate.content import strip_control

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

SECRET_ENV = {
    "secret_key": "SYNDICATE_SECRET_KEY",
    "secret_key_previous": "SYNDICATE_SECRET_KEY_PREVIOUS",
}


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

    _tz = field_validator("timezone")(lambda cls, v: check_timezone(v))


class StorageSettings(Section):
    url: str = Field(
        "sqlite:///var/syndicate.db",
        description="SQLAlchemy database URL; a relative SQLite path is under the site folder. "
        "postgres:// and postgresql:// URLs are read as postgresql+psycopg:// (psycopg 3).",
    )

    @field_validator("url")
    @classmethod
    def _driver(cls, value: str) -> str:
        for scheme in ("postgres://", "postgresql://"):
            if value.startswith(scheme):
                return "postgresql+psycopg://" + value[len(scheme) :]
        if value.startswith(("postgres+", "postgresql+")) and not value.startswith(
            "postgresql+psycopg://"
        ):
            raise ValueError("use postgresql+psycopg://… (psycopg 3 is the driver installed)")
        return value


class GatherSettings(Section):
    max_file_size: int = Field(
        5_000_000, gt=0, description="Files larger than this many bytes are rejected."
    )
    earliest_year: int = Field(
        1900, ge=1, le=9999, description="An article or entry dated before this year is rejected."
    )
    latest_year: int = Field(
        2200, ge=1, le=9999, description="An article or entry dated after this year is rejected."
    )

    @model_validator(mode="after")
    def _years(self) -> GatherSettings:
        if self.earliest_year > self.latest_year:
            raise PydanticCustomError(
                "setting",
                "{message}",
                {"message": "gather.earliest_year: must not be after gather.latest_year"},
            )
        return self

    @property
    def years(self) -> tuple[int, int]:
        return self.earliest_year, self.latest_year


class SourceSettings(Section):
    name: str = Field(description="A unique name for the source, stored with its articles.")
    kind: Literal["folder", "feed"] = Field(
        "folder",
        description="The source kind: 'folder' (article files) or 'feed' (a remote "
        "or local RSS, Atom or JSON Feed).",
    )
    path: str = Field(
        "",
        description="kind 'folder': folder of .txt and .md articles, relative to the site folder.",
    )
    url: str = Field(
        "",
        description="kind 'feed': the feed's http(s) URL, or the path of a feed file "
        "(relative to the site folder).",
    )
    category: str = Field(
        "General", description="Default category for articles that get none otherwise."
    )
    fill_from: list[str] = Field(
        default_factory=list,
        description="Names of other sources whose teaser cards or entries of the same title "
        "may fill in what this source's articles lack (category, summary, author). Empty: "
        "across sources a title never merges anything.",
    )
    timezone: str = Field(
        "",
        description="IANA time zone of the source's dates that name none (an RFC 822 or "
        "ISO 8601 date without an offset, a date without a time). Empty: site.timezone.",
    )
    _tz = field_validator("timezone")(lambda cls, v: check_timezone(v) if v else v)

    @model_validator(mode="after")
    def _location(self) -> SourceSettings:
        problem = source_location_problem(self.kind, self.path, self.url)
        if problem:
            raise PydanticCustomError(
                "setting", "{message}", {"message": f"sources[{self.name}].{problem}"}
            )
        return self


def source_location_problem(kind: str, path: str, url: str) -> str:
    """What is wrong with a source's path / url, as 'key: reason', or '' if nothing."""
    if kind == "folder":
        if url:
            return 'url: only a feed source has a url (kind = "feed"); a folder has a path'
        return "" if path.strip() else "path: a folder source needs path (its folder of articles)"
    if path:
        return "path: a feed source has a url (an http(s) URL or a file path), not a path"
    if not url.strip():
        return "url: a feed source needs url (an http(s) URL or a file path)"
    if strip_control(url) != url or url != url.strip():
        return "url: control characters or surrounding spaces"
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() not in ("http", "https"):
        return f"url: only http(s) URLs or file paths, not {scheme}://"
    if sep and not rest.split("/", 1)[0]:
        return f"url: no host in {url!r}"
    return ""


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
    hub: str = Field(
        "",
        description="A WebSub hub's URL; when set, every feed names it (a link with rel=hub) "
        "and the hub is told (hub.mode=publish) whenever a feed file changes. Empty = none.",
    )

    @field_validator("hub")
    @classmethod
    def _hub(cls, value: str) -> str:
        bad = strip_control(value) != value or any(ch.isspace() for ch in value)
        if value and (bad or not value.startswith(("http://", "https://"))):
            raise ValueError("must be an absolute http(s) URL, or empty")
        return value


class PagesSettings(Section):
    enabled: bool = Field(
        True,
        description="Write one HTML page per article under feeds.output_dir, at the path its "
        "link names (<slug>/index.html; links then end in '/'). false: for a site whose "
        "articles live elsewhere; links stay site.url + slug.",
    )


class FetchSettings(Section):
    connect_timeout: float = Field(
        10.0, gt=0, description="Seconds a feed source's server has to accept the connection."
    )
    read_timeout: float = Field(
        30.0, gt=0, description="Seconds a feed source's server may stay silent mid-response."
    )
    total_timeout: float = Field(
        120.0,
        gt=0,
        description="Seconds one feed source's fetch may take in all, redirects included "
        "(a server that trickles its answer is cut off).",
    )
    max_bytes: int = Field(
        10_000_000,
        gt=0,
        description="A feed larger than this many bytes (decompressed) fails; the download "
        "stops there.",
    )
    max_redirects: int = Field(
        5, ge=0, le=30, description="Redirects a feed source may take; one more fails it."
    )
    max_entries: int = Field(
        1_000,
        gt=0,
        description="Entries kept from one fetch of a feed source: the newest ones; how many "
        "older ones were dropped is reported.",
    )
    concurrency: int = Field(
        4,
        ge=1,
        le=64,
        description="Feed sources fetched at once; each is stored as soon as it is in, so a "
        "slow source delays no other.",
    )
    parse_timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds a feed source's document may take to parse; the parse runs in a "
        "child process, killed then (some hostile documents would take hours).",
    )
    allow_private: bool = Field(
        False,
        description="Let feed sources reach loopback and private addresses (127/8, 10/8, "
        "172.16/12, 192.168/16, 100.64/10, ::1, fc00::/7). Link-local addresses (the cloud "
        "metadata service 169.254.169.254), multicast and reserved ones are always refused.",
    )
    user_agent: str = Field(
        "syndicate/0.1 (feed fetcher)",
        description="The User-Agent header sent to feed sources and the WebSub hub.",
    )

    @field_validator("user_agent")
    @classmethod
    def _agent(cls, value: str) -> str:
        if not value.strip() or strip_control(value) != value or any(c in value for c in "\r\n\t"):
            raise ValueError("must be one line of printable text")
        return value


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

    _every = field_validator("gather_every")(within(timedelta(seconds=1)))
    _lease = field_validator("lease_check")(within(timedelta(seconds=0.1), timedelta(hours=1)))


class EmailSettings(Section):
    from_address: str = Field("newsletter@example.com", description="The digest's From address.")
    from_name: str = Field("", description="The display name beside the From address.")
    unsubscribe_mailbox: str = Field(
        "",
        description="An address whose mail `syndicate bounces fetch` reads (the [bounces] "
        "mailbox): when set, List-Unsubscribe also offers mailto:<this>?subject=unsubscribe "
        "<token>, and such mails unsubscribe. Empty = only the https one-click link, since a "
        "mailto: that nothing reads is an unsubscribe nobody honours.",
    )
    welcome: bool = Field(
        True, description="Send a welcome mail when a subscriber confirms their subscription."
    )

    _mailbox = field_validator("unsubscribe_mailbox")(lambda cls, v: plain_address(v))


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
    tracking: bool = Field(
        False,
        description="Let SendGrid track clicks and opens (its click tracking rewrites every "
        "link, the unsubscribe links too, through its own domain; open tracking adds a pixel "
        "that tells SendGrid when and where a reader opened the mail). Off: every request "
        "turns both off, whatever the account's defaults. See docs/deliverability.md.",
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
    backend: str = Field(
        "outbox",
        pattern=r"^[a-z][a-z0-9_]*$",
        description="How mail is sent: the name of a sender, 'outbox' (files), 'smtp' or "
        "'sendgrid' (or one a plug-in registers).",
    )
    outbox_dir: str = Field(
        "var/outbox", description="Folder for previews and for the outbox backend's .eml files."
    )
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Processes that share one send on this machine (`digest send --workers` "
        "overrides it): the way to go faster before going to more machines. Each claims its "
        "own batches from the ledger; a crash leaves at most one batch per worker uncertain.",
    )
    max_consecutive_failures: int = Field(
        5, ge=1, description="Pause a send after this many failed requests in a row."
    )
    owner_timeout: Duration = Field(
        timedelta(minutes=2),
        description="A sending process renews its heartbeat in the database every quarter of "
        "this; one whose heartbeat is older is taken for dead, and only then do the batches it "
        "had in flight become uncertain (one on the same machine whose process has exited is "
        "dead at once). Keep the machines' clocks in sync well within it.",
    )
    retry_paused: list[Duration] = Field(
        default_factory=lambda: [timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1)],
        description="`syndicate run` retries a send paused by provider failures after these "
        "waits in turn, the last one again and again while the send is within digest.grace "
        "of its start; [] = never on its own. A send the provider refused (401/403, a bad "
        "login) stays paused until the operator runs `digest send`.",
    )
    sendgrid: SendGridSettings = Field(
        default_factory=SendGridSettings, description="The SendGrid backend."
    )

    _owner_timeout = field_validator("owner_timeout")(
        within(timedelta(seconds=1), timedelta(days=1))
    )

    @field_validator("retry_paused")
    @classmethod
    def _retry_paused(cls, value: list[timedelta]) -> list[timedelta]:
        if any(wait < timedelta(seconds=1) for wait in value):
            raise ValueError("every wait must be at least 1s")
        return value

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
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or CIDR networks of the reverse proxies in front of `syndicate "
        "run` (['127.0.0.1'], ['10.0.0.0/8']). Empty = X-Forwarded-For and Forwarded are "
        "ignored and the peer's address is the client's; otherwise the right-most address in "
        "X-Forwarded-For that is not a trusted proxy is. Rate limits count per that address. "
        "See docs/reverse-proxy.md.",
    )
    header_timeout: Duration = Field(
        timedelta(seconds=10),
        description="A connection whose request line and headers have not all arrived this long "
        "after it opened (or after its previous response) is closed.",
    )
    body_timeout: Duration = Field(
        timedelta(seconds=30),
        description="How long a form or webhook body may take to arrive; a slower one gets 408.",
    )
    metrics_token_env: str = Field(
        "SYNDICATE_METRICS_TOKEN",
        description="Environment variable holding the bearer token /metrics and the details of "
        "/healthz require (`Authorization: Bearer <token>`). Unset = /metrics answers 404.",
    )
    metrics_public: bool = Field(
        False,
        description="Serve /metrics without a token (only behind a network that keeps the "
        "public out).",
    )

    _header_timeout = field_validator("header_timeout", "body_timeout")(
        within(timedelta(seconds=1), timedelta(hours=1))
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
        return [entry.strip() for entry in value]

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http(s) URL")
        return value if not value or value.endswith("/") else value + "/"


class WebhookSettings(Section):
    sendgrid_public_key: str = Field(
        "",
        description="The verification key SendGrid shows for the signed Event Webhook (base64 "
        "DER of an ECDSA P-256 public key); events POSTed to /webhooks/sendgrid must be signed "
        "with it. Empty = the webhook is off and that URL answers 404.",
    )
    max_age: Duration = Field(
        timedelta(minutes=10),
        description="How old a webhook call's signed timestamp may be ('10m'); an older one, or "
        "one more than a minute in the future, is refused as a replay.",
    )

    _max_age = field_validator("max_age")(within(timedelta(seconds=1), timedelta(days=1)))

    @field_validator("sendgrid_public_key")
    @classmethod
    def _key(cls, value: str) -> str:
        if value.strip():
            parse_p256_public_key(value)
        return value.strip()

    @property
    def sendgrid_key(self) -> EllipticCurvePublicKey | None:
        """The parsed public key, or None when the webhook is off."""
        return parse_p256_public_key(self.sendgrid_public_key) if self.sendgrid_public_key else None


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    site: SiteSettings = Field(default_factory=SiteSettings, description="The site.")
    storage: StorageSettings = Field(default_factory=StorageSettings, description="The database.")
    gather: GatherSettings = Field(default_factory=GatherSettings, description="Gathering.")
    sources: tuple[SourceSettings, ...] = Field(
        (), description="Where articles come from: one [[sources]] table each."
    )
    fetch: FetchSettings = Field(
        default_factory=FetchSettings, description="Fetching feed sources over HTTP."
    )
    categories: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Keyword rules: category = [words]; an article whose title or text has one "
        "of the words gets that category when it has none of its own.",
    )
    feeds: FeedSettings = Field(default_factory=FeedSettings, description="Feed output.")
    pages: PagesSettings = Field(default_factory=PagesSettings, description="Article pages.")
    digest: DigestSettings = Field(default_factory=DigestSettings, description="The digest.")
    schedule: ScheduleSettings = Field(
        default_factory=ScheduleSettings, description="The jobs of `syndicate run`."
    )
    email: EmailSettings = Field(default_factory=EmailSettings, description="Email identity.")
    delivery: DeliverySettings = Field(
        default_factory=DeliverySettings, description="Mail delivery."
    )
    web: WebSettings = Field(default_factory=WebSettings, description="The web front.")
    webhooks: WebhookSettings = Field(
        default_factory=WebhookSettings, description="Event webhooks of the mail provider."
    )
    bounces: BounceSettings = Field(
        default_factory=BounceSettings, description="The bounce mailbox (for SMTP senders)."
    )

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, value: tuple[SourceSettings, ...]) -> tuple[SourceSettings, ...]:
        seen: set[str] = set()
        for source in value:
            if source.name in seen:
                message = f"sources[{source.name}].name: used by two sources"
                raise PydanticCustomError("setting", "{message}", {"message": message})
            seen.add(source.name)
        for source in value:
            for other in source.fill_from:
                if other not in seen or other == source.name:
                    message = f"sources[{source.name}].fill_from: no other source named {other!r}"
                    raise PydanticCustomError("setting", "{message}", {"message": message})
        return value

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
    def previous_secret_keys(self) -> tuple[str, ...]:
        """Keys that still verify tokens (but sign none): the one rotated out."""
        previous = os.environ.get(SECRET_ENV["secret_key_previous"], "")
        return (previous,) if previous else ()

    @property
    def web_url(self) -> str:
        return self.web.base_url or self.site.url
