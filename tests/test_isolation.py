"""Calls in a child process with a deadline: results, exceptions, overtime, crashes."""

from __future__ import annotations

import functools
import os
import time
from zoneinfo import ZoneInfo

import pytest
from tests.feed_documents import RSS

from syndicate.sources.feed import ParseError, read_feed
from syndicate.sources.isolation import ChildFailed, Overtime, call_with_deadline

UTC_ZONE = ZoneInfo("UTC")


def test_the_result_comes_back() -> None:
    parse = functools.partial(read_feed, source_url="https://birds.example/", tz=UTC_ZONE)
    parsed = call_with_deadline(parse, (RSS,), 30)
    assert parsed == read_feed(RSS, source_url="https://birds.example/", tz=UTC_ZONE)


def test_the_exception_is_raised_here() -> None:
    parse = functools.partial(read_feed, source_url="", tz=UTC_ZONE)
    with pytest.raises(ParseError, match="not a feed: the document is empty"):
        call_with_deadline(parse, (b"",), 30)


def test_a_call_past_its_deadline_is_killed() -> None:
    call_with_deadline(len, (b"",), 30)  # the fork server is up
    # Not killed, the child would sleep its 30 s and return None: no Overtime to catch.
    with pytest.raises(Overtime, match=r"still running after 0\.3s"):
        call_with_deadline(time.sleep, (30,), 0.3)


def test_a_child_that_dies_is_named() -> None:
    with pytest.raises(ChildFailed, match=r"died \(exit code 3\)"):
        call_with_deadline(os._exit, (3,), 30)
