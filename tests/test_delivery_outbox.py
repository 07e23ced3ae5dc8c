from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from syndicate.delivery.base import Batch, Outcome, Recipient
from syndicate.delivery.outbox import OutboxSender, eml_name
from syndicate.placeholders import substitute

NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


def recipient(i: int, address: str, name: str = "Ann") -> Recipient:
    return Recipient(
        delivery_id=i,
        email=address,
        name=name,
        substitutions={"name": name, "unsubscribe_url": f"https://x.test/u?t={i}&k=v"},
        headers={
            "List-Unsubscribe": f"<https://x.test/u/{i}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        message_id=f"<2026-W47.{i}@x.test>",
    )


def batch(*recipients: Recipient) -> Batch:
    return Batch(
        subject="Hi %%name%%",
        html='<p>Hi %%name%%</p><a href="%%unsubscribe_url%%">leave</a>',
        text="Hi %%name%%, leave: %%unsubscribe_url%%",
        from_address="news@x.test",
        from_name="Weekly",
        recipients=list(recipients),
        custom_args={"week": "2026-W47"},
    )


def test_one_eml_per_message(tmp_path: Path) -> None:
    sender = OutboxSender(tmp_path / "outbox", clock=lambda: NOW)
    people = [recipient(1, "ann@example.com"), recipient(2, "Bob+news@Example.com", "Bob")]
    assert sender.send(batch(*people)) == [Outcome(1, "sent"), Outcome(2, "sent")]

    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert files == [
        "2026-W47-000001-ann@example.com.eml",
        "2026-W47-000002-bob+news@example.com.eml",
    ]
    raw = (tmp_path / "outbox" / files[1]).read_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["To"] == "Bob <Bob+news@Example.com>"
    assert msg["Subject"] == "Hi Bob"
    assert msg["Message-ID"] == "<2026-W47.2@x.test>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Date"].datetime == NOW
    text, html = msg.iter_parts()
    assert "leave: https://x.test/u?t=2&k=v" in text.get_content()
    assert 'href="https://x.test/u?t=2&amp;k=v"' in html.get_content()


def test_sending_again_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    sender = OutboxSender(tmp_path, clock=lambda: NOW)
    sender.send(batch(recipient(1, "ann@example.com")))
    sender.send(batch(recipient(1, "ann@example.com", "Ann B")))
    (only,) = list(tmp_path.iterdir())
    assert b"Hi Ann B" in only.read_bytes()


def test_an_unbuildable_message_fails_and_a_write_error_is_retry(tmp_path: Path) -> None:
    sender = OutboxSender(tmp_path / "box", clock=lambda: NOW)
    (bad,) = sender.send(batch(recipient(1, "no address here")))
    assert bad.state == "failed" and "cannot build" in bad.error
    (tmp_path / "box").write_text("a file where the folder should be")
    (blocked,) = sender.send(batch(recipient(2, "bob@example.com")))
    assert blocked.state == "retry" and "cannot write" in blocked.error


def test_file_names_are_safe() -> None:
    assert eml_name("2026-W47", 7, "../../etc/passwd@x") == "2026-W47-000007-etc_passwd@x.eml"
    assert eml_name("", 7, "a b/c@x.test") == "no-week-000007-a_b_c@x.test.eml"
    assert "/" not in eml_name("../W", 1, "/" * 300)


# --- the shared substitution -----------------------------------------------------------


def test_substitute_fills_known_keys_once_and_leaves_others() -> None:
    values = {"name": "<%%other%%>", "other": "X"}
    assert substitute("Hi %%name%% %%missing%%", values) == "Hi <%%other%%> %%missing%%"
    assert substitute("<p>%%name%%</p>", values, escape=True) == "<p>&lt;%%other%%&gt;</p>"
    assert substitute("no placeholders", values) == "no placeholders"


def test_a_message_keeps_headers_on_one_line(tmp_path: Path) -> None:
    """The one personalization of a sent message (mime_bulk, as the SMTP sender's): values
    with line breaks stay one line in headers and keep their breaks in the body."""
    evil = Recipient(
        3,
        "a@example.com",
        "Eve\r\nBcc: x@example.com",
        {"name": "Eve\r\nBcc: x@example.com"},
        {"List-Id": "a\r\nb"},
        "<m@x.test>",
    )
    sender = OutboxSender(tmp_path, clock=lambda: NOW)
    assert sender.send(batch(evil)) == [Outcome(3, "sent")]
    (path,) = tmp_path.iterdir()
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert msg["Subject"] == "Hi Eve Bcc: x@example.com"
    assert msg["To"].addresses[0].display_name == "Eve Bcc: x@example.com"
    assert msg["List-Id"] == "a b"
    assert msg["Bcc"] is None
    text, _ = msg.iter_parts()
    assert "Hi Eve\nBcc" in text.get_content().replace("\r\n", "\n")  # the body keeps them


def test_every_message_carries_the_batch_headers_and_its_own_win(tmp_path: Path) -> None:
    own = recipient(2, "bob@example.com", "Bob")
    own = own._replace(headers={**own.headers, "List-Id": "Own <own.x.test>"})
    common = {"List-Id": "Weekly <weekly.x.test>", "Feedback-ID": "w47:weekly"}
    sent = replace(batch(recipient(1, "ann@example.com"), own), headers=common)
    OutboxSender(tmp_path, clock=lambda: NOW).send(sent)

    got = {
        m["To"].addresses[0].addr_spec: m
        for m in (
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in tmp_path.iterdir()
        )
    }
    assert got["ann@example.com"]["List-Id"] == "Weekly <weekly.x.test>"
    assert got["bob@example.com"]["List-Id"] == "Own <own.x.test>"
    assert [m["Feedback-ID"] for m in got.values()] == ["w47:weekly"] * 2
    assert got["bob@example.com"]["List-Unsubscribe"] == "<https://x.test/u/2>"
