"""Gathering's bookkeeping: file states, their observations, and gather runs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, text, update

from syndicate.models import Observation
from syndicate.store.convert import CHUNK, chunks, observation_from_row, observation_row
from syndicate.store.records import FileRecord, FileState
from syndicate.store.schema import files, gather_runs, observations
from syndicate.store.sqlite_direct import (
    FILE_STATES,
    GATHER_COUNTS,
    RECORD_GATHER_RUN,
    run_params,
    states_of,
)


def file_states(conn: Connection, source: str) -> dict[str, FileState]:
    return states_of(conn.execute(text(FILE_STATES), {"source": source}).all())


def save_files(
    conn: Connection,
    source: str,
    records: Sequence[FileRecord],
    removed: Sequence[str],
    now: datetime,
) -> set[str]:
    """Replace the records' rows and drop the removed paths'; the caller holds the transaction.

    Returns the article keys and title slugs of the observations replaced and written."""
    paths = [r.path for r in records]
    duplicated = _first_duplicate([*paths, *removed])
    if duplicated is not None:
        raise ValueError(f"save_files: path {duplicated!r} given twice")
    affected = _names_of(conn, source, [*paths, *removed])
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
    affected.update(obs.key for r in records for obs in r.observations)
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


def observations_named(
    conn: Connection, source: str, names: Iterable[str]
) -> list[tuple[str, Observation]]:
    """(path, observation) of the source's observations whose key or title slug is one of
    ``names``, and of those that share a key or slug with one of them, and so on: every
    observation a merge of these articles can involve. In (path, position) order."""
    wanted, asked = set(names), set[str]()
    found: dict[int, tuple[str, int, Observation]] = {}
    while todo := sorted(wanted - asked):
        asked.update(todo)
        for batch in chunks(todo, CHUNK // 2):
            named = or_(observations.c.key.in_(batch), observations.c.slug.in_(batch))
            query = select(observations).where(observations.c.source == source, named)
            for row in conn.execute(query):
                if row.id not in found:
                    obs = observation_from_row(row)
                    found[row.id] = (row.path, row.position, obs)
                    wanted.update((obs.slug, obs.key))
    ordered = sorted(found.values(), key=lambda item: (item[0], item[1]))
    return [(path, obs) for path, _, obs in ordered]


def observations_titled(
    conn: Connection, sources: Sequence[str], slugs: Iterable[str]
) -> list[tuple[str, Observation]]:
    """(source, observation) of these sources' observations with one of these title slugs."""
    found: list[tuple[str, str, int, Observation]] = []
    if not sources:
        return []
    for batch in chunks(sorted(set(slugs))):
        query = select(observations).where(
            observations.c.source.in_(sources), observations.c.slug.in_(batch)
        )
        for row in conn.execute(query):
            found.append((row.source, row.path, row.position, observation_from_row(row)))
    found.sort(key=lambda item: item[:3])
    return [(source, obs) for source, _, _, obs in found]


def record_gather_run(
    conn: Connection,
    source: str,
    started: datetime,
    finished: datetime,
    counts: tuple[int, int, int, int, int],
) -> None:
    conn.execute(
        text(RECORD_GATHER_RUN), run_params(source, started, finished, counts, conn.dialect.name)
    )


def last_gather_counts(conn: Connection) -> dict[str, int]:
    """The counts of each source's newest gather run, added up (the numbers of the last
    gather summary line)."""
    newest = (
        select(gather_runs.c.source, func.max(gather_runs.c.id).label("id"))
        .group_by(gather_runs.c.source)
        .subquery()
    )
    columns = [func.coalesce(func.sum(gather_runs.c[name]), 0) for name in GATHER_COUNTS]
    row = conn.execute(
        select(*columns).select_from(gather_runs.join(newest, newest.c.id == gather_runs.c.id))
    ).one()
    return {name: int(value) for name, value in zip(GATHER_COUNTS, row, strict=True)}


def last_gather(conn: Connection) -> datetime | None:
    finished: datetime | None = conn.scalar(select(func.max(gather_runs.c.finished)))
    return finished


def _names_of(conn: Connection, source: str, paths: Sequence[str]) -> set[str]:
    """The keys and title slugs of these paths' observations."""
    names: set[str] = set()
    for batch in chunks(paths):
        query = select(observations.c.slug, observations.c.key).where(
            observations.c.source == source, observations.c.path.in_(batch)
        )
        for slug, key in conn.execute(query):
            names.update((slug, key))
    return names


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
