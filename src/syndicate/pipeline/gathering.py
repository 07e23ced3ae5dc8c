"""The gather job: read every source into the store."""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from syndicate.config import Settings, SourceSettings
from syndicate.models import Observation
from syndicate.pipeline.feed_gathering import fetch, gather_feed, known_state
from syndicate.pipeline.feed_schedule import fetching_ahead
from syndicate.pipeline.fetching import Fetched, Resolver, system_resolver
from syndicate.pipeline.gathered import GatherReport, Report, merge_and_store, record_run
from syndicate.sources.folder import FileStat, ParseError, parse_file, scan_folder
from syndicate.store import FeedState, FileRecord, FileState, Store

__all__ = ["PARALLEL_FROM", "GatherReport", "Progress", "Report", "gather"]

Progress = Callable[[int, int], None]  # (done, total)


def _ignore(_: str) -> None:
    return None


def gather(
    settings: Settings,
    store: Store,
    *,
    now: datetime,
    on_error: Report = _ignore,
    progress: Progress | None = None,
    resolve: Resolver = system_resolver,
) -> GatherReport:
    """Read every source; a bad file or a failing feed is reported and skipped, the rest go
    on. ``resolve`` looks up the addresses of feed sources' hosts (tests may replace it)."""
    report = GatherReport()
    feeds = [(s, known_state(store, s)) for s in settings.sources if s.kind == "feed"]
    start = functools.partial(_start_fetch, settings, resolve)
    with fetching_ahead(settings, feeds, start) as fetched:  # feeds fetched meanwhile
        for source in settings.sources:
            if source.kind != "feed":
                _gather_folder(settings, store, source, now, report, on_error, progress)
        for source, result in fetched:
            gather_feed(settings, store, source, now, report, on_error, resolve, result)
    return report


def _start_fetch(
    settings: Settings, resolve: Resolver, source: SourceSettings, known: FeedState | None
) -> Fetched:
    return fetch(settings, source, known, resolve)


def _gather_folder(
    settings: Settings,
    store: Store,
    source: SourceSettings,
    now: datetime,
    report: GatherReport,
    on_error: Report,
    progress: Progress | None,
) -> None:
    root = settings.path(source.path)
    if not root.is_dir():
        message = f"sources[{source.name}].path: folder not found: {root}"
        report.errors.append(message)
        on_error(message)
        return
    before = report.counts()
    tz = ZoneInfo(settings.site.timezone)
    states = store.file_states(source.name)
    stats = scan_folder(root)
    records: list[FileRecord] = []
    touched: list[tuple[str, int, int]] = []
    jobs = [
        (root, stat, states.get(stat.relpath), tz, settings.gather.max_file_size) for stat in stats
    ]
    for done, (stat, outcome) in enumerate(zip(stats, _gather_files(jobs), strict=True), 1):
        if isinstance(outcome, FileRecord):
            records.append(outcome)
            if outcome.error:
                report.fail(f"{root / stat.relpath}: {outcome.error}", on_error)
            elif stat.relpath in states:
                report.updated += 1
            else:
                report.new += 1
        elif outcome == "touch":
            touched.append((stat.relpath, stat.size, stat.mtime_ns))
            report.unchanged += 1
        elif outcome == "unchanged":
            report.unchanged += 1
        else:
            report.fail(f"{root / stat.relpath}: {outcome}", on_error)
        if progress is not None:
            progress(done, len(stats))
    seen = {stat.relpath for stat in stats}
    removed = [path for path in states if path not in seen]
    if touched:
        store.touch_files(source.name, touched)
    affected = store.save_files(source.name, records, removed, now)
    new, updated = merge_and_store(settings, store, affected, now)
    report.articles_new += new
    report.articles_updated += updated
    record_run(store, source.name, now, now, report, before)


_FileJob = tuple[Path, FileStat, FileState | None, ZoneInfo, int]
PARALLEL_FROM = 400  # files to parse before a process pool pays for its start-up


def _gather_files(jobs: Sequence[_FileJob]) -> Iterator[FileRecord | str]:
    """Outcomes in job order; many files to parse are parsed on every core."""
    todo = sum(1 for job in jobs if not _unchanged(job[1], job[2]))
    workers = min(os.cpu_count() or 1, 4)
    if todo < PARALLEL_FROM or workers < 2:
        yield from (_gather_file(*job) for job in jobs)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(_gather_job, jobs, chunksize=64)


def _gather_job(job: _FileJob) -> FileRecord | str:
    return _gather_file(*job)


def _unchanged(stat: FileStat, old: FileState | None) -> bool:
    return old is not None and old.size == stat.size and old.mtime_ns == stat.mtime_ns


def _gather_file(
    root: Path, stat: FileStat, old: FileState | None, tz: ZoneInfo, max_size: int
) -> FileRecord | str:
    """A FileRecord to save, "unchanged", "touch" (same bytes, new mtime), or an error text
    for a file that failed before and has not changed since."""
    if old is not None and _unchanged(stat, old):
        return old.error or "unchanged"

    def record(sha: str, observations: tuple[Observation, ...], error: str | None) -> FileRecord:
        return FileRecord(stat.relpath, stat.size, stat.mtime_ns, sha, observations, error)

    if stat.size > max_size:
        return record("", (), f"file is {stat.size} bytes, over the {max_size}-byte cap")
    try:
        data = (root / stat.relpath).read_bytes()
    except OSError as exc:
        return record("", (), f"cannot read: {exc.strerror or exc}")
    sha = hashlib.sha256(data).hexdigest()
    if old is not None and old.sha256 == sha and not old.error:
        return "touch"
    try:
        observations = parse_file(stat.relpath, data, tz=tz, max_size=max_size)
    except ParseError as exc:
        return record(sha, (), str(exc))
    return record(sha, tuple(observations), None)
