"""How feed sources are scheduled (issue 13): fetched concurrently, at most
``fetch.concurrency`` at once, in worker threads, while the gather job works on the folders;
each feed is then parsed and stored by the gather job's own thread as soon as its fetch is
done, in the order they finish, so one slow source never holds back the others. The store
is only touched from the caller's thread. Also: ``fetch.max_entries``, the cap on the
entries one fetch may bring.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any

from syndicate.config import Settings, SourceSettings
from syndicate.sources.feed import ParsedFeed, read_feed
from syndicate.sources.fetching import Fetched
from syndicate.store import FeedState

Fetch = Callable[[], Fetched]  # the fetch of one source, or its FetchError
StartFetch = Callable[[SourceSettings, FeedState | None], Fetched]


@contextmanager
def fetching_ahead(
    settings: Settings,
    feeds: Sequence[tuple[SourceSettings, FeedState | None]],
    start: StartFetch,
) -> Iterator[Iterator[tuple[SourceSettings, Fetch]]]:
    """Start every feed's fetch now; yields (source, its result) in the order they finish.

    Leaving the block early waits for the fetches in flight (each bounded by
    fetch.total_timeout) and starts no more."""
    if not feeds:
        yield iter(())
        return
    workers = min(settings.fetch.concurrency, len(feeds))
    pool = ThreadPoolExecutor(workers, thread_name_prefix="fetch")
    try:
        futures: dict[Future[Fetched], SourceSettings] = {
            pool.submit(start, source, known): source for source, known in feeds
        }
        yield ((futures[done], done.result) for done in as_completed(futures))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def read_newest(data: bytes, *, max_entries: int, **options: Any) -> ParsedFeed:
    """``read_feed`` capped by ``newest_entries`` (in the parsing child, so that only the
    kept entries travel back)."""
    return newest_entries(read_feed(data, **options), max_entries)[0]


def newest_entries(parsed: ParsedFeed, limit: int) -> tuple[ParsedFeed, int]:
    """At most ``limit`` entries, the newest by publication date, in the feed's order; and
    how many were dropped."""
    dropped = len(parsed.entries) - limit
    if dropped <= 0:
        return parsed, 0
    by_age = sorted(
        range(len(parsed.entries)),
        key=lambda i: parsed.entries[i].observation.published,
        reverse=True,
    )
    keep = sorted(by_age[:limit])
    entries = tuple(parsed.entries[i] for i in keep)
    note = f"{dropped} older entries over the {limit}-entry cap (fetch.max_entries)"
    return dataclasses.replace(parsed, entries=entries, skipped=(*parsed.skipped, note)), dropped
