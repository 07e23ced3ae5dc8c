"""The job log of `syndicate run`: one row per run of a job, with its outcome."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from syndicate.store.records import JobOutcome, JobRun
from syndicate.store.schema import job_runs

OUTCOMES: tuple[JobOutcome, ...] = ("ok", "failed", "skipped")
DETAIL_MAX = 2000


def record_job_run(conn: Connection, run: JobRun) -> None:
    if run.outcome not in OUTCOMES:
        raise ValueError(f"job outcome must be one of {', '.join(OUTCOMES)}, not {run.outcome!r}")
    conn.execute(
        insert(job_runs).values(
            job=run.job,
            started=run.started,
            finished=run.finished,
            outcome=run.outcome,
            detail=run.detail[:DETAIL_MAX],
            instance=run.instance,
        )
    )


def last_job_runs(conn: Connection, limit: int) -> list[JobRun]:
    query = select(job_runs).order_by(job_runs.c.finished.desc(), job_runs.c.id.desc())
    return [_run(row) for row in conn.execute(query.limit(limit))]


def last_success(conn: Connection, job: str) -> JobRun | None:
    query = (
        select(job_runs)
        .where(job_runs.c.job == job, job_runs.c.outcome == "ok")
        .order_by(job_runs.c.finished.desc(), job_runs.c.id.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    return None if row is None else _run(row)


def _run(row: Any) -> JobRun:
    return JobRun(row.job, row.started, row.finished, row.outcome, row.detail, row.instance)
