"""Feed sources fetched concurrently, bounded, each stored as soon as it is in; and the
per-fetch entry cap (issue 13). Real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.feed_documents import ATOM, RSS, rss_items
from tests.feed_servers import FeedServer, Route, static
from tests.test_gather_feeds import feed, make_settings

from syndicate import pipeline
from syndicate.config import Settings
from syndicate.pipeline.gather_report import GatherReport
from syndicate.store import Store

GUARD = 30.0  # only ends a hung test

NOW = datetime(2026, 11, 20, tzinfo=UTC)
LATER = datetime(2200, 1, 1, tzinfo=UTC)  # every article is due by then


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with Store(database_url) as opened:
        yield opened


class Gate:
    """A route that holds each request until released, counting those held at once."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.open = threading.Event()
        self.lock = threading.Lock()
        self.held = 0
        self.most_held = 0
        self.arrived = threading.Semaphore(0)

    def __call__(self, handler: Any) -> None:
        with self.lock:
            self.held += 1
            self.most_held = max(self.most_held, self.held)
        self.arrived.release()
        self.open.wait(GUARD)
        with self.lock:
            self.held -= 1
        handler.answer(200, self.body, "application/rss+xml")


def settings_with(
    tmp_path: Path, database_url: str, sources: list[dict[str, Any]], **fetch: Any
) -> Settings:
    settings = make_settings(tmp_path, database_url, sources)
    return settings.model_copy(
        update={
            "fetch": settings.fetch.model_copy(
                update={"total_timeout": GUARD, "read_timeout": GUARD, **fetch}
            )
        }
    )


def gather_in_background(settings: Settings, store: Store) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(
        target=lambda: out.append(pipeline.gather(settings, store, now=NOW)),
        daemon=True,
    )
    thread.start()
    return thread, out


def test_a_slow_source_does_not_hold_back_the_others(
    server: FeedServer, store: Store, tmp_path: Path, database_url: str
) -> None:
    slow = Gate(RSS)
    sources = [
        feed("slow", server.add("/slow", slow)),  # listed first
        feed("quick", server.add("/quick", static(ATOM))),
    ]
    settings = settings_with(tmp_path, database_url, sources)
    thread, out = gather_in_background(settings, store)
    assert slow.arrived.acquire(timeout=GUARD)
    try:
        # While the slow source is still being fetched, the quick one's articles are in.
        found = threading.Event()
        for _ in range(int(GUARD / 0.05)):
            if any(a.source == "quick" for a in store.latest_articles(100, LATER)):
                found.set()
                break
            found.wait(0.05)
        assert found.is_set(), "the quick source waited for the slow one"
        assert not any(a.source == "slow" for a in store.latest_articles(100, LATER))
    finally:
        slow.open.set()
        thread.join(GUARD)
    (report,) = out
    assert isinstance(report, GatherReport) and report.feeds_fetched == 2


def test_at_most_fetch_concurrency_sources_are_fetched_at_once(
    server: FeedServer, store: Store, tmp_path: Path, database_url: str
) -> None:
    gates = [Gate(rss_items(2, prefix=f"s{n}")) for n in range(5)]
    shared = Gate(b"")  # counts across all five
    routes: list[Route] = []
    for gate in gates:

        def route(handler: Any, gate: Gate = gate) -> None:
            with shared.lock:
                shared.held += 1
                shared.most_held = max(shared.most_held, shared.held)
            try:
                gate(handler)
            finally:
                with shared.lock:
                    shared.held -= 1

        routes.append(route)
    sources = [feed(f"s{n}", server.add(f"/s{n}", r)) for n, r in enumerate(routes)]
    settings = settings_with(tmp_path, database_url, sources, concurrency=2)
    thread, out = gather_in_background(settings, store)
    # Hold every fetch at its gate until two wait at once; then let them all through.
    deadline = time.monotonic() + GUARD
    while shared.held < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert shared.held == 2
    for gate in gates:
        gate.open.set()
    thread.join(GUARD)
    (report,) = out
    assert report.feeds_fetched == 5
    assert shared.most_held == 2  # never more than fetch.concurrency


def test_max_entries_keeps_the_newest_and_says_how_many_it_dropped(
    server: FeedServer, store: Store, tmp_path: Path, database_url: str
) -> None:
    sources = [feed("many", server.add("/many", static(rss_items(30))))]
    settings = settings_with(tmp_path, database_url, sources, max_entries=10)
    errors: list[str] = []
    report = pipeline.gather(settings, store, now=NOW, on_error=errors.append)
    kept = {a.title for a in store.latest_articles(100, LATER)}
    assert kept == {f"item number {n}" for n in range(20, 30)}  # the newest ten
    assert report.new == 10
    assert any("20 older entries over the 10-entry cap (fetch.max_entries)" in e for e in errors)
