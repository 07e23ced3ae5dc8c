"""Storing the entries a source read whole (a feed's, or another kind's): each is a file
row of the source keyed by its key, holding a hash of what it says, so an unchanged entry
is not written again; the articles they name are merged again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from syndicate.config import SourceSettings
from syndicate.pipeline.gather_report import SourceCounts
from syndicate.pipeline.gathered import Merging, finish_run, merge_names
from syndicate.pipeline.source_kinds import GatherRun
from syndicate.sources.feed_entries import FeedEntry, ParsedFeed
from syndicate.store import FileRecord, StoreError, UnitOfWork


def store_entries(run: GatherRun, source: SourceSettings, parsed: ParsedFeed) -> None:
    """The entries, their articles and the run of ``source``: one unit of work; every
    problem one line naming the source."""

    def fail(what: str) -> None:
        run.report.fail(f"sources[{source.name}]: {what}", run.on_error)

    counts = SourceCounts()
    try:
        with run.store.transaction() as uow:
            merging = Merging(run.settings, source, run.now)
            warnings = save_entries(uow, merging, parsed, counts, fail)
            finish_run(uow, source.name, run.now, run.now, counts)
    except StoreError as exc:
        fail(f"nothing stored: {exc}")
        return
    run.report.add(counts)
    for line in [*parsed.warnings, *warnings]:
        run.report.warn(f"sources[{source.name}]: {line}", run.on_error)


def save_entries(
    uow: UnitOfWork,
    run: Merging,
    parsed: ParsedFeed,
    counts: SourceCounts,
    fail: Callable[[str], None],
) -> list[str]:
    """Inside ``uow``: the entries that changed, then the merge; warning lines."""
    name = run.source.name
    states = uow.file_states(name)
    changed = [
        entry
        for entry in parsed.entries
        if (old := states.get(entry.key)) is None or old.sha256 != entry.sha256 or old.error
    ]
    seen = _first_seen(uow, name, changed, run.now)
    earliest, latest = run.settings.gather.years
    records: list[FileRecord] = []
    for entry in changed:
        observation = entry.observation
        if not entry.dated:
            observation = replace(observation, published=seen.get(entry.key, run.now))
        elif not earliest <= observation.published.year <= latest:
            fail(
                f"entry {observation.title[:60]!r}: date out of range: year "
                f"{observation.published.year} (entries are dated {earliest} to {latest}): skipped"
            )
            counts.failed += 1
            continue
        size = len(observation.content.encode("utf-8", "surrogatepass"))
        records.append(FileRecord(entry.key, size, 0, entry.sha256, (observation,)))
    for reason in parsed.skipped:
        fail(f"{reason}: skipped")
        counts.failed += 1
    affected = uow.save_files(name, records, [], run.now)
    return merge_names(uow, run, affected, counts)


def _first_seen(
    uow: UnitOfWork, source: str, entries: list[FeedEntry], now: datetime
) -> dict[str, datetime]:
    """An undated entry keeps the date it was first given: its article's."""
    undated = [entry.key for entry in entries if not entry.dated]
    if not undated:
        return {}
    return {key: held.published for key, held in uow.stored_articles(source, undated).items()}
