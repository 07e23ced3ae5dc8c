"""SmtpSender against a real aiosmtpd server on loopback."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ipaddress
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from syndicate.delivery.base import Batch, Outcome, Recipient, SendAborted
from syndicate.delivery.smtp import SmtpSender
from syndicate.errors import ConfigError

NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
PASSWORD = "smtp-pass-never-shown-71c2"


@dataclass
class Received:
    peer: Any
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Handler:
    """Records messages; scripted refusals and breakdowns by recipient address."""

    refuse: dict[str, str] = field(default_factory=dict)  # address -> reply to RCPT
    vanish_after_data: set[str] = field(default_factory=set)  # close without a reply
    slow_after_data: set[str] = field(default_factory=set)  # reply only after 2 s
    drop_at_rcpt: set[str] = field(default_factory=set)  # close before DATA
    data_reply: dict[str, str] = field(default_factory=dict)  # address -> reply to DATA
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    open_servers: list[SMTP] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.drop_at_rcpt:
            assert server.transport is not None
            server.transport.close()
            return "250 OK"
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        to = envelope.rcpt_tos[0]
        assert isinstance(envelope.content, bytes)
        self.received.append(
            Received(
                session.peer, str(envelope.mail_from), list(envelope.rcpt_tos), envelope.content
            )
        )
        if to in self.vanish_after_data:
            assert server.transport is not None
            server.transport.abort()
        if to in self.slow_after_data:
            await asyncio.sleep(2)
        return self.data_reply.get(to, "250 OK queued")

    def count(self, delta: int, server: SMTP) -> None:
        with self.changed:
            self.connections += max(delta, 0)
            if delta > 0:
                self.open_servers.append(server)
            else:
                self.open_servers.remove(server)
            self.changed.notify_all()


class CountingSMTP(SMTP):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        first = self.transport is None
        super().connection_made(transport)
        if first:
            self.event_handler.count(+1, self)

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        self.event_handler.count(-1, self)


class CountingController(Controller):
    def factory(self) -> SMTP:
        return CountingSMTP(self.handler, **self.SMTP_kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC) - timedelta(days=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def client_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data == (b"mailer", PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[Handler, int]]]:
    controllers: list[Controller] = []

    def start(handler: Handler | None = None, **options: Any) -> tuple[Handler, int]:
        handler = handler or Handler()
        port = free_port()
        controller = CountingController(handler, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        with handler.changed:  # the controller's own start-up probe is not a client
            handler.changed.wait_for(lambda: not handler.open_servers, timeout=2)
            handler.connections = 0
        return handler, port

    yield start
    for controller in controllers:
        controller.stop()


def recipient(i: int, email_address: str = "", name: str = "") -> Recipient:
    return Recipient(
        delivery_id=i,
        email=email_address or f"reader{i}@example.com",
        name=name or f"Reader {i}",
        substitutions={"name": name or f"Reader {i}", "unsubscribe_url": f"https://x.test/u/{i}"},
        headers={
            "List-Unsubscribe": f"<https://x.test/u/{i}>, <mailto:leave@x.test?subject=u{i}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": "The Weekly <weekly.x.test>",
        },
        message_id=f"<2026-W47.{i}@x.test>",
    )


def batch(*recipients: Recipient) -> Batch:
    return Batch(
        subject="Week 47 for %%name%%",
        html="<p>Hello %%name%%</p><a href='%%unsubscribe_url%%'>leave</a>",
        text="Hello %%name%%\nLeave: %%unsubscribe_url%%",
        from_address="news@x.test",
        from_name="The Weekly",
        recipients=list(recipients),
        custom_args={"week": "2026-W47"},
    )


def delivered(handler: Handler) -> list[str]:
    return [r.rcpt_tos[0] for r in handler.received]


def plain_sender(port: int, **options: Any) -> SmtpSender:
    settings: dict[str, Any] = {"security": "none", "timeout": 2.0, "clock": lambda: NOW}
    return SmtpSender("127.0.0.1", port, **(settings | options))


def test_the_message_has_both_parts_and_every_header(
    serve: Callable[..., tuple[Handler, int]],
) -> None:
    handler, port = serve()
    sender = plain_sender(port)
    outcome = sender.send(batch(recipient(1, name="Zoë <b>&</b>")))
    sender.close()

    assert outcome == [Outcome(1, "sent")]
    (got,) = handler.received
    assert got.mail_from == "news@x.test"
    assert got.rcpt_tos == ["reader1@example.com"]
    msg = got.message
    assert msg["From"] == "The Weekly <news@x.test>"
    assert msg["To"].addresses[0].addr_spec == "reader1@example.com"
    assert msg["Subject"] == "Week 47 for Zoë <b>&</b>"
    assert msg["Date"].datetime == NOW
    assert msg["Message-ID"] == "<2026-W47.1@x.test>"
    assert msg["List-Unsubscribe"] == "<https://x.test/u/1>, <mailto:leave@x.test?subject=u1>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Id"] == "The Weekly <weekly.x.test>"
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    # CRLF on the wire; compare the text itself
    plain = text.get_content().replace("\r\n", "\n").rstrip("\n")
    assert plain == "Hello Zoë <b>&</b>\nLeave: https://x.test/u/1"
    assert "<p>Hello Zoë &lt;b&gt;&amp;&lt;/b&gt;</p>" in html.get_content()
    assert "href='https://x.test/u/1'" in html.get_content()


def test_one_connection_serves_many_messages(serve: Callable[..., tuple[Handler, int]]) -> None:
    handler, port = serve()
    sender = plain_sender(port)
    assert sender.max_batch == 20 and sender.journaled
    outcomes = [sender.send(batch(recipient(i)))[0] for i in range(3)]
    outcomes += sender.send(batch(*(recipient(i) for i in range(3, 8))))
    sender.close()
    assert outcomes == [Outcome(i, "sent") for i in range(8)]
    assert handler.connections == 1 and sender.connections == 1
    assert [r.rcpt_tos[0] for r in handler.received] == [f"reader{i}@example.com" for i in range(8)]


def test_a_refused_recipient_fails_with_the_reply_and_the_rest_go(
    serve: Callable[..., tuple[Handler, int]],
) -> None:
    handler = Handler(
        refuse={
            "gone@example.com": "550 5.1.1 <gone@example.com>: no such user",
            "busy@example.com": "451 4.3.0 try again later",
        }
    )
    handler, port = serve(handler)
    sender = plain_sender(port)
    people = [recipient(1), recipient(2, "gone@example.com"), recipient(3, "busy@example.com")]
    outcomes = [sender.send(batch(p))[0] for p in [*people, recipient(4)]]
    sender.close()
    assert [o.state for o in outcomes] == ["sent", "failed", "retry", "sent"]
    assert "550 5.1.1 <gone@example.com>: no such user" in outcomes[1].error
    assert "451" in outcomes[2].error
    assert [r.rcpt_tos[0] for r in handler.received] == [
        "reader1@example.com",
        "reader4@example.com",
    ]
    assert handler.connections == 1


def test_a_refused_message_fails(serve: Callable[..., tuple[Handler, int]]) -> None:
    _, port = serve(Handler(data_reply={"spam@example.com": "554 5.7.1 looks like spam"}))
    sender = plain_sender(port)
    (outcome,) = sender.send(batch(recipient(1, "spam@example.com")))
    assert outcome.state == "failed" and "554 5.7.1 looks like spam" in outcome.error
    assert sender.send(batch(recipient(2))) == [Outcome(2, "sent")]


def test_a_connection_closed_between_messages_is_reopened_once(
    serve: Callable[..., tuple[Handler, int]],
) -> None:
    handler, port = serve()
    sender = plain_sender(port)
    assert sender.send(batch(recipient(1))) == [Outcome(1, "sent")]
    with handler.changed:  # the server closes the idle connection
        (server,) = handler.open_servers
        assert server.transport is not None
        server.loop.call_soon_threadsafe(server.transport.close)
        assert handler.changed.wait_for(lambda: not handler.open_servers, timeout=2)
    assert sender.send(batch(recipient(2))) == [Outcome(2, "sent")]
    sender.close()
    assert handler.connections == 2
    assert [r.rcpt_tos[0] for r in handler.received] == [
        "reader1@example.com",
        "reader2@example.com",
    ]


def test_a_drop_before_the_data_is_complete_is_retry(
    serve: Callable[..., tuple[Handler, int]],
) -> None:
    handler, port = serve(Handler(drop_at_rcpt={"drop@example.com"}))
    sender = plain_sender(port)
    assert sender.send(batch(recipient(1))) == [Outcome(1, "sent")]
    # on a reused connection: reopened once, dropped again, then left to retry
    (outcome,) = sender.send(batch(recipient(2, "drop@example.com")))
    assert outcome.state == "retry"
    assert handler.connections == 2
    assert len(handler.received) == 1
    assert sender.send(batch(recipient(3))) == [Outcome(3, "sent")]
    assert handler.connections == 3


@pytest.mark.parametrize("breakdown", ["vanish_after_data", "slow_after_data"])
def test_no_reply_after_the_data_is_uncertain_and_not_resent(
    serve: Callable[..., tuple[Handler, int]], breakdown: str
) -> None:
    handler = Handler()
    getattr(handler, breakdown).add("lost@example.com")
    handler, port = serve(handler)
    sender = plain_sender(port, timeout=0.5)
    assert sender.send(batch(recipient(1))) == [Outcome(1, "sent")]
    (outcome,) = sender.send(batch(recipient(2, "lost@example.com")))
    assert outcome.state == "uncertain"
    assert "may have been accepted" in outcome.error
    assert [r.rcpt_tos[0] for r in handler.received].count("lost@example.com") == 1
    assert sender.send(batch(recipient(3))) == [Outcome(3, "sent")]
    sender.close()


def test_connection_refused_is_retry() -> None:
    sender = plain_sender(free_port())
    (outcome,) = sender.send(batch(recipient(1)))
    assert outcome.state == "retry" and "cannot connect" in outcome.error


def test_a_message_that_cannot_be_built_fails(serve: Callable[..., tuple[Handler, int]]) -> None:
    handler, port = serve()
    sender = plain_sender(port)
    (outcome,) = sender.send(batch(recipient(1, "not an address")))
    assert outcome.state == "failed" and "cannot build" in outcome.error
    assert handler.received == []


def test_a_refused_sender_aborts(serve: Callable[..., tuple[Handler, int]]) -> None:
    class RefuseSender(Handler):
        async def handle_MAIL(
            self, server: SMTP, session: Session, envelope: Envelope, address: str, opts: Any
        ) -> str:
            return "550 5.7.1 sender not allowed"

    _, port = serve(RefuseSender())
    with pytest.raises(SendAborted, match="sender not allowed"):
        plain_sender(port).send(batch(recipient(1)))


def test_starttls_and_login(
    serve: Callable[..., tuple[Handler, int]],
    certificate: tuple[Path, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    handler, port = serve(
        tls_context=server_tls(certificate),
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    sender = SmtpSender(
        "127.0.0.1",
        port,
        security="starttls",
        username="mailer",
        password=PASSWORD,
        ssl_context=client_tls(certificate),
        clock=lambda: NOW,
    )
    assert sender.send(batch(recipient(1))) == [Outcome(1, "sent")]
    assert sender.send(batch(recipient(2))) == [Outcome(2, "sent")]
    sender.close()
    assert handler.connections == 1
    assert len(handler.received) == 2
    assert PASSWORD not in repr(sender)
    assert PASSWORD not in caplog.text

    wrong = SmtpSender(
        "127.0.0.1",
        port,
        security="starttls",
        username="mailer",
        password="wrong-" + PASSWORD,
        ssl_context=client_tls(certificate),
        timeout=2,
    )
    with pytest.raises(SendAborted, match="refused the login of 'mailer'") as err:
        wrong.send(batch(recipient(3)))
    assert PASSWORD not in str(err.value)


def test_starttls_with_an_untrusted_certificate_aborts(
    serve: Callable[..., tuple[Handler, int]], certificate: tuple[Path, Path]
) -> None:
    _, port = serve(tls_context=server_tls(certificate), require_starttls=True)
    sender = SmtpSender("127.0.0.1", port, security="starttls", timeout=2)
    with pytest.raises(SendAborted, match="certificate"):
        sender.send(batch(recipient(1)))


def test_implicit_tls(
    serve: Callable[..., tuple[Handler, int]], certificate: tuple[Path, Path]
) -> None:
    handler, port = serve(ssl_context=server_tls(certificate))
    sender = SmtpSender(
        "127.0.0.1", port, security="tls", ssl_context=client_tls(certificate), clock=lambda: NOW
    )
    assert sender.send(batch(recipient(1), recipient(2))) == [
        Outcome(1, "sent"),
        Outcome(2, "sent"),
    ]
    sender.close()
    assert handler.connections == 1 and len(handler.received) == 2


def test_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="security"):
        SmtpSender("localhost", security="ssl")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="username"):
        SmtpSender("localhost", password="x")


class Notes:
    """A journal that remembers what it was told (delivery.base.Journal)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, int]] = []

    def sending(self, delivery_id: int) -> None:
        self.lines.append(("sending", delivery_id))

    def settled(self, delivery_id: int, state: str) -> None:
        self.lines.append((state, delivery_id))


def journaled(*recipients: Recipient) -> tuple[Batch, Notes]:
    notes = Notes()
    plain = batch(*recipients)
    return Batch(**{**{f: getattr(plain, f) for f in plain.__slots__}, "journal": notes}), notes


def test_a_recipient_refused_mid_batch_fails_alone(
    serve: Callable[..., tuple[Handler, int]],
) -> None:
    handler, port = serve(Handler(refuse={"gone@example.com": "550 5.1.1 no such user"}))
    sender = plain_sender(port)
    one, notes = journaled(recipient(1), recipient(2, "gone@example.com"), recipient(3))
    outcomes = sender.send(one)
    sender.close()
    assert [o.state for o in outcomes] == ["sent", "failed", "sent"]
    assert "550 5.1.1 no such user" in outcomes[1].error
    assert delivered(handler) == ["reader1@example.com", "reader3@example.com"]
    assert handler.connections == 1
    # the refused one never reached its DATA: nothing of it is in the journal
    assert notes.lines == [("sending", 1), ("sent", 1), ("sending", 3), ("sent", 3)]


def test_a_connection_lost_mid_batch_leaves_one_in_doubt_and_the_rest_go(
    serve: Callable[..., tuple[Handler, int]],
) -> None:
    handler = Handler(vanish_after_data={"lost@example.com"}, drop_at_rcpt={"drop@example.com"})
    handler, port = serve(handler)
    sender = plain_sender(port, timeout=0.5)
    people = [recipient(1), recipient(2, "lost@example.com"), recipient(3)]
    people += [recipient(4, "drop@example.com"), recipient(5)]
    one, notes = journaled(*people)
    outcomes = sender.send(one)
    sender.close()
    assert [o.state for o in outcomes] == ["sent", "uncertain", "sent", "retry", "sent"]
    assert delivered(handler).count("lost@example.com") == 1  # never sent again
    assert "drop@example.com" not in delivered(handler)
    assert delivered(handler)[-1] == "reader5@example.com"
    assert ("sending", 2) in notes.lines and ("uncertain", 2) in notes.lines
    assert ("sending", 4) not in notes.lines  # dropped before its DATA


def test_an_unreachable_server_leaves_the_whole_batch_to_retry() -> None:
    sender = plain_sender(free_port())
    outcomes = sender.send(batch(recipient(1), recipient(2), recipient(3)))
    assert [o.state for o in outcomes] == ["retry"] * 3
    assert all("cannot connect" in o.error for o in outcomes)
