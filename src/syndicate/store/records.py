"""What the store keeps about gathered files, as plain values."""

from __future__ import annotations

from dataclasses import dataclass

from syndicate.models import Observation


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
