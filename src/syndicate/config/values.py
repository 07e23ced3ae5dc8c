"""Value types of settings: durations, weekly times, time zones, public keys."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    PlainSerializer,
)

from syndicate.errors import InputError

if TYPE_CHECKING:  # cryptography is imported only when a key is set
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

_DURATION_UNITS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_duration(value: object) -> timedelta:
    """``"15m"``, ``"1h30m"``, ``"2d"``, ``"0.5s"``, or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if not isinstance(value, str):
        raise ValueError("expected a duration like '15m', '2h' or '2d'")
    text = value.strip().lower().replace(" ", "")
    if _NUMBER.fullmatch(text):
        return timedelta(seconds=float(text))
    parts = _DURATION_PART.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{value!r} is not a duration like '15m', '1h30m', '2d' or '90s'")
    return timedelta(seconds=sum(float(n) * _DURATION_UNITS[u] for n, u in parts))


def format_duration(value: timedelta) -> str:
    """The shortest text ``parse_duration`` reads back: ``"15m"``, ``"2d"``, ``"1h30m"``."""
    micros = round(value.total_seconds() * 1_000_000)
    if micros == 0:
        return "0s"
    seconds, fraction = divmod(micros, 1_000_000)
    text = ""
    for unit in "dhm":
        count, seconds = divmod(seconds, _DURATION_UNITS[unit])
        text += f"{count}{unit}" if count else ""
    if seconds or fraction:
        text += f"{seconds + fraction / 1_000_000:g}s"
    return text


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]


def within(low: timedelta, high: timedelta | None = None) -> Callable[[Any, timedelta], timedelta]:
    def check(cls: Any, value: timedelta) -> timedelta:
        if value < low or (high is not None and value >= high):
            upper = f" and under {format_duration(high)}" if high is not None else ""
            raise ValueError(f"must be at least {format_duration(low)}{upper}")
        return value

    return check


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKLY = re.compile(r"([a-z]+)\s+(\d{1,2}):(\d{2})")


class WeeklyTime(NamedTuple):
    """A weekly moment on the wall clock: ``weekday`` 0 is Monday."""

    weekday: int
    hour: int
    minute: int

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.hour:02d}:{self.minute:02d}"


def parse_weekly_time(text: str) -> WeeklyTime:
    """``"mon 08:00"`` (or ``"Monday 8:00"``) → WeeklyTime(0, 8, 0); ValueError otherwise."""
    match = _WEEKLY.fullmatch(text.strip().lower())
    day = match[1] if match else ""
    names = WEEKDAYS if len(day) == 3 else _FULL_DAYS
    if match is None or day not in names:
        raise ValueError(f"{text!r}: expected 'DAY HH:MM' like 'mon 08:00' (DAY: mon … sun)")
    hour, minute = int(match[2]), int(match[3])
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r}: {hour:02d}:{minute:02d} is not a time of day")
    return WeeklyTime(names.index(day), hour, minute)


class CadenceTime(NamedTuple):
    """When a cadence's edition goes out, on the wall clock: ``day`` is the weekday (0 is
    Monday) of a weekly schedule, the day of the month (1–28) of a monthly one, 0 for daily."""

    cadence: str
    day: int
    hour: int
    minute: int

    def __str__(self) -> str:
        clock = f"{self.hour:02d}:{self.minute:02d}"
        if self.cadence == "weekly":
            return f"{WEEKDAYS[self.day]} {clock}"
        if self.cadence == "monthly":
            return f"{self.day} {clock}"
        return clock


_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_MONTHLY = re.compile(r"(\d{1,2})\s+(\d{1,2}):(\d{2})")
_SCHEDULE_FORMS = {"daily": "'HH:MM' like '08:00'", "monthly": "'DAY HH:MM' like '1 08:00'"}


def parse_schedule(cadence: str, text: str) -> CadenceTime:
    """A cadence's schedule: daily ``"08:00"``, weekly ``"mon 08:00"``, monthly
    ``"1 08:00"`` (days 1–28, so that every month has it); ValueError otherwise."""
    if cadence == "weekly":
        weekly = parse_weekly_time(text)
        return CadenceTime("weekly", weekly.weekday, weekly.hour, weekly.minute)
    pattern = _CLOCK if cadence == "daily" else _MONTHLY
    match = pattern.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r}: expected {_SCHEDULE_FORMS[cadence]}")
    numbers = [int(group) for group in match.groups()]
    day = numbers.pop(0) if cadence == "monthly" else 0
    hour, minute = numbers
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r}: {hour:02d}:{minute:02d} is not a time of day")
    if cadence == "monthly" and not 1 <= day <= 28:
        raise ValueError(f"{text!r}: the day of the month must be 1 to 28 (every month has it)")
    return CadenceTime(cadence, day, hour, minute)


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone {value!r}") from None
    return value


def parse_p256_public_key(text: str) -> EllipticCurvePublicKey:
    """An ECDSA P-256 public key from base64 DER (how SendGrid shows it) or PEM."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
    from cryptography.hazmat.primitives.serialization import (
        load_der_public_key,
        load_pem_public_key,
    )

    raw = text.strip()
    try:
        if raw.startswith("-----BEGIN"):
            key = load_pem_public_key(raw.encode("ascii"))
        else:
            key = load_der_public_key(base64.b64decode("".join(raw.split()), validate=True))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("not a base64 DER (or PEM) public key") from None
    if not isinstance(key, EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("not an ECDSA P-256 public key") from None
    return key


# --- the token key ------------------------------------------------------------------------

MIN_KEY_BYTES = 32
_MIN_DISTINCT_BYTES = 16  # 32 random bytes have ~30 distinct values; "aaaa…" has one
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


def new_key() -> str:
    """A fresh random key: 32 bytes, base64url without padding (43 characters)."""
    return secrets.token_urlsafe(MIN_KEY_BYTES)


def key_problem(secret: str) -> str | None:
    """Why ``secret`` is not a usable key (None when it is): it must be base64url, base64 or
    hex of at least 32 random bytes."""
    decoded = _decode_key(secret.strip())
    if decoded is None:
        return (
            "not base64url, base64 or hex; make a key with `syndicate keygen` "
            f"({MIN_KEY_BYTES} random bytes)"
        )
    if len(decoded) < MIN_KEY_BYTES:
        return (
            f"decodes to {len(decoded)} bytes, at least {MIN_KEY_BYTES} are needed; "
            "make a key with `syndicate keygen`"
        )
    if len(set(decoded)) < _MIN_DISTINCT_BYTES:
        return "is not random (too few distinct bytes); make a key with `syndicate keygen`"
    return None


def _decode_key(text: str) -> bytes | None:
    if _HEX.fullmatch(text):
        return bytes.fromhex(text)
    if not _BASE64.fullmatch(text):
        return None
    try:
        padded = text.rstrip("=")
        return base64.urlsafe_b64decode(
            (padded + "=" * (-len(padded) % 4)).replace("+", "-").replace("/", "_")
        )
    except (ValueError, binascii.Error):
        return None


def plain_address(value: str) -> str:
    """A bare address (``name@example.org``) or "", stripped; ValueError otherwise."""
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if value and (not at or not local or "." not in domain or any(c in value for c in " <>,;")):
        raise ValueError("must be a plain address (name@example.org), or empty")
    return value
