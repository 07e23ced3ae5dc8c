"""Gathering's bookkeeping: file states, their observations, and gather runs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update

from syndicate.models import Observation
from syndicate.store.convert import chunks, observation_from_row, observation_row
from syndicate.store.records import FileRecord, FileState
from syndicate.store.schema import files, gather_runs, observations


def file_states(conn: Connection, source: str) -> dict[str, FileState]:
    query = select(
        files.c.path, files.c.size, files.c.mtime_ns, files.c.sha256, files.c.error
    ).where(files.c.source == source)
    return {
        row.path: FileState(row.path, row.size, row.mtime_ns, row.sha256, row.error)
        for row in conn.execute(query)
    }


def save_files(
    conn: Connection,
    source: str,
    records: Sequence[FileRecord],
    removed: Sequence[str],
    now: datetime,
) -> set[str]:
    """Replace the records' rows and drop the removed paths'; the caller holds the transaction."""
    paths = [r.path for r in records]
    duplicated = _first_duplicate([*paths, *removed])
    if duplicated is not None:
        raise ValueError(f"save_files: path {duplicated!r} given twice")
    affected = _slugs_of(conn, source, [*paths, *removed])
    _delete_paths(conn, source, [*paths, *removed])
    if records:
        conn.execute(insert(files), [_file_row(source, r, now) for r in records])
    rows = [
        observation_row(source, r.path, position, obs)
        for r in records
        for position, obs in enumerate(r.observations)
    ]
    if rows:
        conn.execute(insert(observations), rows)
    affected.update(obs.slug for r in records for obs in r.observations)
    return affected


def touch_files(conn: Connection, source: str, seen: Sequence[tuple[str, int, int]]) -> None:
    """Record a new size / mtime for files whose content did not change."""
    if not seen:
        return
    stmt = (
        update(files)
        .where(and_(files.c.source == bindparam("b_source"), files.c.path == bindparam("b_path")))
        .values(size=bindparam("b_size"), mtime_ns=bindparam("b_mtime"))
    )
    params = [
        {"b_source": source, "b_path": path, "b_size": size, "b_mtime": mtime}
        for path, size, mtime in seen
    ]
    conn.execute(stmt, params)


def observations_for(
    conn: Connection, slugs: Iterable[str]
) -> dict[str, list[tuple[str, Observation]]]:
    found: dict[str, list[tuple[str, Observation]]] = {}
    order = (observations.c.source, observations.c.path, observations.c.position)
    for batch in chunks(sorted(set(slugs))):
        query = select(observations).where(observations.c.slug.in_(batch)).order_by(*order)
        for row in conn.execute(query):
            found.setdefault(row.slug, []).append((row.source, observation_from_row(row)))
    return found


def record_gather_run(
    conn: Connection,
    source: str,
    started: datetime,
    finished: datetime,
    counts: tuple[int, int, int, int],
) -> None:
    new, updated, unchanged, failed = counts
    conn.execute(
        insert(gather_runs).values(
            source=source,
            started=started,
            finished=finished,
            new=new,
            updated=updated,
            unchanged=unchanged,
            failed=failed,
        )
    )


def last_gather(conn: Connection) -> datetime | None:
    finished: datetime | None = conn.scalar(select(func.max(gather_runs.c.finished)))
    return finished


def _slugs_of(conn: Connection, source: str, paths: Sequence[str]) -> set[str]:
    slugs: set[str] = set()
    for batch in chunks(paths):
        query = (
            select(observations.c.slug)
            .distinct()
            .where(observations.c.source == source, observations.c.path.in_(batch))
        )
        slugs.update(conn.scalars(query))
    return slugs


def _delete_paths(conn: Connection, source: str, paths: Sequence[str]) -> None:
    for batch in chunks(paths):
        conn.execute(
            delete(observations).where(
                observations.c.source == source, observations.c.path.in_(batch)
            )
        )
        conn.execute(delete(files).where(files.c.source == source, files.c.path.in_(batch)))


def _file_row(source: str, record: FileRecord, now: datetime) -> dict[str, object]:
    return {
        "source": source,
        "path": record.path,
        "size": record.size,
        "mtime_ns": record.mtime_ns,
        "sha256": record.sha256,
        "error": record.error,
        "gathered_at": now,
    }


def _first_duplicate(items: Iterable[str]) -> str | None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            return item
        seen.add(item)
    return None
