from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.tokens import TokenError, sign, verify

SECRET = "s3cret-for-tests"
NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_round_trip_keeps_the_subject_and_its_type() -> None:
    for subject in (42, "ann@example.com"):
        token = sign("unsubscribe", subject, secret=SECRET, now=NOW, ttl=DAY)
        assert verify(token, "unsubscribe", secret=SECRET, now=NOW) == subject
        assert type(verify(token, "unsubscribe", secret=SECRET, now=NOW)) is type(subject)


@given(
    purpose=st.sampled_from(["unsubscribe", "preferences", "confirm"]),
    subject=st.one_of(st.integers(-(2**63), 2**63), st.text(max_size=40)),
)
def test_tokens_are_url_safe_and_verify(purpose: str, subject: int | str) -> None:
    token = sign(purpose, subject, secret=SECRET, now=NOW, ttl=None)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert verify(token, purpose, secret=SECRET, now=NOW + 1000 * DAY) == subject


def test_expired_at_the_ttl_not_before() -> None:
    token = sign("confirm", 7, secret=SECRET, now=NOW, ttl=DAY)
    assert verify(token, "confirm", secret=SECRET, now=NOW + DAY - timedelta(seconds=1)) == 7
    with pytest.raises(TokenError) as err:
        verify(token, "confirm", secret=SECRET, now=NOW + DAY)
    assert err.value.reason == "expired"


def test_no_ttl_never_expires() -> None:
    token = sign("unsubscribe", 7, secret=SECRET, now=NOW, ttl=None)
    assert verify(token, "unsubscribe", secret=SECRET, now=NOW + 36500 * DAY) == 7


def test_wrong_purpose() -> None:
    token = sign("preferences", 7, secret=SECRET, now=NOW, ttl=None)
    with pytest.raises(TokenError) as err:
        verify(token, "unsubscribe", secret=SECRET, now=NOW)
    assert err.value.reason == "wrong purpose"


def _forge(token: str, **changes: object) -> str:
    payload, _, mac = token.partition(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + mac


@pytest.mark.parametrize(
    "change",
    [
        {"s": 8},  # someone else's id
        {"p": "unsubscribe"},  # a preferences token made into an unsubscribe one
        {"e": None},  # expiry removed
    ],
)
def test_a_changed_payload_is_tampered(change: dict[str, object]) -> None:
    token = sign("preferences", 7, secret=SECRET, now=NOW, ttl=DAY)
    forged = _forge(token, **change)
    assert forged != token
    with pytest.raises(TokenError) as err:
        verify(forged, str(change.get("p", "preferences")), secret=SECRET, now=NOW)
    assert err.value.reason == "tampered"


def test_every_single_character_change_is_tampered() -> None:
    token = sign("unsubscribe", 12345, secret=SECRET, now=NOW, ttl=None)
    for i, char in enumerate(token):
        for other in "Aa0_-.":
            if other == char:
                continue
            forged = token[:i] + other + token[i + 1 :]
            with pytest.raises(TokenError):
                verify(forged, "unsubscribe", secret=SECRET, now=NOW)


@pytest.mark.parametrize("junk", ["", ".", "abc", "abc.", ".abc", "é.é", "a.b.c", "%%%.%%%"])
def test_malformed_tokens_are_tampered(junk: str) -> None:
    with pytest.raises(TokenError) as err:
        verify(junk, "unsubscribe", secret=SECRET, now=NOW)
    assert err.value.reason == "tampered"


def test_another_secret_does_not_verify() -> None:
    token = sign("unsubscribe", 7, secret=SECRET, now=NOW, ttl=None)
    with pytest.raises(TokenError) as err:
        verify(token, "unsubscribe", secret=SECRET + "x", now=NOW)
    assert err.value.reason == "tampered"


def test_empty_secret_is_an_error_both_ways() -> None:
    with pytest.raises(ValueError, match="SYNDICATE_SECRET_KEY"):
        sign("unsubscribe", 7, secret="", now=NOW, ttl=None)
    token = sign("unsubscribe", 7, secret=SECRET, now=NOW, ttl=None)
    with pytest.raises(ValueError, match="SYNDICATE_SECRET_KEY"):
        verify(token, "unsubscribe", secret="", now=NOW)


def test_naive_now_and_bad_ttl_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        sign("confirm", 1, secret=SECRET, now=datetime(2026, 1, 1), ttl=DAY)
    with pytest.raises(ValueError, match="ttl"):
        sign("confirm", 1, secret=SECRET, now=NOW, ttl=timedelta(0))


@pytest.mark.parametrize("secret", ["k", "x" * 64, "y" * 100, "ü" * 40])
def test_the_fast_signer_is_standard_hmac_sha256(secret: str) -> None:
    import hashlib
    import hmac

    from syndicate.tokens import _VERSION, Signer, _b64encode

    token = Signer("unsubscribe", secret=secret, ttl=None).sign(42, datetime.now(UTC))
    payload, mac = token.split(".")
    expected = hmac.new(secret.encode(), _VERSION + payload.encode(), hashlib.sha256).digest()
    assert mac == _b64encode(expected)


@pytest.mark.parametrize("subject", ["t0001", 'ünï"code\\', "x" * 100, 17])
@pytest.mark.parametrize("ttl", [None, timedelta(days=3)])
def test_the_payload_is_the_compact_json_of_purpose_subject_and_expiry(
    subject: int | str, ttl: timedelta | None
) -> None:
    now = datetime(2026, 11, 23, 8, tzinfo=UTC)
    token = sign("unsubscribe", subject, secret="k" * 40, now=now, ttl=ttl)
    payload = token.split(".")[0]
    expires = None if ttl is None else int((now + ttl).timestamp())
    data = {"p": "unsubscribe", "s": subject, "e": expires}
    assert "=" not in token and "+" not in token and "/" not in token
    assert base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)) == json.dumps(
        data, separators=(",", ":")
    ).encode("ascii")
