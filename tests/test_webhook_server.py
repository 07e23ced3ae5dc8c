"""POST /webhooks/sendgrid under a real uvicorn on 127.0.0.1, spoken to with httpx: signed
and forged calls, and the same signed call posted several times at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.web_helpers import SECRET, Site, add_reader, free_socket, open_site, serve
from tests.webhook_signing import Signer, body_of, event

from syndicate.config import WebhookSettings
from syndicate.models import SubscriberStatus
from syndicate.web.webhooks import PATH, SIGNATURE_HEADER


@pytest.fixture
def served(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Site, Signer, str]]:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    signer = Signer.generate()
    hooks = WebhookSettings(sendgrid_public_key=signer.public_key)
    sock = free_socket()
    for site in open_site(tmp_path, database_url):
        site.settings = site.settings.model_copy(update={"webhooks": hooks})
        with serve(site.app(), sock) as base:
            yield site, signer, base


def status(site: Site, email: str) -> SubscriberStatus:
    found = site.store.find_subscriber(email)
    assert found is not None
    return found.status


def test_signed_and_forged_calls_over_the_wire(served: tuple[Site, Signer, str]) -> None:
    site, signer, base = served
    add_reader(site.store, "ann@example.org")
    body = body_of([event("spamreport", "ann@example.org", "e1", site.clock())])
    signed = signer.headers(body, site.clock())
    forged = Signer.generate().headers(body, site.clock())
    with httpx.Client(base_url=base, timeout=10) as http:
        refused = http.post(PATH, content=body, headers=forged)
        assert refused.status_code == 401
        unsigned = {k: v for k, v in signed.items() if k != SIGNATURE_HEADER}
        assert http.post(PATH, content=body, headers=unsigned).status_code == 401
        assert site.store.webhook_events() == []
        assert status(site, "ann@example.org") is SubscriberStatus.ACTIVE
        answer = http.post(PATH, content=body, headers=signed)
    assert answer.status_code == 200 and answer.json()["new"] == 1
    assert answer.headers["content-type"] == "application/json"
    assert status(site, "ann@example.org") is SubscriberStatus.COMPLAINED


def test_concurrent_copies_of_a_call_are_recorded_once(
    served: tuple[Site, Signer, str],
) -> None:
    site, signer, base = served
    emails = [f"reader{i}@example.org" for i in range(5)]
    for email in emails:
        add_reader(site.store, email)
    events = [event("bounce", email, f"b{i}", site.clock()) for i, email in enumerate(emails)]
    body = body_of(events)
    headers = signer.headers(body, site.clock())
    answers: list[dict[str, int]] = []
    start = threading.Barrier(6)

    def post() -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            start.wait()
            reply = http.post(PATH, content=body, headers=headers)
            assert reply.status_code == 200, reply.text
            answers.append(reply.json())

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 6
    assert sum(a["new"] for a in answers) == len(events)
    assert sum(a["status_changes"] for a in answers) == len(events)
    assert sorted(e.provider_event_id for e, _, _ in site.store.webhook_events()) == [
        f"b{i}" for i in range(5)
    ]
    assert {status(site, email) for email in emails} == {SubscriberStatus.BOUNCED}
