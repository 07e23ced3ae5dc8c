"""The SendGrid sender's registration: its [delivery.sendgrid] settings, its key, its
concurrency and its event webhook's parser. Read with the settings by every command, so the
HTTP client (``syndicate.delivery.sendgrid``) is imported only when a sender is built."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pydantic import Field

from syndicate.config import Section, Settings
from syndicate.delivery.events import ProviderEvent
from syndicate.delivery.registry import Clock, Secret, SenderKind
from syndicate.errors import ConfigError

if TYPE_CHECKING:
    from syndicate.delivery.sendgrid import SendGridSender


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


def _build(settings: Settings, options: SendGridSettings, clock: Clock) -> SendGridSender:
    from syndicate.delivery.sendgrid import SendGridSender

    key = os.environ.get(options.api_key_env, "")
    if not key:
        raise ConfigError(f"delivery.sendgrid.api_key_env: ${options.api_key_env} is not set")
    return SendGridSender(
        key,
        base_url=options.base_url,
        timeout=options.timeout,
        max_retries=options.max_retries,
        tracking=options.tracking,
    )


def parse_events(body: bytes) -> list[ProviderEvent]:
    """One Event Webhook POST's events (PayloadError unless a JSON array of objects)."""
    from syndicate.delivery.sendgrid_events import parse_payload, sendgrid_event

    return [sendgrid_event(item) for item in parse_payload(body)]


def _concurrency(options: SendGridSettings) -> int:
    return options.concurrency


KIND = SenderKind(
    "sendgrid",
    "SendGrid's v3 mail API, up to 1000 recipients a request",
    _build,
    SendGridSettings,
    secrets=(Secret("api_key_env", "the SendGrid API key"),),
    concurrency=_concurrency,
    events=parse_events,
)
