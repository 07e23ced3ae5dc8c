"""Preview, test copy and send link to the same pages: one function builds every link."""

from __future__ import annotations

import os
import re
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from tests.test_cli_delivery import NOW, WEEK, make_site, run

from syndicate import tokens
from syndicate.config import load_settings
from syndicate.models import SubscriberStatus
from syndicate.store import Store

WEB = "https://list.astro.example.net/"
LINK = re.compile(r"https://[^\s\"'<>]+?(?:unsubscribe|preferences)\?token=[\w.=-]+")


def links(eml: Path) -> set[str]:
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return {LINK.sub(lambda m: m[0].split("?token=")[0], m[0]) for m in LINK.finditer(text)}


def test_preview_test_send_and_send_link_to_the_same_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path / "site", monkeypatch)
    monkeypatch.setenv("SYNDICATE_WEB__BASE_URL", WEB)
    assert run(site, "gather")[0] == 0
    run(site, "subscribers", "add", "ann@example.com")
    outbox = site / "var" / "outbox"
    assert run(site, "digest", "preview", "--week", WEEK)[0] == 0
    preview = links(outbox / "digest.eml")
    assert run(site, "digest", "test-send", "me@example.com", "--week", WEEK)[0] == 0
    (test_copy,) = (outbox / "sent").glob("*.eml")
    tested = links(test_copy)
    test_copy.unlink()
    assert run(site, "digest", "send", "--week", WEEK)[0] == 0
    (sent,) = (outbox / "sent").glob("*.eml")
    assert preview == tested == links(sent) == {f"{WEB}unsubscribe", f"{WEB}preferences"}


def _token(eml: Path, page: str) -> str:
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    (url,) = {m[0] for m in LINK.finditer(text) if f"/{page}?token=" in m[0]}
    return url.split("?token=")[1]


def test_the_test_copy_carries_real_signed_links_for_its_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: the test copy's links opened "This link does not work" (a stand-in token).
    Now they name the test address's own subscription: an existing subscriber's, or a new
    pending one (which gets no digest until it confirms)."""
    site = make_site(tmp_path / "site", monkeypatch)
    assert run(site, "gather")[0] == 0
    run(site, "subscribers", "add", "ann@example.com")
    outbox = site / "var" / "outbox" / "sent"
    secret = os.environ["SYNDICATE_SECRET_KEY"]
    settings = load_settings(site / "config" / "syndicate.toml")
    now = datetime.fromisoformat(NOW)
    for address in ("me@example.com", "ann@example.com"):
        assert run(site, "digest", "test-send", address, "--week", WEEK)[0] == 0
        (copy,) = outbox.glob(f"*{address}.eml")
        with Store(settings.database_url) as store:
            subscriber = store.find_subscriber(address)
        assert subscriber is not None
        for page in ("unsubscribe", "preferences"):
            subject = tokens.verify(_token(copy, page), page, secret=secret, now=now)
            assert subject == subscriber.token_id, (address, page)
    with Store(settings.database_url) as store:
        me, ann = store.find_subscriber("me@example.com"), store.find_subscriber("ann@example.com")
    assert me is not None and me.status is SubscriberStatus.PENDING
    assert ann is not None and ann.status is SubscriberStatus.ACTIVE
