"""Benchmark: one send shared by several processes on PostgreSQL (issue 10, item 6).

    .venv/bin/python bench/bench_shared_send.py [--subscribers 1500] [--latency-ms 5]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

A real SMTP server (aiosmtpd) on loopback answers each message after ``--latency-ms`` (a
provider's round trip); the SMTP backend sends one message per request. The same edition is
sent to the same subscribers by one process, then (on a fresh schema) by two processes
started together: they claim disjoint batches with ``FOR UPDATE SKIP LOCKED``. Reported: the
wall time of each, every recipient's copies, and rows left uncertain (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from syndicate.config import Settings
from syndicate.delivery.registry import make_sender
from syndicate.models import Article, SubscriberStatus
from syndicate.pipeline.send import send_edition
from syndicate.store import Store

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WEEK = "2026-W48"
SECRET = "AFqM6Bln4J8zNJ1ddMVvhaFvY7a3VqMJUpHcjlfTDtg"


class Inbox:
    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.copies: Counter[str] = Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.latency)
        self.copies.update(address.lower() for address in envelope.rcpt_tos)
        return "250 OK"


def settings_for(url: str, port: int, root: Path) -> Settings:
    os.environ["SYNDICATE_SECRET_KEY"] = SECRET
    return Settings.model_validate(
        {
            "site": {"title": "Bench", "url": "https://bench.example.net/"},
            "storage": {"url": url},
            "email": {"from_address": "digest@bench.example.net"},
            "delivery": {
                "backend": "smtp",
                "outbox_dir": str(root / "out"),
                "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 30},
            },
            "root": root,
        }
    )


@contextmanager
def fresh_schema(base: str) -> Iterator[str]:
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    try:
        url = make_url(base).update_query_dict({"options": f"-csearch_path={name}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        admin.dispose()


def seed(settings: Settings, count: int) -> None:
    article = Article(
        guid="urn:uuid:00000000-0000-0000-0000-000000000001",
        slug="bench",
        title="A night at the dam",
        link="https://bench.example.net/bench",
        published=NOW - timedelta(days=1),
        category="Events",
        summary="Forty meteors.",
        content="<p>Forty.</p>",
        content_hash="h1",
    )
    with Store(settings.database_url) as store:
        store.upsert_articles([article], NOW)
        rows = [(f"reader{n}@example.com", "", frozenset[str]()) for n in range(count)]
        store.import_subscribers(rows, NOW, SubscriberStatus.ACTIVE)


def one_sender(settings: Settings) -> None:
    with Store(settings.database_url) as store:
        sender = make_sender(settings, lambda: NOW)
        try:
            send_edition(settings, store, sender, WEEK, clock=lambda: NOW)
        finally:
            sender.close()


def timed_send(
    base: str, inbox: Inbox, port: int, root: Path, count: int, processes: int
) -> dict[str, Any]:
    inbox.copies.clear()
    with fresh_schema(base) as url:
        settings = settings_for(url, port, root)
        seed(settings, count)
        with Store(url) as store:  # migrate before the clock starts
            store.article_count()
        context = multiprocessing.get_context("spawn")
        workers = [context.Process(target=one_sender, args=(settings,)) for _ in range(processes)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        seconds = time.perf_counter() - started
        with Store(url) as store:
            counts = store.delivery_counts(WEEK)
    most = max(inbox.copies.values(), default=0)
    return {"seconds": seconds, "counts": counts, "most": most, "addresses": len(inbox.copies)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1500)
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "SYNDICATE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox(args.latency_ms / 1000)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    root = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-shared-{os.getpid()}"
    try:
        results = {
            n: timed_send(args.database_url, inbox, port, root, args.subscribers, n) for n in (1, 2)
        }
    finally:
        controller.stop()
    print("| processes | wall time of the send (s) | sent | uncertain | addresses | most copies |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for n, r in results.items():
        counts = r["counts"]
        print(
            f"| {n} | {r['seconds']:.2f} | {counts['sent']} | {counts['uncertain']} "
            f"| {r['addresses']} | {r['most']} |"
        )
    print(f"\ntwo processes / one: {results[1]['seconds'] / results[2]['seconds']:.2f}x faster")
    return 0 if all(r["counts"]["uncertain"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
