"""The [web] and [webhooks] sections."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from syndicate.config.section import Section
from syndicate.config.values import Duration, parse_p256_public_key, within

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey


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
