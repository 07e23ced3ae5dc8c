"""The sliding window behind the subscribe limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.web.ratelimit import Limit, SlidingWindow


def test_a_window_allows_count_hits_then_says_how_long_to_wait() -> None:
    window = SlidingWindow(Limit(3, 60))
    assert [window.hit("ip", t) for t in (0, 10, 20)] == [None, None, None]
    assert window.hit("ip", 30) == 30  # the hit at 0 leaves the window at 60
    assert window.hit("other", 30) is None
    assert window.hit("ip", 60) is None
    assert window.hit("ip", 61) == 9


def test_refused_hits_do_not_extend_the_wait() -> None:
    window = SlidingWindow(Limit(1, 100))
    window.hit("k", 0)
    for t in range(1, 100):
        assert window.hit("k", t) is not None
    assert window.hit("k", 100) is None


def test_memory_is_bounded() -> None:
    window = SlidingWindow(Limit(1, 10), max_keys=3)
    for key in "abc":
        window.hit(key, 0)
    assert window.hit("d", 5) == 10, "all keys busy: the newcomer waits"
    assert window.hit("d", 11) is None, "idle keys were dropped"
    assert len(window) == 1


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        Limit(0, 10)


@given(st.lists(st.floats(min_value=0, max_value=1000), max_size=60))
def test_never_more_than_count_hits_in_any_window(times: list[float]) -> None:
    limit = Limit(4, 50)
    window = SlidingWindow(limit)
    allowed = [t for t in sorted(times) if window.hit("k", t) is None]
    for start in allowed:
        inside = [t for t in allowed if start <= t < start + limit.window_seconds]
        assert len(inside) <= limit.count
