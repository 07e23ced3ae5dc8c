"""SMTP delivery: one message per recipient over one reused connection.

Whether a failed message may have been accepted is decided by the DATA terminator: until
"<CRLF>.<CRLF>" is handed to the socket the server cannot have accepted the message, so a
failure is "retry"; after it, a lost reply is "uncertain". A connection the server closed
while idle between messages is reopened once for the message that found it closed.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field

from syndicate.config import Section, Settings
from syndicate.delivery.base import (
    WEEK_ARG,
    Batch,
    Messages,
    Outcome,
    OutcomeState,
    Recipient,
    SendAborted,
)
from syndicate.delivery.registry import Clock, Secret, SenderKind
from syndicate.delivery.verp import verp_address
from syndicate.errors import ConfigError
from syndicate.log import EventLog

log = EventLog(__name__)

Security = Literal["starttls", "tls", "none"]
_TERMINATOR = b"\r\n.\r\n"


class _Tracking:
    """Notes whether the end-of-data marker has been written to the socket."""

    terminator_sent = False

    def send(self, s: Any) -> None:
        super().send(s)  # type: ignore[misc]
        # smtplib.data() writes the whole message and its terminator in one send();
        # commands are str and one line, so they never match.
        if isinstance(s, bytes) and s.endswith(_TERMINATOR):
            self.terminator_sent = True

    def data(self, msg: Any) -> tuple[int, bytes]:
        """smtplib's DATA, but the message (bytes with CRLF line ends, as built here) is
        searched for a line that starts with "." before the whole of it is rewritten: most
        messages have none, and the rewrite was a tenth of the CPU of a send."""
        if isinstance(msg, bytes) and b"\r\n." not in msg and not msg.startswith(b"."):
            return self._data_as_is(msg)
        reply: tuple[int, bytes] = super().data(msg)  # type: ignore[misc]
        return reply

    def _data_as_is(self, msg: bytes) -> tuple[int, bytes]:
        self.putcmd("data")  # type: ignore[attr-defined]
        code, reply = self.getreply()  # type: ignore[attr-defined]
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        self.send(msg + (b"" if msg.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        answer: tuple[int, bytes] = self.getreply()  # type: ignore[attr-defined]
        return answer


class _SMTP(_Tracking, smtplib.SMTP):
    pass


class _SMTPS(_Tracking, smtplib.SMTP_SSL):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


class SmtpSender:
    """Sends each recipient its own message (``max_batch`` 1, so a crash leaves at most one
    message in doubt). Not for concurrent use: it owns one connection."""

    max_batch = 1

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        security: Security = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        clock: Callable[[], datetime] = _now,
        return_path: str = "",
    ) -> None:
        if security not in ("starttls", "tls", "none"):
            raise ConfigError(f"delivery.smtp.security: {security!r} is not starttls, tls or none")
        if password and not username:
            raise ConfigError("delivery.smtp: a password is set but no username")
        self.host = host
        self.port = port
        self.security: Security = security
        self.username = username
        self.timeout = timeout
        self.connections = 0  # connections opened so far
        self._password = password
        self._ssl_context = ssl_context
        self._local_hostname = local_hostname
        self._clock = clock
        self.return_path = return_path  # the envelope sender (VERP-tagged); "" = From
        self._conn: _SMTP | _SMTPS | None = None
        self._messages = Messages()  # the variant's message, built once

    def __repr__(self) -> str:
        return (
            f"SmtpSender(host={self.host!r}, port={self.port}, security={self.security!r}, "
            f"username={self.username!r})"
        )

    def send(self, batch: Batch) -> list[Outcome]:
        return [self._send_one(batch, recipient) for recipient in batch.recipients]

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()

    def _send_one(self, batch: Batch, recipient: Recipient) -> Outcome:
        try:
            data = self._messages.render(batch, recipient, self._clock())
        except ValueError as exc:
            return Outcome(recipient.delivery_id, "failed", f"cannot build the message: {exc}")
        options: Sequence[str] = ()
        if not (batch.from_address + recipient.email).isascii():
            options = ("SMTPUTF8",)
        envelope = batch.from_address
        if self.return_path:
            week = batch.custom_args.get(WEEK_ARG, "")
            envelope = verp_address(self.return_path, week, recipient.delivery_id)
        return self._transmit(recipient.delivery_id, envelope, recipient.email, data, options)

    def _transmit(
        self, delivery_id: int, sender: str, to: str, data: bytes, options: Sequence[str]
    ) -> Outcome:
        for attempt in (1, 2):
            reused = self._conn is not None and self._conn.sock is not None
            try:
                conn = self._connection()
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                return Outcome(delivery_id, "retry", f"cannot connect to {self._where}: {exc}")
            conn.terminator_sent = False
            try:
                conn.sendmail(sender, [to], data, mail_options=options)
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = exc.recipients.get(to, (0, b"refused"))
                return _by_code(delivery_id, code, reply, "recipient refused")
            except smtplib.SMTPSenderRefused as exc:
                if exc.smtp_code >= 500:
                    raise SendAborted(
                        f"{self._where} refused the sender {sender}: "
                        f"{exc.smtp_code} {_text(exc.smtp_error)}"
                    ) from None
                return _by_code(delivery_id, exc.smtp_code, exc.smtp_error, "sender refused")
            except smtplib.SMTPDataError as exc:
                # The server answered DATA or the message itself: certain either way.
                return _by_code(delivery_id, exc.smtp_code, exc.smtp_error, "message refused")
            except smtplib.SMTPNotSupportedError as exc:
                return Outcome(delivery_id, "failed", f"{self._where}: {exc}")
            except (OSError, smtplib.SMTPException) as exc:
                sent = conn.terminator_sent
                self._drop()
                if sent:
                    return Outcome(
                        delivery_id,
                        "uncertain",
                        f"no reply after the message was sent ({exc}); it may have been accepted",
                    )
                if reused and attempt == 1:
                    log.info("smtp.reconnect", server=self._where)
                    continue
                return Outcome(delivery_id, "retry", f"{self._where}: {exc}")
            return Outcome(delivery_id, "sent")
        raise AssertionError("unreachable")

    @property
    def _where(self) -> str:
        return f"SMTP server {self.host}:{self.port}"

    def _connection(self) -> _SMTP | _SMTPS:
        if self._conn is not None and self._conn.sock is not None:
            return self._conn
        self._conn = None
        try:
            conn = self._open()
        except ssl.SSLCertVerificationError as exc:
            raise self._untrusted(exc) from None
        try:
            self._greet(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self.connections += 1
        return conn

    def _open(self) -> _SMTP | _SMTPS:
        if self.security == "tls":
            return _SMTPS(
                self.host,
                self.port,
                local_hostname=self._local_hostname,
                timeout=self.timeout,
                context=self._context(),
            )
        return _SMTP(
            self.host, self.port, local_hostname=self._local_hostname, timeout=self.timeout
        )

    def _greet(self, conn: smtplib.SMTP) -> None:
        try:
            conn.ehlo()
            if self.security == "starttls":
                conn.starttls(context=self._context())
                conn.ehlo()
            if self.username:
                conn.login(self.username, self._password)
        except smtplib.SMTPAuthenticationError as exc:
            raise SendAborted(
                f"{self._where} refused the login of {self.username!r}: "
                f"{exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise SendAborted(f"{self._where}: {exc}") from None
        except ssl.SSLCertVerificationError as exc:
            raise self._untrusted(exc) from None

    def _untrusted(self, exc: ssl.SSLCertVerificationError) -> SendAborted:
        return SendAborted(f"{self._where}: TLS certificate not trusted: {exc.verify_message}")

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _by_code(delivery_id: int, code: int, reply: bytes | str, what: str) -> Outcome:
    state: OutcomeState = "failed" if code >= 500 else "retry"
    return Outcome(delivery_id, state, f"{what}: {code} {_text(reply)}")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


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
