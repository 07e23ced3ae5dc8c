"""POST /webhooks/sendgrid through the app (Starlette's TestClient): signed calls are
recorded once and acted on; forged, tampered, stale and replayed ones change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.sendgrid_standin import Fault, SendGridStandIn
from tests.web_helpers import SECRET, UNSENT_KEY, UNSENT_WEEK, Site, add_reader, open_site
from tests.webhook_signing import Signer, body_of, event

from syndicate.config import WebhookSettings
from syndicate.delivery.sendgrid import SendGridSender
from syndicate.models import DeliveryState, SubscriberStatus
from syndicate.pipeline.send import send_edition
from syndicate.web.webhooks import MAX_BODY_BYTES, PATH, SIGNATURE_HEADER, TIMESTAMP_HEADER

API_KEY = "SG.webhook-test"


class Hook:
    """The site with the webhook on, its key pair and a client."""

    def __init__(self, site: Site, signer: Signer, client: TestClient) -> None:
        self.site, self.signer, self.client = site, signer, client

    def post(self, events: list[dict[str, Any]]) -> Any:
        return self.post_body(body_of(events))

    def post_body(self, body: bytes, signed_body: bytes | None = None) -> Any:
        """``body``, signed now (as ``signed_body`` when given: a tampered call)."""
        headers = self.signer.headers(
            body if signed_body is None else signed_body, self.site.clock()
        )
        return self.client.post(PATH, content=body, headers=headers)

    def event(self, kind: str, email: str, event_id: str, **fields: Any) -> dict[str, Any]:
        return event(kind, email, event_id, self.site.clock(), **fields)

    def status(self, email: str) -> SubscriberStatus:
        found = self.site.store.find_subscriber(email)
        assert found is not None
        return found.status

    def recorded(self) -> list[str]:
        return [e.provider_event_id for e, _, _ in self.site.store.webhook_events()]


def with_key(site: Site, public_key: str, max_age: str = "10m") -> Site:
    hooks = WebhookSettings.model_validate({"sendgrid_public_key": public_key, "max_age": max_age})
    site.settings = site.settings.model_copy(update={"webhooks": hooks})
    return site


@pytest.fixture
def hook(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hook]:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    signer = Signer.generate()
    for site in open_site(tmp_path, database_url):
        with TestClient(with_key(site, signer.public_key).app()) as client:
            yield Hook(site, signer, client)


def test_signed_events_are_recorded_and_acted_on(hook: Hook) -> None:
    for email in ("ann@example.org", "bob@example.org", "cy@example.org", "dee@example.org"):
        add_reader(hook.site.store, email)
    answer = hook.post(
        [
            hook.event("bounce", "Ann@Example.org", "e1", type="bounce", reason="550 no such user"),
            hook.event("spamreport", "bob@example.org", "e2"),
            hook.event("bounce", "cy@example.org", "e3", type="blocked"),
            hook.event("group_unsubscribe", "dee@example.org", "e4", asm_group_id=1),
            hook.event("open", "nobody@example.org", "e5"),
        ]
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "received": 5, "new": 5, "duplicates": 0, "status_changes": 3, "settled": 0,
    }  # fmt: skip
    assert hook.status("ann@example.org") is SubscriberStatus.BOUNCED
    assert hook.status("bob@example.org") is SubscriberStatus.COMPLAINED
    assert hook.status("cy@example.org") is SubscriberStatus.ACTIVE
    assert hook.status("dee@example.org") is SubscriberStatus.UNSUBSCRIBED
    rows = {e.provider_event_id: (e, action) for e, action, _ in hook.site.store.webhook_events()}
    assert {k: a for k, (_, a) in rows.items()} == {
        "e1": "bounced", "e2": "complained", "e3": "none", "e4": "unsubscribed", "e5": "none",
    }  # fmt: skip
    first, _ = rows["e1"]
    assert first.event == "bounce" and first.email == "Ann@Example.org"
    assert '"reason":"550 no such user"' in first.raw


def forged(hook: Hook, body: bytes) -> dict[str, dict[str, str]]:
    """Requests that must be refused, each as its headers (for ``body``)."""
    now = hook.site.clock()
    good = hook.signer.headers(body, now)
    other_key = Signer.generate().headers(body, now)
    tampered_for = hook.signer.headers(body.replace(b"ann@", b"bob@"), now)
    later = str(int(now.timestamp()) + 1)
    return {
        "wrong key": other_key,
        "signature of another body": tampered_for,
        "timestamp changed after signing": good | {TIMESTAMP_HEADER: later},
        "no signature": {k: v for k, v in good.items() if k != SIGNATURE_HEADER},
        "no timestamp": {k: v for k, v in good.items() if k != TIMESTAMP_HEADER},
        "empty signature": good | {SIGNATURE_HEADER: ""},
        "signature not base64": good | {SIGNATURE_HEADER: "%%%"},
        "signature cut short": good | {SIGNATURE_HEADER: good[SIGNATURE_HEADER][:40]},
    }


def test_forged_and_tampered_calls_are_refused_and_change_nothing(hook: Hook) -> None:
    add_reader(hook.site.store, "ann@example.org")
    body = body_of([hook.event("bounce", "ann@example.org", "e1")])
    for name, headers in forged(hook, body).items():
        answer = hook.client.post(PATH, content=body, headers=headers)
        assert answer.status_code == 401, name
        assert "error" in answer.json(), name
    tampered = body.replace(b'"e1"', b'"e2"')
    assert hook.post_body(tampered, signed_body=body).status_code == 401
    assert hook.recorded() == []
    assert hook.status("ann@example.org") is SubscriberStatus.ACTIVE
    # The same body, properly signed, goes through: the refusals were about the signatures.
    assert hook.post_body(body).status_code == 200
    assert hook.status("ann@example.org") is SubscriberStatus.BOUNCED


def test_a_replayed_call_is_recorded_and_acted_on_once(hook: Hook) -> None:
    sid = add_reader(hook.site.store, "ann@example.org")
    events = [hook.event("bounce", "ann@example.org", "e1"), hook.event("open", "x@y.org", "e2")]
    body = body_of(events)
    headers = hook.signer.headers(body, hook.site.clock())
    first = hook.client.post(PATH, content=body, headers=headers)
    assert first.json()["new"] == 2
    # The operator takes the address back; the replay (same signed request) must not undo it.
    hook.site.store.set_status(sid, SubscriberStatus.ACTIVE, hook.site.clock())
    hook.site.clock.advance(minutes=5)
    again = hook.client.post(PATH, content=body, headers=headers)
    assert again.status_code == 200
    assert again.json() == {
        "received": 2, "new": 0, "duplicates": 2, "status_changes": 0, "settled": 0,
    }  # fmt: skip
    # SendGrid's retry of one event inside a new batch, signed anew: still once.
    retry = hook.post([events[0], hook.event("delivered", "ann@example.org", "e3")])
    assert retry.json()["new"] == 1
    assert sorted(hook.recorded()) == ["e1", "e2", "e3"]
    assert hook.status("ann@example.org") is SubscriberStatus.ACTIVE


def test_stale_and_future_timestamps_are_refused(hook: Hook) -> None:
    add_reader(hook.site.store, "ann@example.org")
    body = body_of([hook.event("bounce", "ann@example.org", "e1")])
    now = hook.site.clock()
    for at, expected in [
        (now - timedelta(minutes=10, seconds=1), 401),
        (now + timedelta(minutes=1, seconds=1), 401),
        (now - timedelta(days=365), 401),
    ]:
        answer = hook.client.post(PATH, content=body, headers=hook.signer.headers(body, at))
        assert answer.status_code == expected, at
    assert hook.recorded() == []
    # A request signed ten minutes ago is still fresh; one replayed later is not.
    signed = hook.signer.headers(body, now - timedelta(minutes=9))
    assert hook.client.post(PATH, content=body, headers=signed).status_code == 200
    hook.site.clock.advance(minutes=2)
    assert hook.client.post(PATH, content=body, headers=signed).status_code == 401
    assert hook.recorded() == ["e1"]


def test_a_body_must_be_small_and_an_array_of_events(hook: Hook) -> None:
    now = hook.site.clock()
    for body, expected in [
        (b'{"event":"bounce"}', 400),
        (b"[{'event':'bounce'}]", 400),
        (b"[1, 2]", 400),
        (b"", 400),
        (b"[]", 200),
    ]:
        answer = hook.client.post(PATH, content=body, headers=hook.signer.headers(body, now))
        assert answer.status_code == expected, body
    huge = b"[" + b" " * MAX_BODY_BYTES + b"]"
    answer = hook.client.post(PATH, content=huge, headers=hook.signer.headers(huge, now))
    assert answer.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap holds while reading
        yield b"["
        for _ in range(MAX_BODY_BYTES // 65536 + 1):
            yield b" " * 65536
        yield b"]"

    answer = hook.client.post(PATH, content=chunks(), headers=hook.signer.headers(huge, now))
    assert answer.status_code == 413
    assert hook.recorded() == []


def test_without_a_key_the_webhook_is_off(tmp_path: Path, database_url: str) -> None:
    for site in open_site(tmp_path, database_url):
        add_reader(site.store, "ann@example.org")
        body = body_of([event("bounce", "ann@example.org", "e1", site.clock())])
        headers = Signer.generate().headers(body, site.clock())
        with TestClient(site.app()) as client:
            answer = client.post(PATH, content=body, headers=headers)
        assert answer.status_code == 404
        assert site.store.webhook_events() == []


def test_a_bounce_keeps_the_subscriber_out_of_the_next_send(hook: Hook) -> None:
    store, clock = hook.site.store, hook.site.clock
    add_reader(store, "ann@example.org")
    add_reader(store, "bob@example.org")
    assert hook.post([hook.event("bounce", "bob@example.org", "e1")]).status_code == 200
    sender = hook.site.sender()
    report = send_edition(hook.site.settings, store, sender, UNSENT_WEEK, clock=clock)
    assert report.counts["sent"] == 1
    assert [m["To"] for m in hook.site.mails()] == ["Ann Reader <ann@example.org>"]
    assert {d.email for d in store.deliveries(UNSENT_KEY)} == {"ann@example.org"}


def test_a_bounce_after_the_freeze_skips_the_subscriber(hook: Hook) -> None:
    store, clock = hook.site.store, hook.site.clock
    for email in ("ann@example.org", "bob@example.org"):
        add_reader(store, email)
    with SendGridStandIn(API_KEY) as standin:
        standin.inject(Fault.status(401))  # the send freezes its recipients, then pauses
        sender = SendGridSender(API_KEY, base_url=standin.base_url, timeout=2, max_retries=0)
        paused = send_edition(hook.site.settings, store, sender, UNSENT_WEEK, clock=clock)
        assert paused.paused and paused.counts["pending"] == 2
        assert hook.post([hook.event("bounce", "bob@example.org", "e1")]).status_code == 200
        resumed = send_edition(hook.site.settings, store, sender, UNSENT_WEEK, clock=clock)
        assert dict(standin.copies) == {"ann@example.org": 1}
    assert resumed.counts["sent"] == 1 and resumed.counts["skipped"] == 1
    (skipped,) = store.deliveries(UNSENT_KEY, DeliveryState.SKIPPED)
    assert skipped.email == "bob@example.org" and "bounced" in skipped.error


def test_delivered_events_settle_uncertain_rows(hook: Hook) -> None:
    store, clock = hook.site.store, hook.site.clock
    readers = [f"reader{i}@example.org" for i in range(4)]
    for email in readers:
        add_reader(store, email)
    with SendGridStandIn(API_KEY) as standin:
        standin.inject(Fault.accept_then_hang(max_seconds=5))
        sender = SendGridSender(API_KEY, base_url=standin.base_url, timeout=0.5, max_retries=0)
        report = send_edition(hook.site.settings, store, sender, UNSENT_WEEK, clock=clock)
        accepted = {m.email: m.custom_args for m in standin.messages}
    assert report.counts["uncertain"] == 4 and set(accepted) == set(readers)
    first, second, third, _ = readers
    # What SendGrid reports about the accepted messages, with the custom_args it was given.
    events = [
        hook.event("delivered", first, "d1", **accepted[first]),
        hook.event("processed", second, "p2", **accepted[second]),
        hook.event("processed", third, "p3", week=UNSENT_WEEK),  # no delivery_id: by address
        hook.event("delivered", third, "d3", week="2026-W01"),  # another week: no row
    ]
    answer = hook.post(events)
    assert answer.json()["settled"] == 3
    states = {d.email: d.state for d in store.deliveries(UNSENT_KEY)}
    assert states == {
        first: DeliveryState.SENT,
        second: DeliveryState.SENT,
        third: DeliveryState.SENT,
        readers[3]: DeliveryState.UNCERTAIN,
    }
    # A later event for a settled row changes nothing; only the unsettled row is left to
    # the operator's decision to resend.
    later = hook.post([hook.event("delivered", first, "d1b", **accepted[first])])
    assert later.json()["settled"] == 0
    assert store.reset_uncertain(UNSENT_KEY, clock()) == 1


def test_the_public_key_setting_is_checked_when_loaded() -> None:
    with pytest.raises(ValueError, match="sendgrid_public_key"):
        WebhookSettings.model_validate({"sendgrid_public_key": "not a key"})
    with pytest.raises(ValueError, match="max_age"):
        WebhookSettings.model_validate({"max_age": "0s"})
    assert WebhookSettings().sendgrid_key is None
