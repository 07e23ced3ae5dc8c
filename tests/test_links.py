"""Preview, test copy and send link to the same pages: one function builds every link."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from tests.test_cli_delivery import WEEK, make_site, run

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
