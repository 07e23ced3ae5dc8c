"""Waiting between attempts: capped exponential backoff with full jitter, and rate-limit
headers read into a number of seconds."""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime


@dataclass(frozen=True, slots=True)
class Backoff:
    """Attempt n (0-based) waits uniformly in [0, min(cap, base * 2**n)] ("full jitter")."""

    base: float = 0.5
    cap: float = 30.0

    def __post_init__(self) -> None:
        if self.base <= 0 or self.cap < self.base:
            raise ValueError(f"backoff needs 0 < base <= cap, got base={self.base} cap={self.cap}")

    def delay(self, attempt: int, rng: random.Random) -> float:
        ceiling = self.cap if attempt >= 62 else min(self.cap, self.base * (1 << attempt))
        return rng.uniform(0.0, ceiling)


def rate_limit_wait(reset: str | None, retry_after: str | None, now: float) -> float | None:
    """Seconds to wait after a 429, from ``X-RateLimit-Reset`` (``reset``: epoch seconds) or
    else ``Retry-After`` (seconds or an HTTP date); None when neither is usable.

    ``now`` is epoch seconds from the caller's clock.
    """
    reset_at = _number(reset)
    if reset_at is not None and reset_at > 0:
        return max(0.0, reset_at - now)
    if retry_after is None:
        return None
    seconds = _number(retry_after)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(retry_after.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None
