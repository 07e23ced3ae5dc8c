"""Gathering a feed source: fetch (conditionally), parse, store the entries that changed.

A feed is a window on its site: entries that leave it stay in the store, as the articles
made from them do. Each entry is kept as a file row of the source keyed by its guid (else
link, else a hash of title and date), holding a hash of what it says, so an unchanged entry
is not written again.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from syndicate.config import Settings, SourceSettings
from syndicate.pipeline.entries import save_entries
from syndicate.pipeline.feed_kind import feed_url
from syndicate.pipeline.feed_schedule import Fetch, fetching_ahead, read_newest
from syndicate.pipeline.gather_report import GatherReport, Report, SourceCounts
from syndicate.pipeline.gathered import Merging, finish_run
from syndicate.pipeline.source_kinds import GatherRun
from syndicate.sources.feed import ParsedFeed, ParseError
from syndicate.sources.fetching import (
    Fetched,
    FetchError,
    Resolver,
    fetch_feed,
    read_feed_file,
    system_resolver,
)
from syndicate.sources.isolation import Overtime, call_with_deadline
from syndicate.store import FeedState, StoreError
from syndicate.store.sqlite_gather import GatherStore

_PASSWORD = re.compile(r"//([^/@:]*):[^/@]*@")  # user:password@ in a URL


def is_remote(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


@dataclass(frozen=True, slots=True)
class _Source:
    settings: Settings
    store: GatherStore
    source: SourceSettings
    now: datetime
    report: GatherReport
    on_error: Report

    def fail(self, what: str) -> None:
        shown = _PASSWORD.sub(r"//\1:***@", feed_url(self.source))
        self.report.fail(f"sources[{self.source.name}]: {shown}: {what}", self.on_error)


def gather_feed(
    settings: Settings,
    store: GatherStore,
    source: SourceSettings,
    now: datetime,
    report: GatherReport,
    on_error: Report,
    resolve: Resolver = system_resolver,
    fetched_ahead: Fetch | None = None,
) -> None:
    """Gather one feed source into the store; any failure is one error line for it. The
    fetch happens before the unit of work; its state, entries and articles are one.

    ``fetched_ahead``: its fetch, already made (see feed_schedule); else it is made here."""
    run = _Source(settings, store, source, now, report, on_error)
    known = known_state(store, source)
    counts = SourceCounts()
    try:
        fetched = (fetched_ahead or functools.partial(fetch, settings, source, known, resolve))()
        if fetched.not_modified and known is None:
            raise FetchError("HTTP 304 Not Modified, to a request that was not conditional")
        sha = hashlib.sha256(fetched.body).hexdigest() if not fetched.not_modified else ""
        unchanged = known is not None and (fetched.not_modified or sha == known.sha256)
        parsed = None if unchanged else _parse(settings, source, fetched)
    except (FetchError, ParseError) as exc:
        report.feeds_failed += 1
        run.fail(str(exc))
        counts.failed += 1
        _save(run, counts, _failed(source, known, now, str(exc)), None)
        return
    warnings = _save(run, counts, _fetched(source, known, fetched, sha, now), parsed)
    if warnings is None:
        return
    warnings = [*(parsed.warnings if parsed is not None else ()), *warnings]
    report.add(counts)
    if parsed is None:
        report.feeds_unchanged += 1
    else:
        report.feeds_fetched += 1
    for line in warnings:
        report.warn(f"sources[{source.name}]: {line}", on_error)


def gather_feeds(
    run: GatherRun, sources: Sequence[SourceSettings], meanwhile: Callable[[], None]
) -> None:
    """The feed sources, fetched while ``meanwhile`` gathers the other kinds, then stored in
    the order their fetches finish."""
    resolver = run.resolve or system_resolver
    feeds = [(source, known_state(run.store, source)) for source in sources]

    def start(source: SourceSettings, known: FeedState | None) -> Fetched:
        return fetch(run.settings, source, known, resolver)

    with fetching_ahead(run.settings, feeds, start) as fetched:
        meanwhile()
        for source, result in fetched:
            gather_feed(
                run.settings, run.store, source, run.now, run.report, run.on_error, resolver, result
            )


def _save(
    run: _Source, counts: SourceCounts, state: FeedState, parsed: ParsedFeed | None
) -> list[str] | None:
    """The fetch state, the entries that changed, their articles and the run: one unit of
    work. None when the store refused it (said in one line; nothing of it is stored)."""
    name = run.source.name
    try:
        with run.store.transaction() as uow:
            uow.save_feed_state(state)
            merging = Merging(run.settings, run.source, run.now)
            warnings = (
                save_entries(uow, merging, parsed, counts, run.fail) if parsed is not None else []
            )
            finish_run(uow, name, run.now, run.now, counts)
    except StoreError as exc:
        run.report.feeds_failed += 1
        run.fail(f"nothing stored: {exc}")
        return None
    return warnings


def known_state(store: GatherStore, source: SourceSettings) -> FeedState | None:
    """What the last fetch of this source's current URL left (validators, hash)."""
    stored = store.feed_state(source.name)
    return stored if stored is not None and stored.url == feed_url(source) else None


def fetch(
    settings: Settings, source: SourceSettings, known: FeedState | None, resolve: Resolver
) -> Fetched:
    """The source's document: fetched (conditionally), or read from its file."""
    options = settings.fetch
    location = feed_url(source)
    if not is_remote(location):
        return Fetched(location, False, read_feed_file(settings.path(location), options.max_bytes))
    return fetch_feed(
        location,
        options,
        etag=known.etag if known else "",
        last_modified=known.last_modified if known else "",
        resolve=resolve,
    )


def _parse(settings: Settings, source: SourceSettings, fetched: Fetched) -> ParsedFeed:
    """read_feed in a child process, killed after fetch.parse_timeout (see isolation); only
    the newest fetch.max_entries entries come back from it."""
    parse = functools.partial(
        read_newest,
        max_entries=settings.fetch.max_entries,
        source_url=fetched.url if is_remote(feed_url(source)) else "",
        tz=settings.source_zone(source),
        content_type=fetched.content_type,
    )
    limit = settings.fetch.parse_timeout
    try:
        return call_with_deadline(parse, (fetched.body,), limit)
    except Overtime:
        raise ParseError(f"took longer than {limit:g}s to parse (fetch.parse_timeout)") from None
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(f"the parser failed: {type(exc).__name__}: {exc}") from None


def _fetched(
    source: SourceSettings, known: FeedState | None, fetched: Fetched, sha: str, now: datetime
) -> FeedState:
    if fetched.not_modified and known is not None:
        # A 304 need not repeat the validators; those sent still describe the body held.
        etag, last_modified, sha = fetched.etag or known.etag, known.last_modified, known.sha256
    else:
        etag, last_modified = fetched.etag, fetched.last_modified
    return FeedState(source.name, feed_url(source), etag, last_modified, sha, now, now, None)


def _failed(
    source: SourceSettings, known: FeedState | None, now: datetime, error: str
) -> FeedState:
    """The failure noted; the validators and hash of the last good body kept, so that the
    next run can still be told "not modified" about it."""
    if known is None:
        return FeedState(source.name, feed_url(source), "", "", "", None, now, error)
    return FeedState(
        source.name,
        feed_url(source),
        known.etag,
        known.last_modified,
        known.sha256,
        known.fetched_at,
        now,
        error,
    )
