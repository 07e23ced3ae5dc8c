"""The web front under a real uvicorn on 127.0.0.1, spoken to with httpx: a conditional GET,
double opt-in from the mail's link, and an RFC 8058 one-click unsubscribe."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.web_helpers import (
    SECRET,
    UNSENT_WEEK,
    Site,
    add_reader,
    free_socket,
    links,
    open_site,
    read_mail,
    serve,
    text_part,
    wait_for_mails,
)

from syndicate.delivery.outbox import OutboxSender
from syndicate.models import SubscriberStatus
from syndicate.pipeline.send import send_edition


@pytest.fixture
def served(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Site, str]]:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    sock = free_socket()
    host, port = sock.getsockname()
    for site in open_site(tmp_path, database_url, web_url=f"http://{host}:{port}/"):
        with serve(site.app(), sock) as base:
            yield site, base


def test_conditional_get_over_the_wire(served: tuple[Site, str]) -> None:
    _, base = served
    with httpx.Client(base_url=base, timeout=10) as http:
        first = http.get("/rss.xml")
        assert first.status_code == 200
        assert first.headers["content-type"] == "application/rss+xml; charset=utf-8"
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        by_tag = http.get("/rss.xml", headers={"If-None-Match": etag})
        assert by_tag.status_code == 304 and by_tag.content == b""
        by_date = http.get("/rss.xml", headers={"If-Modified-Since": modified})
        assert by_date.status_code == 304
        assert http.get("/rss.xml", headers={"If-None-Match": '"x"'}).status_code == 200


def test_one_click_unsubscribe_over_the_wire_and_no_token_in_the_log(
    served: tuple[Site, str], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    site, base = served
    sid = add_reader(site.store, "ann@example.org")
    outbox = site.root / "digests"
    send_edition(
        site.settings, site.store, OutboxSender(outbox, clock=site.clock), UNSENT_WEEK,
        clock=site.clock,
    )  # fmt: skip
    (eml,) = outbox.glob("*.eml")
    found = re.search(r"<(http[^>]+)>", str(read_mail(eml)["List-Unsubscribe"]))
    assert found is not None and found[1].startswith(f"{base}unsubscribe?token=")
    url = found[1]
    token = url.split("token=")[1]

    # As if an operator left uvicorn's access log on: the app's filter must blank the tokens.
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(logging.getLogger("uvicorn.access"), "handlers", [caplog.handler])
    with httpx.Client(timeout=10) as http:
        page = http.get(url)
        assert page.status_code == 200 and "Unsubscribe" in page.text
        assert status(site, sid) is SubscriberStatus.ACTIVE
        # What a mailbox provider sends (RFC 8058 §3.2): no cookies, no Origin of ours.
        response = http.post(
            url,
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200 and "You are unsubscribed" in response.text
    assert status(site, sid) is SubscriberStatus.UNSUBSCRIBED
    # The server logs the request after the answer has gone out: wait for that line.
    deadline = time.monotonic() + 60  # a hang guard only
    request_line = "http.request method=POST path=/unsubscribe status=200"
    while not any(request_line in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "no access log line for the POST"
        time.sleep(0.01)
    server_side = [r for r in caplog.records if r.name != "httpx"]  # httpx: this test's client
    assert any("[redacted]" in r.getMessage() for r in server_side)
    leaked = [r.name for r in server_side if token in r.getMessage()]
    assert not leaked, leaked


def test_subscribe_and_confirm_over_the_wire(served: tuple[Site, str]) -> None:
    site, base = served
    with httpx.Client(base_url=base, timeout=10) as http:
        response = http.post(
            "/subscribe",
            data={"email": "cara@example.org", "name": "Cara", "website": ""},
            headers={"Origin": base.rstrip("/")},
        )
        assert response.status_code == 200
        (eml,) = wait_for_mails(site.outbox)
        (confirm,) = links(text_part(read_mail(eml)), "confirm")
        assert confirm.startswith(f"{base}confirm?token=")
        assert http.get(confirm).status_code == 200
        pending = site.store.find_subscriber("cara@example.org")
        assert pending is not None and pending.status is SubscriberStatus.PENDING
        assert http.post(confirm).status_code == 200
    cara = site.store.find_subscriber("cara@example.org")
    assert cara is not None and cara.status is SubscriberStatus.ACTIVE


def status(site: Site, sid: int) -> SubscriberStatus:
    found = site.store.get_subscriber(sid)
    assert found is not None
    return found.status
