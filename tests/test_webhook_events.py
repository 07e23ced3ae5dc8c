"""SendGrid Event Webhook, the parts without HTTP: the signature check (against a signature
SendGrid made), the timestamp window, the event decisions, and recording events once."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta

import pytest
from tests.webhook_signing import Signer

from syndicate.config.values import parse_p256_public_key
from syndicate.delivery.sendgrid_events import PayloadError, parse_payload, sendgrid_event
from syndicate.models import DeliveryState, SubscriberStatus
from syndicate.pipeline.events import decide, to_record
from syndicate.store import EventEffect, Store, WebhookEvent
from syndicate.web.webhooks import CLOCK_SKEW, timestamp_problem, verify_signature

S = SubscriberStatus
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
WEEK = "2026-W48"

# A call SendGrid signed, published in the test suite of SendGrid's Python library
# (sendgrid-python, test/unit/test_eventwebhook.py): key, signature, timestamp and body.
SG_PUBLIC_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62g"
    "w+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
)
SG_SIGNATURE = (
    "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15"
    "TluLtEZtM="
)
SG_TIMESTAMP = "1600112502"
SG_BODY = (
    b'[{"email":"hello@world.com","event":"dropped","reason":"Bounced Address",'
    b'"sg_event_id":"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",'
    b'"sg_message_id":"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",'
    b'"smtp-id":"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>","timestamp":1600112492}]'
    b"\r\n"
)


# --- the signature ------------------------------------------------------------------------


def test_a_signature_sendgrid_made_verifies() -> None:
    key = parse_p256_public_key(SG_PUBLIC_KEY)
    assert verify_signature(key, SG_SIGNATURE, SG_TIMESTAMP, SG_BODY)
    # The CRLF at the end is signed too: the body is checked byte for byte.
    assert not verify_signature(key, SG_SIGNATURE, SG_TIMESTAMP, SG_BODY.rstrip())
    assert not verify_signature(key, SG_SIGNATURE, "1600112503", SG_BODY)
    tampered = SG_BODY.replace(b"Bounced Address", b"Bounced address")
    assert not verify_signature(key, SG_SIGNATURE, SG_TIMESTAMP, tampered)
    other = parse_p256_public_key(Signer.generate().public_key)
    assert not verify_signature(other, SG_SIGNATURE, SG_TIMESTAMP, SG_BODY)
    (item,) = parse_payload(SG_BODY)
    assert decide(sendgrid_event(item)).status is S.BOUNCED


def test_our_test_signer_signs_as_sendgrid_does() -> None:
    signer = Signer.generate()
    key = parse_p256_public_key(signer.public_key)
    body = b'[{"event":"delivered"}]\r\n'
    assert verify_signature(key, signer.sign("1764063000", body), "1764063000", body)
    # ECDSA signatures are randomized: a second one differs and verifies as well.
    assert signer.sign("1", body) != signer.sign("1", body)


@pytest.mark.parametrize(
    ("signature", "timestamp"),
    [
        ("", SG_TIMESTAMP),
        ("not base64!", SG_TIMESTAMP),
        ("MEUC", SG_TIMESTAMP),  # base64, not a DER signature
        (SG_SIGNATURE[:-4], SG_TIMESTAMP),  # cut short
        (SG_SIGNATURE + "A" * 300, SG_TIMESTAMP),
        (base64.b64encode(b"\x00" * 72).decode(), SG_TIMESTAMP),
        (SG_SIGNATURE, "１600112502"),  # non-ASCII digits
    ],
)
def test_a_malformed_signature_is_false_not_an_error(signature: str, timestamp: str) -> None:
    key = parse_p256_public_key(SG_PUBLIC_KEY)
    assert verify_signature(key, signature, timestamp, SG_BODY) is False


def test_the_public_key_must_be_p256() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    der = p384.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(ValueError, match="P-256"):
        parse_p256_public_key(base64.b64encode(der).decode())
    with pytest.raises(ValueError, match="base64 DER"):
        parse_p256_public_key("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O")
    pem = p384.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(ValueError, match="P-256"):
        parse_p256_public_key(pem)
    # Wrapped over lines, as a copy from a web page may be.
    wrapped = SG_PUBLIC_KEY[:40] + "\n  " + SG_PUBLIC_KEY[40:]
    assert parse_p256_public_key(wrapped).public_numbers() == (
        parse_p256_public_key(SG_PUBLIC_KEY).public_numbers()
    )


def test_timestamps_outside_the_window_are_refused() -> None:
    age = timedelta(minutes=10)

    def at(delta: timedelta) -> str:
        return str(int((NOW + delta).timestamp()))

    assert timestamp_problem(at(timedelta(0)), NOW, age) is None
    assert timestamp_problem(at(-age), NOW, age) is None
    assert timestamp_problem(at(CLOCK_SKEW), NOW, age) is None
    assert "too old" in str(timestamp_problem(at(-age - timedelta(seconds=1)), NOW, age))
    future = timestamp_problem(at(CLOCK_SKEW + timedelta(seconds=1)), NOW, age)
    assert "future" in str(future)
    for bad in ("", "-5", "1e9", "17640630.5", "9" * 13, " 1764063000"):
        assert "not a number" in str(timestamp_problem(bad, NOW, age)), bad


# --- parsing and deciding -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "status", "settle"),
    [
        ({"event": "bounce"}, S.BOUNCED, True),
        ({"event": "bounce", "type": "bounce"}, S.BOUNCED, True),
        ({"event": "bounce", "type": "blocked"}, None, True),
        ({"event": "dropped", "reason": "Bounced Address"}, S.BOUNCED, True),
        ({"event": "dropped", "reason": "Invalid"}, S.BOUNCED, True),
        ({"event": "dropped", "reason": "Spam Reporting Address"}, S.COMPLAINED, True),
        ({"event": "dropped", "reason": "Unsubscribed Address"}, S.UNSUBSCRIBED, True),
        ({"event": "dropped", "reason": "Spam Content"}, None, True),
        ({"event": "spamreport"}, S.COMPLAINED, True),
        ({"event": "unsubscribe"}, S.UNSUBSCRIBED, True),
        ({"event": "group_unsubscribe"}, S.UNSUBSCRIBED, True),
        ({"event": "delivered"}, None, True),
        ({"event": "processed"}, None, True),
        ({"event": "open"}, None, True),
        ({"event": "something_new"}, None, False),
        ({"event": 7}, None, False),
        ({}, None, False),
    ],
)
def test_what_each_event_does(item: dict[str, object], status: S | None, settle: bool) -> None:
    effect = decide(sendgrid_event(item))
    assert (effect.status, effect.settle) == (status, settle)


def test_a_status_only_moves_towards_the_stronger() -> None:
    assert decide(sendgrid_event({"event": "bounce"})).replaces == {
        S.ACTIVE,
        S.PENDING,
        S.UNSUBSCRIBED,
    }
    assert decide(sendgrid_event({"event": "spamreport"})).replaces == {
        S.ACTIVE, S.PENDING, S.UNSUBSCRIBED, S.BOUNCED,
    }  # fmt: skip
    assert decide(sendgrid_event({"event": "unsubscribe"})).replaces == {S.ACTIVE, S.PENDING}
    assert decide(sendgrid_event({"event": "delivered"})).replaces == frozenset()


def test_records_take_custom_args_and_stay_bounded() -> None:
    item = {
        "event": "delivered",
        "email": " Ann@Example.org ",
        "sg_event_id": "abc",
        "timestamp": int(NOW.timestamp()),
        "week": WEEK,
        "delivery_id": "42",
    }
    record = to_record(sendgrid_event(item))
    assert (record.provider_event_id, record.event, record.email) == (
        "abc",
        "delivered",
        "Ann@Example.org",
    )
    # A bare week (what mails sent before cadences carry) is the weekly edition's key.
    assert (record.delivery_id, record.week) == (42, f"weekly:{WEEK}")
    daily = to_record(sendgrid_event({**item, "week": "daily:2026-11-23"}))
    assert daily.week == "daily:2026-11-23"
    assert record.timestamp == NOW
    assert '"delivery_id":"42"' in record.raw
    for value in ("0", "-1", "4x", "99999999999", True, 2**40, None, 3.0):
        assert to_record(sendgrid_event({**item, "delivery_id": value})).delivery_id is None, value
    assert to_record(sendgrid_event({**item, "delivery_id": 7})).delivery_id == 7
    assert to_record(sendgrid_event({**item, "week": "w" * 17})).week == ""
    assert to_record(sendgrid_event({**item, "timestamp": "yesterday"})).timestamp is None
    assert len(to_record(sendgrid_event({**item, "event": "e" * 100})).event) == 32


def test_an_event_without_an_id_is_known_by_its_content() -> None:
    item = {"event": "bounce", "email": "a@example.org", "timestamp": 1}
    first, again = (
        to_record(sendgrid_event(item)),
        to_record(sendgrid_event(dict(reversed(item.items())))),
    )
    assert (
        first.provider_event_id.startswith("sha256:")
        and first.provider_event_id == again.provider_event_id
    )
    assert (
        to_record(sendgrid_event({**item, "timestamp": 2})).provider_event_id
        != first.provider_event_id
    )
    assert to_record(
        sendgrid_event({**item, "sg_event_id": "x" * 256})
    ).provider_event_id.startswith("sha256:")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "not JSON"),
        (b"[{]", "not JSON"),
        (b'{"event":"bounce"}', "array"),
        (b'[{"event":"bounce"}, 3]', "event 1"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_a_body_must_be_an_array_of_objects(body: bytes, problem: str) -> None:
    with pytest.raises(PayloadError, match=problem):
        parse_payload(body)


def test_an_empty_array_is_fine() -> None:
    assert parse_payload(b"[]\r\n") == []


# --- the store ----------------------------------------------------------------------------


def bounce(email: str, event_id: str = "ev-1") -> WebhookEvent:
    return WebhookEvent(event_id, "bounce", email, raw="{}")


def uncertain_rows(store: Store, *emails: str) -> list[int]:
    """A frozen W48 send whose rows were claimed and lost: uncertain."""
    for email in emails:
        store.add_subscriber(email, "", (), S.ACTIVE, NOW)
    store.create_edition(WEEK, NOW, "subject", [])
    store.freeze_recipients(WEEK, NOW, frozenset())
    claimed = store.claim_batch(WEEK, "", 100, NOW)
    store.finish_batch([(d.id, DeliveryState.UNCERTAIN, "lost") for d, _ in claimed], NOW)
    return [d.id for d, _ in claimed]


def test_an_event_is_recorded_and_acted_on_once(store: Store) -> None:
    sid = store.add_subscriber("ann@example.org", "", (), S.ACTIVE, NOW).id
    effect = decide(sendgrid_event({"event": "bounce"}))
    first = store.record_event(bounce("ANN@example.org"), effect, NOW)
    assert first.new and first.status is S.BOUNCED and first.action == "bounced"
    assert store.get_subscriber(sid).status is S.BOUNCED  # type: ignore[union-attr]
    # The operator takes the address back; the same event again must not bounce it again.
    store.set_status(sid, S.ACTIVE, NOW)
    again = store.record_event(bounce("ann@example.org"), effect, NOW + timedelta(hours=1))
    assert not again.new and again.status is None
    assert store.get_subscriber(sid).status is S.ACTIVE  # type: ignore[union-attr]
    ((recorded, action, received),) = store.webhook_events()
    assert (recorded.provider_event_id, action, received) == ("ev-1", "bounced", NOW)


def test_a_status_never_moves_to_a_milder_one(store: Store) -> None:
    sid = store.add_subscriber("ann@example.org", "", (), S.COMPLAINED, NOW).id
    outcome = store.record_event(
        bounce("ann@example.org"), decide(sendgrid_event({"event": "bounce"})), NOW
    )
    assert outcome.new and outcome.status is None and outcome.action == "none"
    assert store.get_subscriber(sid).status is S.COMPLAINED  # type: ignore[union-attr]
    assert not store.set_status_by_email("nobody@example.org", S.BOUNCED, NOW)
    assert store.set_status_by_email("Ann@Example.org", S.BOUNCED, NOW)


def test_only_uncertain_rows_are_settled(store: Store) -> None:
    first, second, third = uncertain_rows(store, "a@example.org", "b@example.org", "c@example.org")
    assert store.settle_uncertain(first, WEEK, NOW)
    assert not store.settle_uncertain(first, WEEK, NOW)  # sent now: stays sent
    assert not store.settle_uncertain(second, "2026-W47", NOW)  # another week's id
    settle = EventEffect(settle=True)
    by_email = WebhookEvent("ev-b", "processed", "B@example.org", "{}", week=WEEK)
    assert store.record_event(by_email, settle, NOW).settled
    no_week = WebhookEvent("ev-c", "delivered", "c@example.org", "{}", delivery_id=third)
    assert not store.record_event(no_week, settle, NOW).settled
    states = {d.id: (d.state, d.error) for d in store.deliveries(WEEK)}
    assert states[first][0] is DeliveryState.SENT and "event" in states[first][1]
    assert states[second][0] is DeliveryState.SENT
    assert states[third] == (DeliveryState.UNCERTAIN, "lost")


def test_concurrent_copies_of_an_event_are_recorded_once(store: Store) -> None:
    store.add_subscriber("ann@example.org", "", (), S.ACTIVE, NOW)
    effect = decide(sendgrid_event({"event": "spamreport"}))
    outcomes = []
    start = threading.Barrier(6)

    def post() -> None:
        start.wait()
        event = WebhookEvent("ev-same", "spamreport", "ann@example.org", "{}")
        outcomes.append(store.record_event(event, effect, NOW))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 6
    assert sum(o.new for o in outcomes) == 1
    assert [o.status for o in outcomes if o.new] == [S.COMPLAINED]
    assert len(store.webhook_events()) == 1
