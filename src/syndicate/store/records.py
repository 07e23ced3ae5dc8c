"""What the store keeps, as plain values: gathered files, an edition's send, a job's run.

No SQLAlchemy here: `syndicate status` reads these without it (store.status_reads)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from syndicate.models import Observation

JobOutcome = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class FileState:
    """A file as last gathered: enough to tell whether it changed since."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A file just read: its state and what it says (nothing, when it could not be read)."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    observations: tuple[Observation, ...] = ()
    error: str | None = None

    def __post_init__(self) -> None:
        if self.error is not None and self.observations:
            raise ValueError(f"{self.path}: a file with an error keeps no observations")


@dataclass(frozen=True, slots=True)
class SendStatus:
    """One edition's send: when it started and finished, and why it is paused, if it is."""

    week: str
    started_at: datetime
    finished_at: datetime | None = None
    paused_reason: str | None = None
    pause_kind: str | None = None  # pipeline.send.PauseKind
    paused_at: datetime | None = None
    retries: int = 0  # how often the service retried the pause on its own


@dataclass(frozen=True, slots=True)
class JobRun:
    job: str
    started: datetime
    finished: datetime
    outcome: JobOutcome
    detail: str = ""
    instance: str = ""

    @property
    def duration_seconds(self) -> float:
        return (self.finished - self.started).total_seconds()
