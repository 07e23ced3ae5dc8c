"""The Store's record of `syndicate run`: its jobs' runs and its first start."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from syndicate.store import jobs as _jobs
from syndicate.store import site_state as _site_state
from syndicate.store.records import JobRun


class JobQueries:
    """The Store's job log and the site's first start (mixed into Store)."""

    _engine: Engine
    _writer: Engine

    def first_run(self) -> datetime | None:
        """When `syndicate run` first started on this database, if it has."""
        with self._engine.connect() as conn:
            return _site_state.get_moment(conn, _site_state.FIRST_RUN)

    def record_first_run(self, now: datetime) -> datetime:
        """Record ``now`` as the first start unless one is recorded; the first start."""
        try:
            with self._writer.begin() as conn:
                return _site_state.set_moment_once(conn, _site_state.FIRST_RUN, now)
        except IntegrityError:  # another instance recorded it at the same moment
            recorded = self.first_run()
            assert recorded is not None
            return recorded

    def record_job_run(self, run: JobRun) -> None:
        with self._writer.begin() as conn:
            _jobs.record_job_run(conn, run)

    def last_job_runs(self, limit: int) -> list[JobRun]:
        """The newest runs of every job, newest first."""
        with self._engine.connect() as conn:
            return _jobs.last_job_runs(conn, limit)

    def last_success(self, job: str) -> JobRun | None:
        """The newest run of ``job`` whose outcome was ok."""
        with self._engine.connect() as conn:
            return _jobs.last_success(conn, job)
