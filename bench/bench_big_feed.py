"""A legal but huge feed: 98,239 RSS items (24 MB) as a feed source, gathered once with the
default fetch.max_entries (1,000). Prints the time, what was stored and the peak memory of
the gathering process (the parse runs in a child process with its own limit).

    .venv/bin/python bench/bench_big_feed.py [--items 98239]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from syndicate import pipeline
from syndicate.config import Settings
from syndicate.store import Store


def rss(count: int) -> bytes:
    items = "".join(
        f"<item><title>item number {n}</title><guid>item-{n}</guid>"
        f"<link>https://many.example/item/{n}</link>"
        f"<pubDate>Mon, 02 Nov 2026 {n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d} +0000"
        "</pubDate><description>&lt;p&gt;A few words.&lt;/p&gt;</description></item>"
        for n in range(count)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Many</title>'
        f"<link>https://many.example/</link>{items}</channel></rss>"
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=98_239)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "big.xml").write_bytes(rss(args.items))
        size = (root / "big.xml").stat().st_size
        settings = Settings.model_validate(
            {
                "site": {"url": "https://bench.example/"},
                "storage": {"url": f"sqlite:///{root / 'bench.db'}"},
                "sources": [{"name": "big", "kind": "feed", "url": str(root / "big.xml")}],
                "fetch": {"max_bytes": 50_000_000, "parse_timeout": 600},
                "root": root,
            }
        )
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        with Store(settings.database_url) as store:
            errors: list[str] = []
            started = time.perf_counter()
            report = pipeline.gather(
                settings, store, now=datetime(2026, 11, 20, tzinfo=UTC), on_error=errors.append
            )
            took = time.perf_counter() - started
            stored = store.article_count()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"One feed source of {args.items:,} items ({size / 1e6:.1f} MB), fetch.max_entries 1,000\n"
    )
    print("| measurement | value |")
    print("| --- | ---: |")
    print(f"| gather (read, parse in a child, cap, store) | {took:.1f} s |")
    print(f"| articles stored | {stored:,} (new entries: {report.new:,}) |")
    print(f"| peak RSS of the gatherer | {peak} MB (before the gather: {before} MB) |")
    for line in errors:
        print(f"\n{line.split(': ', 2)[-1]}")


if __name__ == "__main__":
    main()
