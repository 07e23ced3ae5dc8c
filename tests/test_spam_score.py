"""Every kind of message the project sends, as sent, scored by SpamAssassin with its local
rules only (``spamassassin -t -L``): each must score 0.0 or less (issue 11).

SpamAssassin is Debian's ``spamassassin`` package, installed by ``make test`` (the
``mailtools`` target); where it cannot be installed the test is skipped with that reason.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.mail_samples import NOW, SECRET, WEEK, SentMail, example_settings, send_every_kind
from tests.sendgrid_standin import SendGridStandIn
from tests.smtp_server import smtp_server

from syndicate import mime
from syndicate.delivery import Sender
from syndicate.delivery.sendgrid import SendGridSender
from syndicate.delivery.smtp import SmtpSender
from syndicate.models import Message, SubscriberStatus
from syndicate.pipeline import gather
from syndicate.pipeline.send import send_edition
from syndicate.store import Store

SPAMASSASSIN = shutil.which("spamassassin")
pytestmark = [
    pytest.mark.slow,  # a real SpamAssassin per message
    pytest.mark.skipif(
        SPAMASSASSIN is None,
        reason="spamassassin is not installed (apt-get install spamassassin, or `make mailtools`)",
    ),
]
_STATUS = re.compile(
    r"^X-Spam-Status: (\w+), score=(-?[0-9.]+) .*?tests=(.*?)(?:autolearn|version)", re.M | re.S
)


def spam_score(eml: Path, home: Path) -> tuple[float, str]:
    """(score, rules hit) of SpamAssassin's local rules for one message."""
    assert SPAMASSASSIN is not None
    done = subprocess.run(
        [
            SPAMASSASSIN,
            "-t",
            "-L",
            "--siteconfigpath=/etc/spamassassin",
            f"--prefspath={home / 'prefs'}",
        ],
        input=eml.read_bytes(),
        capture_output=True,
        timeout=300,  # a hang guard; a message takes a few seconds
        check=True,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
    )
    head = done.stdout.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("utf-8", "replace")
    unfolded = re.sub(r"\r?\n[ \t]+", " ", head)
    match = _STATUS.search(unfolded)
    assert match is not None, f"no X-Spam-Status in SpamAssassin's output:\n{head}"
    return float(match[2]), " ".join(match[3].split())


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> SentMail:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNDICATE_SECRET_KEY", SECRET)
        return send_every_kind(tmp_path_factory.mktemp("sent"))


@pytest.mark.parametrize("kind", ["digest", "test copy", "confirmation", "welcome"])
def test_every_kind_of_message_scores_zero_or_less(
    sent: SentMail, kind: str, tmp_path: Path
) -> None:
    (tmp_path / "prefs").write_text("", encoding="utf-8")
    score, rules = spam_score(sent.all()[kind], tmp_path)
    assert score <= 0.0, f"{kind}: SpamAssassin scores {score} ({rules})"
    assert "HTML_FONT_LOW_CONTRAST" not in rules


def _digest_through(sender: Sender, tmp: Path) -> None:
    settings = example_settings(tmp)
    with Store(settings.database_url) as store:
        assert gather(settings, store, now=NOW).failed == 0
        store.add_subscriber(
            "bob@example.org", "Bob Müller", frozenset(), SubscriberStatus.ACTIVE, NOW
        )
        report = send_edition(settings, store, sender, WEEK, clock=lambda: NOW)
        assert report.counts.get("sent") == 1, report.summary()


def test_the_digest_as_an_smtp_server_receives_it_scores_zero_or_less(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    with smtp_server() as inbox:
        sender = SmtpSender("127.0.0.1", inbox.port, security="none", timeout=30, clock=lambda: NOW)
        _digest_through(sender, tmp_path)
        (received,) = inbox.messages
    eml = tmp_path / "smtp.eml"
    eml.write_bytes(received.data)
    (tmp_path / "prefs").write_text("", encoding="utf-8")
    score, rules = spam_score(eml, tmp_path)
    assert score <= 0.0, f"digest via SMTP: SpamAssassin scores {score} ({rules})"


def test_the_digest_as_sendgrid_would_mail_it_scores_zero_or_less(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the SendGrid stand-in accepted (substitutions applied as SendGrid does them),
    as a message with the request's headers."""
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    with SendGridStandIn("SG.spam-test") as standin:
        _digest_through(SendGridSender("SG.spam-test", base_url=standin.base_url), tmp_path)
        (accepted,) = standin.messages
    headers = dict(accepted.headers)
    message_id = headers.pop("Message-ID")
    message = Message(
        to=accepted.email,
        to_name=accepted.name,
        subject=accepted.rendered_subject,
        html=accepted.html,
        text=accepted.text,
        from_address=accepted.content.from_email,
        from_name=accepted.content.from_name,
        message_id=message_id,
        headers=headers,
    )
    eml = tmp_path / "sendgrid.eml"
    eml.write_bytes(mime.to_bytes(mime.build_email(message, date=NOW)))
    (tmp_path / "prefs").write_text("", encoding="utf-8")
    score, rules = spam_score(eml, tmp_path)
    assert score <= 0.0, f"digest via SendGrid: SpamAssassin scores {score} ({rules})"
    assert accepted.content.tracking_settings["open_tracking"] == {"enable": False}


def test_the_score_is_read_from_spamassassin_itself(tmp_path: Path) -> None:
    """The check can fail: a message that is plainly spam scores well above zero."""
    (tmp_path / "prefs").write_text("", encoding="utf-8")
    spam = tmp_path / "spam.eml"
    spam.write_bytes(
        b"From: WINNER <winner@example.com>\r\nTo: you@example.org\r\n"
        b"Subject: =?utf-8?q?FREE_MONEY!!!_CLICK_NOW?=\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b'<html><body><font color="#ffffff" style="background:#ffffff">viagra cialis</font>'
        b"<p>100% FREE!!! CLICK HERE to claim your PRIZE of $1,000,000 US DOLLARS. "
        b"Act now, limited time, no risk, guaranteed, make money fast!</p></body></html>\r\n"
    )
    score, rules = spam_score(spam, tmp_path)
    assert score > 0.0, rules
