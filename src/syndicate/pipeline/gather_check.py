"""A gather that finds nothing changed, told without the store's machinery or the parsers.

Most gathers cron runs find every file as the last one left it. When every source is a
folder and each file's size and modification time are those its row holds (none new, none
gone, none that failed), such a gather would store nothing but a run row per source:
``unchanged_gather`` writes those rows and gives the report, through a unit of work over
sqlite3 (store.gather_writes: the SQL a Store runs too), so the command never loads
SQLAlchemy or a parser. Anything else, and the whole gather (pipeline.gathering) decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from syndicate.config import Settings, SourceSettings
from syndicate.pipeline.folder_kind import FOLDER
from syndicate.pipeline.gather_report import GatherReport, SourceCounts
from syndicate.pipeline.source_kinds import source_kind
from syndicate.sources.folder_scan import FileStat, Scan, scan_folder
from syndicate.store.gather_writes import UnitOfWork
from syndicate.store.records import FileState


def unchanged(stat: FileStat, old: FileState | None) -> bool:
    """The file is as its row says (the gather neither reads nor parses it again)."""
    return old is not None and old.size == stat.size and old.mtime_ns == stat.mtime_ns


def folder_scans(settings: Settings) -> dict[str, Scan] | None:
    """Every source's listing by its name, when every source is a folder that lists without
    a problem (None: the whole gather reports what is wrong). A gather that is not found
    unchanged takes them (pipeline.gathering): the folders are listed once."""
    sources = settings.sources
    if not sources or any(source_kind(s.kind) is not FOLDER for s in sources):
        return None
    scans = {}
    for source in sources:
        scan = _scan(settings, source)
        if scan is None:
            return None
        scans[source.name] = scan
    return scans


def _scan(settings: Settings, source: SourceSettings) -> Scan | None:
    try:
        scan = scan_folder(settings.path(FOLDER.options(source).path))
    except OSError:
        return None
    return None if scan.problems else scan


def unchanged_gather(
    scans: Mapping[str, Scan], uow: UnitOfWork, now: datetime
) -> GatherReport | None:
    """The report of a gather of these listings that finds nothing changed, its run rows
    written through ``uow``; None, with nothing written, when a file is new, gone, changed
    or failed before."""
    for source, scan in scans.items():
        states = uow.file_states(source)
        if len(states) != len(scan.files):
            return None
        for stat in scan.files:
            old = states.get(stat.relpath)
            if old is None or old.error or not unchanged(stat, old):
                return None
    report = GatherReport()
    for source in scans:
        counts = SourceCounts()
        counts.unchanged = uow.source_article_count(source)
        uow.record_gather_run(source, now, now, counts.as_tuple())
        report.add(counts)
    return report
