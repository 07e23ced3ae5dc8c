"""The SMTP sender's registration: its [delivery.smtp] settings and its password. Read
with the settings by every command, so the sender (``syndicate.delivery.smtp``, with smtplib
and ssl) is imported only when one is built."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from syndicate.config import Section, Settings
from syndicate.delivery.registry import Clock, Secret, SenderKind

if TYPE_CHECKING:
    from syndicate.delivery.smtp import SmtpSender

Security = Literal["starttls", "tls", "none"]


class SmtpSettings(Section):
    host: str = Field("localhost", description="SMTP server host name.")
    port: int = Field(587, gt=0, lt=65536, description="SMTP server port.")
    security: Security = Field(
        "starttls", description="'starttls' (port 587), 'tls' (implicit TLS, port 465) or 'none'."
    )
    username: str = Field("", description="SMTP login name; empty = no login.")
    password_env: str = Field(
        "SYNDICATE_SMTP_PASSWORD",
        description="Name of the environment variable holding the SMTP password.",
    )
    timeout: float = Field(30.0, gt=0, description="Seconds to wait for the SMTP server.")


def _build(settings: Settings, smtp: SmtpSettings, clock: Clock) -> SmtpSender:
    from syndicate.delivery.smtp import SmtpSender

    return SmtpSender(
        smtp.host,
        smtp.port,
        security=smtp.security,
        username=smtp.username,
        password=os.environ.get(smtp.password_env, ""),
        timeout=smtp.timeout,
        clock=clock,
        return_path=settings.bounces.return_path,
    )


KIND = SenderKind(
    "smtp",
    "an SMTP relay, one message per recipient",
    _build,
    SmtpSettings,
    secrets=(Secret("password_env", "the SMTP password", required=False),),
)
