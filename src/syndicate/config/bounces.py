"""The [bounces] section: the bounce mailbox of SMTP senders."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from syndicate.config.section import Section
from syndicate.config.values import Duration, plain_address, within


class BounceSettings(Section):
    imap_url: str = Field(
        "",
        description="The bounce mailbox, for SMTP senders: imaps://user@host[:port]/FOLDER, or "
        "imap://… with STARTTLS (imap://… without TLS only on a loopback address). Its "
        "delivery status notifications (RFC 3464), complaint reports (RFC 5965) and "
        "mailto: unsubscribe requests are read by `syndicate bounces fetch` and by `syndicate "
        "run`, and deleted once recorded. Empty = no bounce mailbox.",
    )
    return_path: str = Field(
        "",
        description="The bounce mailbox's address, as the envelope sender of SMTP sends: each "
        "message goes out from a VERP address naming its delivery (bounces+2026-W47.12@"
        "example.org, so the mailbox must accept +tags), which matches a bounce that returns "
        "no headers. Empty = the envelope sender is email.from_address.",
    )
    password_env: str = Field(
        "SYNDICATE_BOUNCES_PASSWORD",
        description="Name of the environment variable holding the bounce mailbox's password.",
    )
    poll_every: Duration = Field(
        timedelta(minutes=10), description="How often `syndicate run` reads the bounce mailbox."
    )
    soft_limit: int = Field(
        3,
        ge=1,
        le=100,
        description="Soft bounces (a 4.x.x status) in a row, with no delivery between, after "
        "which an address is suppressed as bounced; a hard bounce (5.x.x) suppresses at once.",
    )
    timeout: float = Field(30.0, gt=0, description="Seconds to wait for the IMAP server.")

    _poll = field_validator("poll_every")(within(timedelta(seconds=10)))

    _return_path = field_validator("return_path")(lambda cls, v: plain_address(v))

    @field_validator("imap_url")
    @classmethod
    def _imap(cls, value: str) -> str:
        if value:
            problem = imap_url_problem(value)
            if problem:
                raise ValueError(problem)
        return value


def imap_url_problem(url: str) -> str:
    """What is wrong with a bounce mailbox URL, or ''."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        return "must be imaps://user@host/FOLDER or imap://user@host/FOLDER"
    if not parts.username:
        return "needs the login name: imaps://user@host/FOLDER"
    if parts.password:
        return "must not hold the password: it comes from the variable bounces.password_env"
    return ""
