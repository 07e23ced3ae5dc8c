"""Benchmark of one edition sent to many subscribers (issue 3's targets).

    .venv/bin/python bench/bench_send.py [--subscribers 1000000] [--concurrency 1]

The SendGrid stand-in (tests/sendgrid_standin.py) runs in its own process on loopback and
validates every request as the real API would; the sender is the real `sendgrid` client
behind SendGridSender, driven by the ledger loop on SQLite. Reported: wall time of the send
(freezing the recipients included), requests, peak RSS of this process during the send, and
the ratio against rendering + inlining per recipient, measured on a sample and extrapolated.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from syndicate.config import Settings
from syndicate.delivery.sendgrid import SendGridSender
from syndicate.digest.render import render_edition
from syndicate.models import Article
from syndicate.pipeline import prepare_edition, site_view, template_source
from syndicate.pipeline.send import send_edition
from syndicate.store import Store
from syndicate.store.schema import subscribers

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WEEK = "2026-W47"  # the week before the Monday send: its articles
API_KEY = "SG.bench-key"


def articles(count: int = 20) -> list[Article]:
    text = "A sentence of an ordinary summary, long enough to look real. " * 3
    return [
        Article(
            guid=f"urn:uuid:00000000-0000-0000-0000-{i:012d}",
            slug=f"post-{i}",
            title=f"Headline number {i} of the week",
            link=f"https://bench.example.org/post-{i}",
            published=NOW - timedelta(hours=3 * i + 1),
            category=f"Category {i % 5}",
            summary=text,
            content=f"<p>{text}</p>",
            content_hash=f"h{i}",
        )
        for i in range(count)
    ]


def fill_subscribers(store: Store, count: int) -> None:
    chunk = 50_000
    with store.engine.begin() as conn:
        for start in range(0, count, chunk):
            rows = [
                {
                    "email": f"reader{i}@example.com",
                    "email_key": f"reader{i}@example.com",
                    "name": f"Reader {i}",
                    "status": "active",
                    "created_at": NOW,
                    "confirmed_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(start, min(count, start + chunk))
            ]
            conn.execute(insert(subscribers), rows)


def start_standin() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "sendgrid_standin.py"), "--api-key", API_KEY],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def standin_stats(base_url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{base_url}/_standin/stats") as answer:
        stats: dict[str, int] = json.load(answer)
    return stats


def per_recipient_render_seconds(settings: Settings, store: Store, sample: int = 15) -> float:
    edition = prepare_edition(settings, store, WEEK, now=NOW)
    assert edition is not None
    site, templates = site_view(settings), template_source(settings)
    render_edition(edition, site=site, templates=templates)  # warm-up
    times = []
    for _ in range(sample):
        start = time.perf_counter()
        render_edition(edition, site=site, templates=templates)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("SYNDICATE_SECRET_KEY", "yP5I2y2VBSkgim5axroR7OiXn6qyDFNxVJLrasTzEP0")
    with tempfile.TemporaryDirectory(prefix="syndicate-bench-send-") as name:
        tmp = Path(name)
        settings = Settings.model_validate(
            {
                "site": {"title": "Bench", "url": "https://bench.example.org/"},
                "storage": {"url": f"sqlite:///{tmp / 'send.db'}"},
                "delivery": {"backend": "sendgrid", "sendgrid": {"concurrency": args.concurrency}},
                "root": tmp,
            }
        )
        process, base_url = start_standin()
        try:
            with Store(settings.database_url) as store:
                store.upsert_articles(articles(), NOW)
                fill_subscribers(store, args.subscribers)
                render = per_recipient_render_seconds(settings, store)
                sender = SendGridSender(API_KEY, base_url=base_url, timeout=60)
                rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                start = time.perf_counter()
                report = send_edition(settings, store, sender, WEEK, clock=lambda: NOW)
                wall = time.perf_counter() - start
                rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            stats = standin_stats(base_url)
        finally:
            process.terminate()
            process.wait(timeout=30)
    extrapolated = render * args.subscribers + wall
    accepted, distinct = stats["accepted_recipients"], stats["distinct_recipients"]
    rows = [
        ("subscribers", f"{args.subscribers:,}", ""),
        ("wall time of the send (freeze + render once + requests)", f"{wall:.1f} s", "≤ 60 s"),
        ("requests made", f"{report.requests:,}", "≤ 1,000"),
        ("recipients accepted / distinct", f"{accepted:,} / {distinct:,}", ""),
        (
            "peak RSS of the sender",
            f"{rss_peak / 1024:.0f} MB (before the send: {rss_before / 1024:.0f} MB)",
            "≤ 300 MB",
        ),
        ("one render + inlining (the per-recipient cost)", f"{render * 1000:.1f} ms", ""),
        ("per-recipient rendering, extrapolated", f"{extrapolated / 3600:.1f} h", ""),
        ("ratio per-recipient / render-once", f"{extrapolated / wall:,.0f}×", "≥ 500×"),
    ]
    print("| measurement | value | target |")
    print("| --- | ---: | --- |")
    for label, value, target in rows:
        print(f"| {label} | {value} | {target} |")
    assert report.counts.get("sent") == args.subscribers, report.summary()


if __name__ == "__main__":
    main()
