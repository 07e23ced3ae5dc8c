"""The [email] and [delivery] sections, with the built-in senders' settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from syndicate.config.section import Section
from syndicate.config.values import Duration, plain_address, within


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
