"""The send's pieces, each alone, in one process: what bench_send.py's whole figure is made of.

    .venv/bin/python bench/bench_send_parts.py                       # SQLite, 200,000 rows
    .venv/bin/python bench/bench_send_parts.py --db postgresql+psycopg://…  --n 200000

1. Per recipient, with no I/O: ``_SendLoop._recipient`` (links, two signed tokens, headers)
   over batches of 1,000 claimed rows held in memory, then ``SendGridSender.send`` of each
   batch with its POST stubbed (JSON personalizations and the request body).
2. Per ledger row, through the Store: claiming batches of 1,000 and writing their outcomes,
   each batch's outcomes in a transaction of their own ("separate") or in the next claim's
   ("with the next claim", as the send does).

Each is run ``--rounds`` times, alternating, so that the machine's drift (this one's pace
swings 2x within a session) falls on both sides alike; the pace is printed beside them.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bench_send import NOW, SECRET, WEEK, database, fill
from pace import PACE_LABEL, reference_loop
from syndicate.config import Settings
from syndicate.delivery import sendgrid
from syndicate.digest.periods import parse_key
from syndicate.models import DeliveryState, Edition, RenderedDigest
from syndicate.pipeline import delivering
from syndicate.pipeline.edition import prepare_edition
from syndicate.store import Store

KEY = f"weekly:{WEEK}"
BATCH = 1000
Groups = Mapping[tuple[DeliveryState, str], Sequence[int]]


def settings() -> Settings:
    return Settings.model_validate(
        {
            "site": {"title": "Bench", "url": "https://bench.syndicate.test/"},
            "email": {"from_address": "digest@bench.syndicate.test"},
        }
    )


class _Rows:
    """Claimed rows from memory, as Store.claim_rows gives them."""

    def __init__(self, count: int) -> None:
        self.rows = [
            (i, i, f"reader{i}@bench.syndicate.test", f"Reader {i}", f"t{i:012d}")
            for i in range(1, count + 1)
        ]
        self.at = 0

    def claim_rows(self, *_: Any, **__: Any) -> list[tuple[int, int, str, str, str]]:
        batch = self.rows[self.at : self.at + BATCH]
        self.at += BATCH
        return batch

    def finish_groups(self, groups: Groups, now: datetime) -> int:
        return 0


def recipient_costs(count: int) -> tuple[float, float]:
    """(µs of CPU a recipient to build, µs to make its part of a request)."""
    html = "<p>Hello %%first_name%%</p>" + "<p>An article.</p>" * 200
    html += '<a href="%%unsubscribe_url%%">u</a> <a href="%%preferences_url%%">p</a>'
    rendered = RenderedDigest(
        week=WEEK, subject="Week 47", html=html, text="Hi %%name%% %%unsubscribe_url%%"
    )
    sender = sendgrid.SendGridSender("SG.bench", base_url="http://127.0.0.1:9")
    sender._post = lambda data: sendgrid._Accepted()  # type: ignore[method-assign]
    store: Any = _Rows(count)
    loop = delivering._SendLoop(
        settings(), store, sender, KEY, lambda _: rendered, SECRET, lambda: NOW,
        delivering.SendReport(week=KEY),
    )  # fmt: skip
    build = send = 0.0
    gc.freeze()
    try:
        before = time.process_time()
        for batch in loop._batches(rendered, ""):
            built = time.process_time()
            build += built - before
            sender.send(batch)
            before = time.process_time()
            send += before - built
    finally:
        gc.unfreeze()
    return build / count * 1e6, send / count * 1e6


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ledger_cost(url: str, count: int, together: bool) -> tuple[float, float]:
    """(µs of this process's CPU, µs of wall time) a row to claim and settle it."""
    fill(url, count)
    with Store(url) as store:
        store.freeze_edition(_edition(store), NOW)  # the send's own freeze, without sending
        cpu, wall = _cpu(), time.perf_counter()
        settle: dict[tuple[DeliveryState, str], list[int]] = {}
        while rows := _claim(store, settle if together else None):
            settle = {(DeliveryState.SENT, ""): [row[0] for row in rows]}
            if not together:
                store.finish_groups(settle, NOW)
                settle = {}
        cpu, wall = _cpu() - cpu, time.perf_counter() - wall
        if store.delivery_counts(KEY)["sent"] != count:
            raise SystemExit("the ledger did not end all sent")
    return cpu / count * 1e6, wall / count * 1e6


def _claim(store: Store, settle: Groups | None) -> list[Any]:
    return store.claim_rows(KEY, "", BATCH, NOW, "bench", settle)


def _edition(store: Store) -> Edition:
    edition = prepare_edition(settings(), store, parse_key(KEY), now=NOW)
    if edition is None:
        raise SystemExit("no edition to freeze")
    return edition


def alternate(rounds: int, runs: Mapping[str, Callable[[], tuple[float, float]]]) -> Iterator[str]:
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            results[name].append(run())
    for name, values in results.items():
        first = [a for a, _ in values]
        second = [b for _, b in values]
        yield (
            f"| {name} | {min(first):.2f}–{max(first):.2f} (median {statistics.median(first):.2f})"
            f" | {min(second):.2f}–{max(second):.2f} (median {statistics.median(second):.2f}) |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL URL")
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--part", choices=("recipients", "ledger", "both"), default="both")
    args = parser.parse_args()
    if args.part != "ledger":
        print_recipients(args.rounds, args.n)
    if args.part != "recipients":
        print_ledger(args.rounds, args.n, args.db)
    print(f"\n{PACE_LABEL}: {reference_loop():.2f} s")


def print_recipients(rounds: int, count: int) -> None:
    print("| per recipient, no I/O | build, µs CPU | SendGrid request, µs CPU |")
    print("| --- | ---: | ---: |")
    for line in alternate(rounds, {"recipients": lambda: recipient_costs(count)}):
        print(line)


def print_ledger(rounds: int, count: int, db: str) -> None:
    def ledger(together: bool) -> Callable[[], tuple[float, float]]:
        def run() -> tuple[float, float]:
            with (
                tempfile.TemporaryDirectory(prefix="syndicate-bench-parts-") as name,
                database(db, Path(name)) as url,
            ):
                return ledger_cost(url, count, together)

        return run

    kind = "SQLite" if db == "sqlite" else "PostgreSQL"
    print(f"\n| per ledger row ({kind}, {count:,} rows) | µs CPU (this process) | µs wall |")
    print("| --- | ---: | ---: |")
    runs = {"outcomes separate": ledger(False), "outcomes with the next claim": ledger(True)}
    for line in alternate(rounds, runs):
        print(line)


if __name__ == "__main__":
    main()
