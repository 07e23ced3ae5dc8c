"""In-memory sliding-window rate limits (per client IP, per address).

One process, one memory: with several instances behind a balancer each counts on its own,
so the effective limit is the limit times the instances. Good enough against a form-filling
bot or a mail bomb aimed at one address; not a quota system.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

DEFAULT_MAX_KEYS = 100_000


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` hits in any ``window_seconds``."""

    count: int
    window_seconds: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.window_seconds <= 0:
            raise ValueError(f"rate limit {self.count}/{self.window_seconds}s: both must be > 0")


class SlidingWindow:
    """``hit(key, now)`` records a hit and says whether it was allowed.

    A refused hit is not recorded, so a client that keeps trying is let in again as soon as
    its oldest allowed hit leaves the window. Memory is bounded: past ``max_keys`` keys the
    idle ones are dropped, and if every key is busy the newest key is refused.
    """

    def __init__(self, limit: Limit, *, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        self.limit = limit
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float) -> float | None:
        """None when allowed; else the seconds until a hit would be allowed."""
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_keys:
                    self._prune(now)
                if len(self._hits) >= self.max_keys:
                    return self.limit.window_seconds
                hits = self._hits[key] = deque()
            self._expire(hits, now)
            if len(hits) >= self.limit.count:
                return max(hits[0] + self.limit.window_seconds - now, 1.0)
            hits.append(now)
            return None

    def __len__(self) -> int:
        return len(self._hits)

    def _expire(self, hits: deque[float], now: float) -> None:
        start = now - self.limit.window_seconds
        while hits and hits[0] <= start:
            hits.popleft()

    def _prune(self, now: float) -> None:
        for key in list(self._hits):
            hits = self._hits[key]
            self._expire(hits, now)
            if not hits:
                del self._hits[key]
