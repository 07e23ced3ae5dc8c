"""Signed, URL-safe tokens for unsubscribe, preference and confirmation links.

A token is ``<payload>.<mac>``, both base64url without padding: the payload is compact JSON
``{"p": purpose, "s": subject id, "e": expiry epoch seconds or null}`` and the MAC is
HMAC-SHA256 over a version tag and the payload. The purpose is inside the signed payload,
so a token made for one purpose never verifies for another.

The MAC key is the key's text as UTF-8 (the settings check that it is random enough:
``syndicate.config.values.key_problem``). ``verify`` also accepts tokens signed with
previous keys (key rotation).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from syndicate.errors import InputError

_VERSION = b"syndicate-token-v1\x00"

TAMPERED = "tampered"
EXPIRED = "expired"
WRONG_PURPOSE = "wrong purpose"


_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)
_quote = json.encoder.encode_basestring_ascii  # what _ENCODER.encode does with a str


class TokenError(InputError):
    """A token that must not be honoured; ``reason`` is "tampered", "expired" or
    "wrong purpose"."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid token: {reason}")
        self.reason = reason


def sign(
    purpose: str,
    subject_id: int | str,
    *,
    secret: str,
    now: datetime,
    ttl: timedelta | None,
) -> str:
    """A token binding ``subject_id`` to ``purpose``, valid for ``ttl`` from ``now``
    (forever when ``ttl`` is None)."""
    return Signer(purpose, secret=secret, ttl=ttl).sign(subject_id, now)


class Signer:
    """Signs many tokens of one purpose with one key (a send signs two per recipient, so
    the key schedule and the purpose's encoding are done once, not a million times)."""

    def __init__(self, purpose: str, *, secret: str, ttl: timedelta | None) -> None:
        if not purpose:
            raise ValueError("token purpose is empty")
        if ttl is not None and ttl <= timedelta(0):
            raise ValueError(f"token ttl must be positive, got {ttl}")
        self._inner, self._outer = _hmac_pads(_key(secret))
        self._inner.update(_VERSION)
        self._purpose = purpose
        self._head = '{"p":' + _ENCODER.encode(purpose) + ',"s":'
        self._ttl = ttl

    def sign(self, subject_id: int | str, now: datetime) -> str:
        if isinstance(subject_id, str):
            subject = _quote(subject_id)
        elif isinstance(subject_id, int) and not isinstance(subject_id, bool):
            subject = str(subject_id)
        else:
            raise TypeError(f"token subject must be int or str, not {type(subject_id).__name__}")
        expires = "null"
        if self._ttl is not None:
            expires = str(int((_aware(now) + self._ttl).timestamp()))
        # The same bytes as _ENCODER.encode({"p": ..., "s": ..., "e": ...}).
        payload = _b64(f'{self._head}{subject},"e":{expires}}}'.encode())
        inner = self._inner.copy()
        inner.update(payload)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return (payload + b"." + _b64(outer.digest())).decode("ascii")


def _hmac_pads(key: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256 (RFC 2104) with the key's inner and outer pads hashed once: copying two
    hash states per token costs half of ``hmac.HMAC.copy()``. ``verify`` checks with the
    standard library's ``hmac``, so a token this makes is checked by an independent code path."""
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(key.translate(_IPAD))
    outer = hashlib.sha256(key.translate(_OPAD))
    return inner, outer


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def verify(
    token: str,
    purpose: str,
    *,
    secret: str,
    now: datetime,
    previous: Sequence[str] = (),
) -> str | int:
    """The subject id the token was signed for; raises TokenError when it is not valid.

    A token signed with one of the ``previous`` keys is valid too (key rotation)."""
    keys = [_key(secret), *(_key(old) for old in previous if old)]
    payload, sep, mac_text = token.partition(".")
    if not sep or not payload or not token.isascii():
        raise TokenError(TAMPERED)
    given = mac_text.encode("ascii")
    matched = False
    for key in keys:  # every key is tried: the time taken does not say which one matched
        expected = _b64(_mac(key, payload))
        matched = hmac.compare_digest(expected, given) | matched
    if not matched:
        raise TokenError(TAMPERED)
    data = _decode_payload(payload)
    if data["p"] != purpose:
        raise TokenError(WRONG_PURPOSE)
    expires = data["e"]
    if expires is not None and _aware(now).timestamp() >= expires:
        raise TokenError(EXPIRED)
    subject: str | int = data["s"]
    return subject


def _decode_payload(payload: str) -> dict[str, Any]:
    # The MAC matched, so this is our own output; still, check rather than trust.
    try:
        data = json.loads(_b64decode(payload))
    except (ValueError, UnicodeDecodeError):
        raise TokenError(TAMPERED) from None
    if not (
        isinstance(data, dict)
        and isinstance(data.get("p"), str)
        and isinstance(data.get("s"), int | str)
        and (data.get("e") is None or isinstance(data.get("e"), int))
    ):
        raise TokenError(TAMPERED)
    return data


def _key(secret: str) -> bytes:
    if not secret:
        raise ValueError("the secret key is empty: set SYNDICATE_SECRET_KEY to sign tokens")
    return secret.encode("utf-8")


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.digest(key, _VERSION + payload.encode("ascii"), "sha256")


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("tokens need a timezone-aware 'now'")
    return now


def _b64encode(data: bytes) -> str:
    return _b64(data).decode("ascii")


def _b64(data: bytes) -> bytes:
    # base64.urlsafe_b64encode without its Python layers (a send makes two tokens a reader).
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64decode(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc
