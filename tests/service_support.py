"""Shared by the scheduler and service tests: a site in a folder, a settable clock, a sender
that records, and a logger that writes into a buffer."""

from __future__ import annotations

import io
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from syndicate.config import Settings
from syndicate.delivery import Batch, Outcome
from syndicate.models import SubscriberStatus
from syndicate.service.jobs import JobEnv, Jobs
from syndicate.service.logs import EventLog, log_handler
from syndicate.store import Store

SECRET = "0ZuiqOvWsK4s0ZxRCiRj62SVof4kjkmbozWYvSFNOFw"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August")
MONTHS += ("September", "October", "November", "December")


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class RecordingSender:
    """Accepts everything, records each address, optionally waits inside send()."""

    def __init__(self, max_batch: int = 100, delay: float = 0.0) -> None:
        self.max_batch = max_batch
        self.delay = delay
        self.copies: Counter[str] = Counter()
        self.batches = 0
        self.in_send = threading.Event()  # set while a batch is being sent
        self.gate: threading.Event | None = None  # when set up, send() waits for it
        self.on_send: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def send(self, batch: Batch) -> list[Outcome]:
        self.in_send.set()
        try:
            if self.on_send is not None:
                self.on_send()
            if self.gate is not None:
                self.gate.wait(10)
            if self.delay:
                threading.Event().wait(self.delay)
            with self._lock:
                self.batches += 1
                self.copies.update(r.email for r in batch.recipients)
            return [Outcome(r.delivery_id, "sent") for r in batch.recipients]
        finally:
            self.in_send.clear()

    def close(self) -> None:
        return None


def article_text(title: str, day: datetime, body: str = "A clear night and a long report.") -> str:
    date = f"{MONTHS[day.month - 1]} {day.day}, {day.year}"
    return f"{title}\n\n{date}\n\n{body}\n"


def write_articles(root: Path, day: datetime, count: int, prefix: str = "Night") -> None:
    folder = root / "articles"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        text = article_text(f"{prefix} {n + 1} at the observatory", day - timedelta(days=n))
        (folder / f"{prefix.lower()}-{n + 1}.txt").write_text(text, encoding="utf-8")


def site_settings(root: Path, database_url: str, **digest: str) -> Settings:
    return Settings.model_validate(
        {
            "site": {"title": "Valley Astro", "url": "https://astro.example.org/"},
            "storage": {"url": database_url},
            "sources": [{"name": "articles", "path": "articles"}],
            "digest": {"weekly": "mon 08:00", "timezone": "Europe/Berlin", **digest},
            "email": {"from_address": "digest@astro.example.org"},
            "feeds": {"output_dir": str(root / "public")},
            "delivery": {"outbox_dir": str(root / "outbox")},
            "root": root,
        }
    )


def subscribe(store: Store, count: int, now: datetime) -> list[str]:
    emails = [f"reader{n}@example.org" for n in range(count)]
    rows = [(email, f"Reader {n}", frozenset[str]()) for n, email in enumerate(emails)]
    store.import_subscribers(rows, now, SubscriberStatus.ACTIVE)
    return emails


class LogBuffer:
    """Everything the service's loggers write, as the service's handler formats it."""

    def __init__(self, secrets: list[str] | None = None, json_lines: bool = True) -> None:
        self.stream = io.StringIO()
        self.handler = log_handler(secrets or [], self.stream, json_lines=json_lines)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def events(self) -> list[dict[str, Any]]:
        import json

        return [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]

    def names(self) -> list[str]:
        return [event["event"] for event in self.events()]


@contextmanager
def captured_logs(secrets: list[str] | None = None, json_lines: bool = True) -> Iterator[LogBuffer]:
    buffer = LogBuffer(secrets, json_lines)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(buffer.handler)
    root.setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        root.removeHandler(buffer.handler)
        root.setLevel(old_level)


def make_jobs(
    settings: Settings,
    store: Store,
    clock: Callable[[], datetime],
    sender: RecordingSender,
    *,
    stop: Callable[[], bool] = lambda: False,
    instance: str = "test:1",
) -> Jobs:
    env = JobEnv(settings, store, clock, lambda: sender, instance, stop, EventLog("syndicate.test"))
    return Jobs(env)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]
