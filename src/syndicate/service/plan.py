"""The jobs of `syndicate run` by name, and when each runs next seen from outside the service.

Pure and free of APScheduler, so that `syndicate status` can show the plan without loading
the scheduler (tests/test_startup_imports.py).
"""

from __future__ import annotations

from datetime import datetime

from syndicate.config import Settings
from syndicate.service.catchup import next_scheduled
from syndicate.store import JobRun

GATHER = "gather"
DIGEST = "digest"
BOUNCES = "bounces"  # only with bounces.imap_url
JOBS = (GATHER, DIGEST)


def planned_runs(
    settings: Settings, now: datetime, last_gather: JobRun | None
) -> dict[str, datetime]:
    """When each job runs next, seen from outside the service (`syndicate status`): each
    cadence's digest from its schedule ("digest" is the soonest of them), the gather one
    interval after the last recorded run (now if overdue)."""
    tz = settings.digest.zone
    runs = {
        f"digest:{c}": next_scheduled(now, settings.digest.schedule_of(c), tz)
        for c in settings.digest.cadences
    }
    gather = now
    if last_gather is not None:
        gather = max(now, last_gather.started + settings.schedule.gather_every)
    return {"gather": gather, "digest": min(runs.values()), **runs}
