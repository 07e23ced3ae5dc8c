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
from syndicate.pipeline.gathered import (
    GatherReport,
    Merging,
    Report,
    SourceCounts,
    finish_run,
    merge_names,
)
from syndicate.sources.folder import ParseError, parse_file
from syndicate.sources.folder_scan import FileStat, os_reason, read_regular_file, scan_folder
from syndicate.store import FeedState, FileRecord, FileState, Store, StoreError

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
    prefix = f"sources[{source.name}].path"
    if not root.is_dir():
        report.fail(f"{prefix}: folder not found: {root}", on_error)
        return
    try:
        scan = scan_folder(root)
    except OSError as exc:
        report.fail(f"{prefix}: cannot read the folder {root}: {os_reason(exc)}", on_error)
        return
    counts = SourceCounts()
    for relpath, problem in scan.problems:
        report.fail(f"{root / relpath}: {problem}", on_error)
        counts.failed += 1
    stats = scan.files
    states = store.file_states(source.name)
    records: list[FileRecord] = []
    touched: list[tuple[str, int, int]] = []
    tz = ZoneInfo(source.timezone or settings.site.timezone)
    options = (tz, settings.gather.max_file_size, settings.gather.years)
    jobs = [(root, stat, states.get(stat.relpath), *options) for stat in stats]
    for done, (stat, outcome) in enumerate(zip(stats, _gather_files(jobs), strict=True), 1):
        if isinstance(outcome, FileRecord):
            records.append(outcome)
            if outcome.error:
                report.fail(f"{root / stat.relpath}: {outcome.error}", on_error)
                counts.failed += 1
        elif outcome == "touch":
            touched.append((stat.relpath, stat.size, stat.mtime_ns))
        elif outcome != "unchanged":
            report.fail(f"{root / stat.relpath}: {outcome}", on_error)
            counts.failed += 1
        if progress is not None:
            progress(done, len(stats))
    seen = {stat.relpath for stat in stats}
    removed = [path for path in states if path not in seen]
    saved = _save(store, Merging(settings, source, now), records, removed, touched, counts)
    if isinstance(saved, str):
        report.fail(f"{prefix}: nothing stored: {saved}", on_error)
        return
    report.add(counts)
    for line in saved:
        report.warn(f"{root}: {line}", on_error)


def _save(
    store: Store,
    run: Merging,
    records: list[FileRecord],
    removed: list[str],
    touched: list[tuple[str, int, int]],
    counts: SourceCounts,
) -> list[str] | str:
    """One unit of work; its warning lines, or (when the store refused) why, and then
    nothing of it is stored."""
    name = run.source.name
    try:
        with store.transaction() as uow:
            uow.touch_files(name, touched)
            affected = uow.save_files(name, records, removed, run.now)
            warnings = merge_names(uow, run, affected, counts)
            finish_run(uow, name, run.now, run.now, counts)
    except StoreError as exc:
        return str(exc)
    return warnings


_FileJob = tuple[Path, FileStat, FileState | None, ZoneInfo, int, tuple[int, int]]
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
    root: Path,
    stat: FileStat,
    old: FileState | None,
    tz: ZoneInfo,
    max_size: int,
    years: tuple[int, int],
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
        data = read_regular_file(root / stat.relpath)
    except OSError as exc:
        return record("", (), f"cannot read: {os_reason(exc)}")
    sha = hashlib.sha256(data).hexdigest()
    if old is not None and old.sha256 == sha and not old.error:
        return "touch"
    try:
        observations = parse_file(stat.relpath, data, tz=tz, max_size=max_size, years=years)
    except ParseError as exc:
        return record(sha, (), str(exc))
    except Exception as exc:  # a parser bug must not stop the gather; the text is not quoted
        return record(sha, (), f"cannot be parsed ({type(exc).__name__})")
    return record(sha, tuple(observations), None)
