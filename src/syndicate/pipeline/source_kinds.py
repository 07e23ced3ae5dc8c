"""The source kinds by name (``sources[].kind``): how each gathers its sources.

A kind gathers all the sources of its kind in one call, and calls ``meanwhile()`` once: the
gather of the other kinds. A kind that waits (the feed kind fetches) calls it while it
waits; one that does not, after its work. A new kind is one module with a ``SourceKind``
and one line in ``syndicate.registry.SOURCE_KINDS`` (or ``SOURCE_KINDS.register(name,
kind)`` from a plug-in); a kind that reads whole entries stores them with
``syndicate.pipeline.entries.store_entries``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from syndicate.registry import SOURCE_KINDS

if TYPE_CHECKING:
    from syndicate.config import Settings, SourceSettings
    from syndicate.pipeline.gathered import GatherReport, Report
    from syndicate.sources.fetching import Resolver
    from syndicate.store import Store

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True, slots=True)
class GatherRun:
    """One gather: what every kind's gather reads and reports to."""

    settings: Settings
    store: Store
    now: datetime
    report: GatherReport
    on_error: Report
    progress: Progress | None = None
    resolve: Resolver | None = None  # the feed kind's host lookup (tests replace it)


Gather = Callable[[GatherRun, Sequence["SourceSettings"], Callable[[], None]], None]


@dataclass(frozen=True, slots=True)
class SourceKind:
    name: str
    gather: Gather
    by_title: bool = False  # a teaser card completes the full text of its title (folders)


def source_kind(name: str) -> SourceKind:
    """The kind ``name`` (ConfigError naming sources[].kind when there is none)."""
    kind = SOURCE_KINDS.get(name)
    if not isinstance(kind, SourceKind):
        raise TypeError(f"source kind {name!r} is a {type(kind).__name__}, not a SourceKind")
    return kind


def gather_sources(run: GatherRun) -> None:
    """Every configured source, by its kind; kinds in the registry's order, each one's
    ``meanwhile`` the rest."""
    sources = run.settings.sources
    kinds = [
        (source_kind(name), [s for s in sources if s.kind == name])
        for name in SOURCE_KINDS.names()
        if any(s.kind == name for s in sources)
    ]
    _chain(run, kinds)


def _chain(run: GatherRun, kinds: Sequence[tuple[SourceKind, list[SourceSettings]]]) -> None:
    if kinds:
        (kind, sources), rest = kinds[0], kinds[1:]
        kind.gather(run, sources, lambda: _chain(run, rest))
