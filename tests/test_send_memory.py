"""A send keeps the cyclic garbage collector on and its memory flat in the number of
recipients (issue 14: with the collector paused, SMTP grew ~63 KB a message)."""

from __future__ import annotations

import gc
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests import test_send
from tests.test_send import NOW, article, clock

from syndicate.config import Settings
from syndicate.delivery.outbox import OutboxSender
from syndicate.delivery.smtp import SmtpSender
from syndicate.models import SubscriberStatus
from syndicate.pipeline.send import send_edition
from syndicate.store import Store

settings = test_send.settings  # the fixture
SINK = Path(__file__).resolve().parents[1] / "bench" / "smtp_sink.py"


@pytest.fixture
def sink() -> Iterator[tuple[str, int]]:
    """The lean SMTP sink of the benchmark: it keeps nothing, so only the sender's memory
    is measured here."""
    process = subprocess.Popen([sys.executable, str(SINK)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    host, port = process.stdout.readline().split()
    try:
        yield host, int(port)
    finally:
        process.terminate()
        process.communicate(timeout=30)


def filled(tmp_path: Path, name: str, count: int) -> Store:
    store = Store(f"sqlite:///{tmp_path / name}")
    store.upsert_articles([article(1, "Events"), article(2, "Equipment")], NOW)
    store.import_subscribers(
        [(f"reader{i}@example.com", f"Reader {i}", frozenset()) for i in range(count)], NOW
    )
    assert store.subscriber_counts()["active"] == count
    return store


def test_the_collector_stays_on_during_a_send(settings: Settings, tmp_path: Path) -> None:
    seen: list[bool] = []
    frozen: list[int] = []

    def progress(*_: int) -> None:
        seen.append(gc.isenabled())
        frozen.append(gc.get_freeze_count())

    with filled(tmp_path, "on.db", 3) as store:
        sender = OutboxSender(tmp_path / "sent", clock=clock)
        send_edition(
            settings,
            store,
            sender,
            "2026-W47",
            clock=clock,
            progress=progress,
        )
    assert seen and all(seen)
    # What lived before the send is frozen during it (not walked again), and only then.
    assert all(frozen) and gc.get_freeze_count() == 0


def peak_of_send(settings: Settings, store: Store, host: str, port: int) -> int:
    sender = SmtpSender(host, port, security="none", clock=clock)
    tracemalloc.start()
    try:
        report = send_edition(settings, store, sender, "2026-W47", clock=clock)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        sender.close()
    assert report.counts["sent"] == store.subscriber_counts()[SubscriberStatus.ACTIVE.value]
    return peak


@pytest.mark.slow
def test_smtp_send_memory_does_not_grow_with_the_recipients(
    settings: Settings, tmp_path: Path, sink: tuple[str, int]
) -> None:
    with filled(tmp_path, "small.db", 20) as small, filled(tmp_path, "large.db", 150) as large:
        peak_of_send(settings, small, *sink)  # warm-up: imports, caches
        few = peak_of_send(settings, filled(tmp_path, "small2.db", 20), *sink)
        many = peak_of_send(settings, large, *sink)
    # 130 more messages: with the collector paused they held ~8 MB more; flat now.
    assert many - few < 2_000_000, (few, many)
