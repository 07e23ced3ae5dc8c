"""The counts of a gather and of each source's part in it (no store, no parser: a gather
that finds nothing changed reports with these too, pipeline.gather_check)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Report = Callable[[str], None]


@dataclass
class SourceCounts:
    """One source's gather, in articles (``failed``: files or entries that could not be read)."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return self.new, self.updated, self.unchanged, self.removed, self.failed


@dataclass
class GatherReport:
    """Counts over every source of one gather.

    ``new``, ``updated``, ``unchanged`` and ``removed`` count articles; ``failed`` counts the
    files of folder sources and the entries of feed sources that could not be read, and a
    source that failed as a whole (unreachable, not a feed, refused by the store) counts one.
    The ``feeds_*`` counts are per feed source: fetched and parsed, unchanged (a 304, or the
    same bytes as last time: nothing parsed), or failed. ``warnings`` are lines that
    stopped nothing (two files defining one article).
    """

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    feeds_fetched: int = 0
    feeds_unchanged: int = 0
    feeds_failed: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.new or self.updated or self.removed)

    def add(self, counts: SourceCounts) -> None:
        """A source's article counts (its failures were counted as they were met)."""
        self.new += counts.new
        self.updated += counts.updated
        self.unchanged += counts.unchanged
        self.removed += counts.removed

    def fail(self, message: str, on_error: Report) -> None:
        self.failed += 1
        self.errors.append(message)
        on_error(message)

    def warn(self, message: str, on_error: Report) -> None:
        self.warnings.append(message)
        on_error(f"warning: {message}")

    def summary(self) -> str:
        text = (
            f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed, {self.failed} failed"
        )
        if self.feeds_fetched or self.feeds_unchanged or self.feeds_failed:
            text += (
                f"; feeds: {self.feeds_fetched} fetched, {self.feeds_unchanged} unchanged, "
                f"{self.feeds_failed} failed"
            )
        return text
