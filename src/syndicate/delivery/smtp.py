"""SMTP delivery: a batch of messages, one per recipient, over one reused connection.

Each message is one SMTP transaction: MAIL, RCPT and DATA go out together when the server
offers PIPELINING (one round trip), then the message with its terminator (a second). Whether
a failed message may have been accepted is decided by the DATA terminator: until
"<CRLF>.<CRLF>" is handed to the socket the server cannot have accepted the message, so a
failure is "retry"; after it, a lost reply is "uncertain". The batch's journal
(``Batch.journal``) hears of each message just before its terminator goes out and again once
its answer is in, so a crash mid-batch leaves only that one message in doubt. A connection
the server closed while idle between messages is reopened once for the message that found
it closed.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime

from syndicate.delivery.base import (
    WEEK_ARG,
    Batch,
    Journal,
    Messages,
    Outcome,
    OutcomeState,
    Recipient,
    SendAborted,
)
from syndicate.delivery.smtp_kind import Security
from syndicate.delivery.verp import verp_address
from syndicate.errors import ConfigError
from syndicate.log import EventLog

log = EventLog(__name__)

_CANNOT_CONNECT = "cannot connect to "
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


def _now() -> datetime:
    return datetime.now(UTC)


class _Refused(Exception):
    """The server answered a command of the transaction with ``code``: certain, not sent."""

    def __init__(self, code: int, reply: bytes, what: str) -> None:
        self.code, self.reply, self.what = code, reply, what


class SmtpSender:
    """Sends each recipient of a batch its own message, in order, over one connection. Not
    for concurrent use: it owns one connection."""

    # A claim's size: enough to spread the ledger's two writes thin, small enough that
    # workers sharing a send each get a share of a small one.
    max_batch = 20
    journaled = True  # batches of max_batch only with a journal (delivery.base.Sender)

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
        self._conn: smtplib.SMTP | None = None
        self._messages = Messages()  # the variant's message, built once

    def __repr__(self) -> str:
        return (
            f"SmtpSender(host={self.host!r}, port={self.port}, security={self.security!r}, "
            f"username={self.username!r})"
        )

    def send(self, batch: Batch) -> list[Outcome]:
        """One outcome per recipient, in order. When the server cannot be reached, the rest
        of the batch is "retry" at once; SendAborted carries the outcomes settled before."""
        outcomes: list[Outcome] = []
        recipients = batch.recipients
        for index, recipient in enumerate(recipients):
            try:
                outcome = self._send_one(batch, recipient)
            except SendAborted as aborted:
                aborted.outcomes = outcomes
                raise
            outcomes.append(outcome)
            if outcome.state == "retry" and outcome.error.startswith(_CANNOT_CONNECT):
                rest = recipients[index + 1 :]
                outcomes += [Outcome(r.delivery_id, "retry", outcome.error) for r in rest]
                break
        return outcomes

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
        envelope = batch.from_address
        if self.return_path:
            week = batch.custom_args.get(WEEK_ARG, "")
            envelope = verp_address(self.return_path, week, recipient.delivery_id)
        message = _Message(recipient.delivery_id, envelope, recipient.email, data, batch.journal)
        return self._transmit(message)

    def _transmit(self, message: _Message) -> Outcome:
        delivery_id = message.delivery_id
        for attempt in (1, 2):
            reused = self._conn is not None and self._conn.sock is not None
            try:
                conn = self._connection()
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                return Outcome(delivery_id, "retry", f"{_CANNOT_CONNECT}{self._where}: {exc}")
            try:
                return message.send(conn)
            except _Refused as refused:
                _reset(conn)
                if refused.what == "sender refused" and refused.code >= 500:
                    raise SendAborted(
                        f"{self._where} refused the sender {message.sender}: "
                        f"{refused.code} {_text(refused.reply)}"
                    ) from None
                return _by_code(delivery_id, refused.code, refused.reply, refused.what)
            except smtplib.SMTPNotSupportedError as exc:
                return Outcome(delivery_id, "failed", f"{self._where}: {exc}")
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                if message.terminated:
                    message.settle("uncertain")
                    return Outcome(
                        delivery_id,
                        "uncertain",
                        f"no reply after the message was sent ({exc}); it may have been accepted",
                    )
                message.settle("retry")
                if reused and attempt == 1:
                    log.info("smtp.reconnect", server=self._where)
                    continue
                return Outcome(delivery_id, "retry", f"{self._where}: {exc}")
        raise AssertionError("unreachable")

    @property
    def _where(self) -> str:
        return f"SMTP server {self.host}:{self.port}"

    def _connection(self) -> smtplib.SMTP:
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

    def _open(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self._local_hostname,
                timeout=self.timeout,
                context=self._context(),
            )
        return smtplib.SMTP(
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


class _Message:
    """One message's SMTP transaction; ``terminated`` once its end-of-data marker was handed
    to the socket (from then on the server may have accepted it)."""

    def __init__(
        self, delivery_id: int, sender: str, to: str, data: bytes, journal: Journal | None
    ) -> None:
        self.delivery_id, self.sender, self.to = delivery_id, sender, to
        self.data, self.journal = data, journal
        self.terminated = self._noted = False

    def send(self, conn: smtplib.SMTP) -> Outcome:
        """ "sent", or _Refused with the answer that refused it (then a RSET is due)."""
        mail = f"MAIL FROM:<{self.sender}>"
        if not (self.sender + self.to).isascii():
            if not conn.has_extn("smtputf8"):
                raise smtplib.SMTPNotSupportedError("SMTPUTF8 not supported by server")
            mail += " SMTPUTF8"
        if conn.has_extn("size"):
            mail += f" SIZE={len(self.data)}"
        commands = [
            (f"{mail}\r\n".encode(), (250,), "sender refused"),
            (f"RCPT TO:<{self.to}>\r\n".encode(), (250, 251), "recipient refused"),
            (b"DATA\r\n", (354,), "message refused"),
        ]
        if conn.has_extn("pipelining"):
            conn.send(b"".join(command for command, _, _ in commands))
            replies = [conn.getreply() for _ in commands]
        else:
            replies = []
            for command, wanted, _ in commands:
                conn.send(command)
                replies.append(conn.getreply())
                if replies[-1][0] not in wanted:
                    break
        for (code, reply), (_, wanted, what) in zip(replies, commands, strict=False):
            if code not in wanted:
                if replies[-1][0] == 354:  # DATA was taken after all: end it empty
                    conn.send(b".\r\n")
                    conn.getreply()
                raise _Refused(code, reply, what)
        data = self.data
        if data.startswith(b".") or b"\r\n." in data:
            data = _LEADING_DOT.sub(b"..", data)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        if self.journal is not None:
            self.journal.sending(self.delivery_id)
            self._noted = True
        conn.send(data + b".\r\n")
        self.terminated = True
        code, reply = conn.getreply()
        if code == 250:
            outcome = Outcome(self.delivery_id, "sent")
        else:
            outcome = _by_code(self.delivery_id, code, reply, "message refused")
        self.settle(outcome.state)
        return outcome

    def settle(self, state: OutcomeState) -> None:
        if self._noted and self.journal is not None:
            self.journal.settled(self.delivery_id, state)
            self._noted = False


def _reset(conn: smtplib.SMTP) -> None:
    """RSET after a refused transaction; a connection that fails it is closed (the next
    message opens another)."""
    try:
        conn.rset()
    except (OSError, smtplib.SMTPException):
        conn.close()


def _by_code(delivery_id: int, code: int, reply: bytes | str, what: str) -> Outcome:
    state: OutcomeState = "failed" if code >= 500 else "retry"
    return Outcome(delivery_id, state, f"{what}: {code} {_text(reply)}")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
