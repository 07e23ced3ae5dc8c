"""The machine's pace: how long a fixed piece of plain Python takes here, now.

The development machine's speed swings (2x within one session): figures from different days
compare only through this one, which every bench prints beside its own."""

from __future__ import annotations

import time

PACE_LABEL = "this machine: `sum(range(10_000_000))`, CPU"


def reference_loop() -> float:
    """Seconds of CPU for a fixed piece of plain Python, best of three."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        sum(range(10_000_000))
        best = min(best, time.process_time() - start)
    return best
