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
from tests.mail_samples import SECRET, SentMail, send_every_kind

SPAMASSASSIN = shutil.which("spamassassin")
pytestmark = pytest.mark.skipif(
    SPAMASSASSIN is None,
    reason="spamassassin is not installed (apt-get install spamassassin, or `make mailtools`)",
)
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
