"""The gather job: read every source into the store."""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from syndicate.config import Settings, SourceSettings
from syndicate.models import Observation
from syndicate.pipeline.folder_kind import FOLDER
from syndicate.pipeline.gather_check import unchanged
from syndicate.pipeline.gather_report import GatherReport, Report, SourceCounts
from syndicate.pipeline.gathered import Merging, finish_run, merge_names
from syndicate.pipeline.source_kinds import GatherRun, Progress, gather_sources
from syndicate.pipeline.spool import RecordSpool
from syndicate.sources.folder import ParseError, parse_file
from syndicate.sources.folder_scan import (
    FileStat,
    Scan,
    os_reason,
    read_regular_file,
    scan_folder,
)
from syndicate.store import FileRecord, FileState, StoreError
from syndicate.store.sqlite_gather import GatherStore

if TYPE_CHECKING:  # imported where used: the process pool for many files, the feed client
    from concurrent.futures import Future, ProcessPoolExecutor  # (httpx, …) for feed sources

    from syndicate.sources.fetching import Resolver

__all__ = ["PARALLEL_FROM", "Progress", "gather"]


def _ignore(_: str) -> None:
    return None


def gather(
    settings: Settings,
    store: GatherStore,
    *,
    now: datetime,
    on_error: Report = _ignore,
    progress: Progress | None = None,
    resolve: Resolver | None = None,
    listings: Mapping[str, Scan] | None = None,
) -> GatherReport:
    """Read every source; a bad file or a failing feed is reported and skipped, the rest go
    on. ``resolve`` looks up the addresses of feed sources' hosts (tests may replace it;
    by default the system's resolver); ``listings``: folder sources listed already, by name."""
    report = GatherReport()
    run = GatherRun(settings, store, now, report, on_error, progress, resolve, listings or {})
    gather_sources(run)
    return report


def gather_folders(
    run: GatherRun, sources: Sequence[SourceSettings], meanwhile: Callable[[], None]
) -> None:
    for source in sources:
        _gather_folder(run, source)
    meanwhile()


def _gather_folder(run: GatherRun, source: SourceSettings) -> None:
    settings, store, now, report, on_error = (
        run.settings,
        run.store,
        run.now,
        run.report,
        run.on_error,
    )
    root = settings.path(FOLDER.options(source).path)
    prefix = f"sources[{source.name}].path"
    if not root.is_dir():
        report.fail(f"{prefix}: folder not found: {root}", on_error)
        return
    scan = run.listings.get(source.name)
    try:
        if scan is None:
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
    tz = settings.source_zone(source)
    options = (tz, settings.gather.max_file_size, settings.gather.years)
    jobs = [(root, stat, states.get(stat.relpath), *options) for stat in stats]
    with closing(RecordSpool()) as records:  # parsed records wait on disk, not in memory
        touched = _read_files(root, jobs, records, counts, report, on_error, run.progress)
        seen = {stat.relpath for stat in stats}
        removed = [path for path in states if path not in seen]
        saved = _save(store, Merging(settings, source, now), records, removed, touched, counts)
    if isinstance(saved, str):
        report.fail(f"{prefix}: nothing stored: {saved}", on_error)
        return
    report.add(counts)
    for line in saved:
        report.warn(f"{root}: {line}", on_error)


def _read_files(
    root: Path,
    jobs: Sequence[_FileJob],
    records: RecordSpool,
    counts: SourceCounts,
    report: GatherReport,
    on_error: Report,
    progress: Progress | None,
) -> list[tuple[str, int, int]]:
    """Each file's outcome: a record (spooled), a touch (returned: path, size, mtime_ns),
    unchanged, or an error reported."""
    touched: list[tuple[str, int, int]] = []
    for done, (job, outcome) in enumerate(zip(jobs, _gather_files(jobs), strict=True), 1):
        stat = job[1]
        if isinstance(outcome, FileRecord):
            records.add(outcome)
            if outcome.error:
                report.fail(f"{root / stat.relpath}: {outcome.error}", on_error)
                counts.failed += 1
        elif outcome == "touch":
            touched.append((stat.relpath, stat.size, stat.mtime_ns))
        elif outcome != "unchanged":
            report.fail(f"{root / stat.relpath}: {outcome}", on_error)
            counts.failed += 1
        if progress is not None:
            progress(done, len(jobs))
    return touched


def _save(
    store: GatherStore,
    run: Merging,
    records: RecordSpool,
    removed: list[str],
    touched: list[tuple[str, int, int]],
    counts: SourceCounts,
) -> list[str] | str:
    """One unit of work, done in steps of a chunk of records (so memory holds one chunk);
    its warning lines, or (when the store refused) why, and then nothing of it is stored."""
    name = run.source.name
    try:
        with store.transaction() as uow:
            uow.touch_files(name, touched)
            chunks = records.chunks()
            affected = uow.save_files(name, next(chunks, []), removed, run.now)
            for chunk in chunks:
                affected |= uow.save_files(name, chunk, [], run.now)
            warnings = merge_names(uow, run, affected, counts)
            finish_run(uow, name, run.now, run.now, counts)
    except StoreError as exc:
        return str(exc)
    return warnings


_FileJob = tuple[Path, FileStat, FileState | None, ZoneInfo, int, tuple[int, int]]
PARALLEL_FROM = 400  # files to parse before a process pool pays for its start-up


def _gather_files(jobs: Sequence[_FileJob]) -> Iterator[FileRecord | str]:
    """Outcomes in job order; many files to parse are parsed on every core."""
    todo = sum(1 for job in jobs if not unchanged(job[1], job[2]))
    workers = min(os.cpu_count() or 1, 4)
    if todo < PARALLEL_FROM or workers < 2:
        yield from (_gather_file(*job) for job in jobs)
        return
    # Here, not at the top: a gather of a few files starts no processes (~20 ms of imports).
    from concurrent.futures import ProcessPoolExecutor

    from syndicate.sources.isolation import child_context

    with ProcessPoolExecutor(max_workers=workers, mp_context=child_context()) as pool:
        yield from _in_order(pool, jobs, ahead=4 * workers)


PARSE_CHUNK = 64  # files per task of a parsing process


def _in_order(
    pool: ProcessPoolExecutor, jobs: Sequence[_FileJob], ahead: int
) -> Iterator[FileRecord | str]:
    """The outcomes in job order, with at most ``ahead`` tasks submitted and not yet taken:
    parsers faster than the save cannot pile up results (pool.map submits every task at once
    and keeps every result until it is taken)."""
    pending: deque[Future[list[FileRecord | str]]] = deque()
    for start in range(0, len(jobs), PARSE_CHUNK):
        pending.append(pool.submit(_gather_chunk, jobs[start : start + PARSE_CHUNK]))
        if len(pending) >= ahead:
            yield from pending.popleft().result()
    while pending:
        yield from pending.popleft().result()


def _gather_chunk(jobs: Sequence[_FileJob]) -> list[FileRecord | str]:
    return [_gather_file(*job) for job in jobs]


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
    if old is not None and unchanged(stat, old):
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
