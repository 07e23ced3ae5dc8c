"""The bounce mailbox (issue 11): a digest sent through a real SMTP server (aiosmtpd on
loopback) bounces; the DSN, a complaint report and a mailto: unsubscribe are dropped into a
real IMAP server (Dovecot on loopback, started here as a non-root user); ``syndicate
bounces fetch`` reads them, suppresses the subscribers and deletes what it understood.

The DSN and ARF samples are written here in the shape real MTAs and feedback loops send
(Postfix's multipart/report with text/rfc822-headers; an ARF with message/rfc822).
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.imap_server import DOVECOT, ImapServer, dovecot, non_loopback_address
from tests.smtp_server import smtp_server

from syndicate.cli import main
from syndicate.config import Settings, load_settings
from syndicate.delivery.events import bounce_class
from syndicate.delivery.imap import ImapMailbox, MailboxAddress, MailboxError, is_loopback
from syndicate.delivery.registry import make_sender
from syndicate.delivery.reports import ledger_key, parse_report
from syndicate.delivery.verp import verp_address, verp_key
from syndicate.models import Article, SubscriberStatus
from syndicate.pipeline.bounces import fetch_bounces
from syndicate.pipeline.send import send_edition
from syndicate.store import Store

# The slow lane: a real Dovecot and SMTP server per test.
pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
WEEK = "2026-W47"
SECRET = "bLeEpZTeRI_olaP6y-ssWUjp5s3bRZGecGxgJ_W5Klc"
MAILBOX = "leave@astro.example.org"


def dsn(original: bytes, recipient: str, status: str, action: str = "failed") -> bytes:
    """A delivery status notification as Postfix writes one (RFC 3464)."""
    headers = original.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
    return (
        (
            "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
            f"To: digest@astro.example.org\nSubject: Undelivered Mail Returned to Sender\n"
            f"Message-ID: <dsn.{recipient}.{status}@mx.example.net>\n"
            "MIME-Version: 1.0\nAuto-Submitted: auto-replied\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\n\n'
            "--B1\nContent-Type: text/plain; charset=us-ascii\n\n"
            "I'm sorry to have to inform you that your message could not be delivered.\n\n"
            "--B1\nContent-Type: message/delivery-status\n\n"
            "Reporting-MTA: dns; mx.example.net\nArrival-Date: Sat, 21 Nov 2026 12:00:01 +0000\n\n"
            f"Final-Recipient: rfc822; {recipient}\nOriginal-Recipient: rfc822;{recipient}\n"
            f"Action: {action}\nStatus: {status}\n"
            f"Diagnostic-Code: smtp; {status[0]}50 {status} mailbox problem\n\n"
            "--B1\nContent-Type: text/rfc822-headers\n\n"
        ).encode()
        + headers
        + b"\n\n--B1--\n"
    )


def arf(original: bytes) -> bytes:
    """An abuse report of a feedback loop (RFC 5965), the recipient redacted."""
    redacted = original.replace(b"To: ", b"X-Was-To: ", 1)
    return (
        b"From: fbl@isp.example\nTo: digest@astro.example.org\nSubject: complaint\n"
        b"Message-ID: <arf.1@isp.example>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\n\n'
        b"--F\nContent-Type: text/plain\n\nThis is an email abuse report.\n\n"
        b"--F\nContent-Type: message/feedback-report\n\n"
        b"Feedback-Type: abuse\nUser-Agent: ExampleFBL/1.0\nVersion: 1\n"
        b"Source-IP: 192.0.2.1\nArrival-Date: Sat, 21 Nov 2026 12:10:00 +0000\n\n"
        b"--F\nContent-Type: message/rfc822\n\n" + redacted.replace(b"\r\n", b"\n") + b"\n--F--\n"
    )


def unsubscribe_mail(sender: str, token: str) -> bytes:
    return (
        f"From: {sender}\nTo: {MAILBOX}\nSubject: unsubscribe {token}\n"
        "Message-ID: <u1@reader.example>\n\nunsubscribe\n"
    ).encode()


# --- pure: the reports --------------------------------------------------------------------


def test_hard_or_soft_follows_the_status_class_not_the_action() -> None:
    assert bounce_class("5.1.1") == "hard" and bounce_class("4.2.2") == "soft"
    original = b"Message-ID: <2026-W47.7.3@astro.example.org>\r\nTo: a@x.example\r\n\r\nhi"
    (failed_transient,) = parse_report(dsn(original, "a@x.example", "4.2.2", action="failed"))
    assert (failed_transient.kind, failed_transient.bounce) == ("bounce", "soft")
    (hard,) = parse_report(dsn(original, "a@x.example", "5.1.1"))
    assert (hard.kind, hard.bounce, hard.status) == ("bounce", "hard", "5.1.1")
    assert (hard.week, hard.delivery_id, hard.email) == (WEEK, 7, "a@x.example")
    (delivered,) = parse_report(dsn(original, "a@x.example", "2.0.0", action="delivered"))
    assert delivered.kind == "delivered"


def test_a_complaint_report_and_an_unrelated_mail() -> None:
    original = b"Message-ID: <2026-W47.9.4@astro.example.org>\r\nTo: b@x.example\r\n\r\nhi"
    (complaint,) = parse_report(arf(original))
    assert (complaint.kind, complaint.delivery_id, complaint.week) == ("complaint", 9, WEEK)
    assert parse_report(b"From: boss@x.example\nSubject: I am away\n\nBack Monday.\n") == []
    assert parse_report(unsubscribe_mail("c@x.example", "abc.def")) == []  # no mailbox set
    (request,) = parse_report(
        unsubscribe_mail("c@x.example", "abc.def"), unsubscribe_mailbox=MAILBOX
    )
    assert (request.kind, request.token, request.email) == ("unsubscribe", "abc.def", "c@x.example")


def test_message_ids_name_the_ledger_row() -> None:
    assert ledger_key("<2026-W47.12.5@astro.example.org>") == (WEEK, 12)
    assert ledger_key("<preview.2026-W47@astro.example.org>") == ("", None)
    assert ledger_key("<random@elsewhere>") == ("", None)


def test_verp_addresses_name_the_delivery() -> None:
    address = verp_address("bounces@astro.example.org", WEEK, 12)
    assert address == "bounces+2026-W47.12@astro.example.org"
    assert verp_key(address) == (WEEK, 12)
    assert verp_key(verp_address("b@x.example", "weekly:2026-W47", 3)) == ("weekly:2026-W47", 3)
    assert verp_address("bounces@astro.example.org", "test-2026-W47", 0) == (
        "bounces@astro.example.org"
    )
    assert verp_key("bounces@astro.example.org") == ("", None)


def test_a_dsn_without_the_original_headers_is_matched_by_verp() -> None:
    bare = dsn(b"X-Nothing: here\r\n\r\n", "a@x.example", "5.1.1").replace(
        b"To: digest@astro.example.org", b"To: bounces+2026-W47.44@astro.example.org", 1
    )
    (event,) = parse_report(bare)
    assert (event.week, event.delivery_id, event.bounce) == (WEEK, 44, "hard")


def test_imap_without_tls_only_on_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and not is_loopback("mail.example.org")
    assert MailboxAddress.parse("imaps://b%40x@mail.example.org/Bounces").folder == "Bounces"
    with pytest.raises(MailboxError, match="imap_url"):
        MailboxAddress.parse("pop3://b@mail.example.org/")


# --- against real servers -------------------------------------------------------------------


@pytest.fixture
def imap() -> Iterator[ImapServer]:
    if DOVECOT is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd, or `make mailtools`)")
    with dovecot() as server:
        yield server


def site(tmp_path: Path, database_url: str, smtp_port: int, imap: ImapServer) -> Settings:
    config = tmp_path / "config" / "syndicate.toml"
    config.parent.mkdir()
    config.write_text(
        f"""
[site]
title = "Astro"
url = "https://astro.example.org/"
[storage]
url = "{database_url}"
[email]
from_address = "digest@astro.example.org"
unsubscribe_mailbox = "{MAILBOX}"
[delivery]
backend = "smtp"
[delivery.smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
[bounces]
return_path = "bounces@astro.example.org"
imap_url = "{imap.url}"
password_env = "TEST_BOUNCES_PASSWORD"
soft_limit = 2
""",
        encoding="utf-8",
    )
    return load_settings(config, env={})


def test_a_bounced_smtp_send_suppresses_its_subscriber(
    tmp_path: Path, database_url: str, imap: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    monkeypatch.setenv("TEST_BOUNCES_PASSWORD", imap.password)
    readers = [
        "gone@x.example",
        "full@x.example",
        "angry@x.example",
        "leaves@x.example",
        "ok@x.example",
    ]
    with smtp_server() as inbox, Store(database_url) as store:
        settings = site(tmp_path, database_url, inbox.port, imap)
        store.upsert_articles([_article()], NOW)
        for address in readers:
            store.add_subscriber(address, "Reader", frozenset(), SubscriberStatus.ACTIVE, NOW)
        sender = make_sender(settings, lambda: NOW)  # the SMTP backend, as `syndicate` builds it
        send_edition(settings, store, sender, WEEK, clock=lambda: NOW)
        sent = {m.recipients[0]: m.data for m in inbox.messages}
        assert set(sent) == set(readers)
        envelopes = {m.mail_from for m in inbox.messages}
        assert all(e.startswith("bounces+weekly=2026-W47.") for e in envelopes), envelopes
        assert len(envelopes) == len(readers), "each names its own delivery"

        imap.drop(dsn(sent["gone@x.example"], "gone@x.example", "5.1.1"))
        imap.drop(dsn(sent["full@x.example"], "full@x.example", "4.2.2", action="delayed"))
        imap.drop(arf(sent["angry@x.example"]))
        leaves = email.message_from_bytes(sent["leaves@x.example"], policy=email.policy.default)
        mailto = str(leaves["List-Unsubscribe"]).split("<mailto:")[1].rstrip(">")
        assert mailto.startswith(f"{MAILBOX}?subject=unsubscribe%20")
        token = mailto.split("%20", 1)[1]
        imap.drop(unsubscribe_mail("leaves@x.example", token))
        imap.drop(b"From: boss@x.example\nSubject: out of office\n\nBack Monday.\n")

        result = CliRunner().invoke(
            main, ["--config", str(tmp_path / "config" / "syndicate.toml"), "bounces", "fetch"]
        )
        assert result.exit_code == 0, result.output
        assert "5 messages, 4 reports" in result.output

        def status(address: str) -> SubscriberStatus:
            found = store.find_subscriber(address)
            assert found is not None
            return found.status

        assert status("gone@x.example") is SubscriberStatus.BOUNCED  # 5.1.1: hard
        assert status("full@x.example") is SubscriberStatus.ACTIVE  # one soft bounce of 2
        assert status("angry@x.example") is SubscriberStatus.COMPLAINED
        assert status("leaves@x.example") is SubscriberStatus.UNSUBSCRIBED
        assert status("ok@x.example") is SubscriberStatus.ACTIVE
        assert imap.count() == 1, "the reports are deleted; the out-of-office reply stays"

        # A second soft bounce in a row suppresses; fetching again repeats nothing.
        imap.drop(
            dsn(sent["full@x.example"], "full@x.example", "4.4.7").replace(b"<dsn.", b"<dsn2.")
        )
        again = fetch_bounces(settings, store, now=NOW)
        assert again.events.new == 1
        assert status("full@x.example") is SubscriberStatus.BOUNCED
        providers = {e.provider for e, _, _ in store.webhook_events()}
        assert providers == {"mailbox"}


def test_a_wrong_password_is_one_line(
    tmp_path: Path, database_url: str, imap: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_BOUNCES_PASSWORD", "wrong")
    settings = site(tmp_path, database_url, 25, imap)
    result = CliRunner().invoke(
        main, ["--config", str(tmp_path / "config" / "syndicate.toml"), "bounces", "fetch"]
    )
    assert result.exit_code != 0
    assert "bounce mailbox 127.0.0.1" in result.output and "Traceback" not in result.output
    assert settings.bounces.soft_limit == 2


def _article() -> Article:
    return Article(
        guid="urn:a1",
        slug="a1",
        title="Meteor shower tonight",
        link="https://astro.example.org/a1/",
        published=datetime(2026, 11, 20, 9, tzinfo=UTC),
        category="Events",
        summary="Look up.",
        content="<p>Look up.</p>",
    )


def test_syndicate_run_polls_the_bounce_mailbox(
    tmp_path: Path, database_url: str, imap: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's job reads the mailbox and records its run; the scheduler has the job
    only when bounces.imap_url is set."""
    from tests.service_support import RecordingSender, make_jobs

    from syndicate.service.triggers import bounces_trigger

    monkeypatch.setenv("TEST_BOUNCES_PASSWORD", imap.password)
    settings = site(tmp_path, database_url, 25, imap)
    original = b"Message-ID: <2026-W47.1.1@astro.example.org>\r\nTo: z@x.example\r\n\r\nhi"
    imap.drop(dsn(original, "z@x.example", "5.1.1"))
    with Store(database_url) as store:
        store.add_subscriber("z@x.example", "Zed", frozenset(), SubscriberStatus.ACTIVE, NOW)
        run = make_jobs(settings, store, lambda: NOW, RecordingSender()).bounces()
        assert (run.job, run.outcome) == ("bounces", "ok")
        assert "1 messages, 1 reports" in run.detail
        zed = store.find_subscriber("z@x.example")
        assert zed is not None and zed.status is SubscriberStatus.BOUNCED
        assert store.last_success("bounces") is not None
    assert bounces_trigger(settings).interval.total_seconds() == 600


def test_plain_imap_is_refused_off_loopback_and_accepted_on_it() -> None:
    """The same Dovecot without TLS: reached on a loopback address it is read; reached on
    another address of this machine, imap:// (which then needs STARTTLS) is refused."""
    if DOVECOT is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd, or `make mailtools`)")
    host = non_loopback_address()
    if host is None:
        pytest.skip("this machine has no address but loopback")
    with dovecot(host) as server:
        address = MailboxAddress.parse(f"imap://{server.user}@{host}:{server.port}/INBOX")
        with pytest.raises(MailboxError, match="offers no STARTTLS; use imaps://"):
            ImapMailbox(address, server.password, timeout=10)
    with dovecot() as local:
        address = MailboxAddress.parse(local.url)
        mailbox = ImapMailbox(address, local.password, timeout=10)
        try:
            assert mailbox.fetch() == []
        finally:
            mailbox.close()
