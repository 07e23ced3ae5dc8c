"""The source kinds by name (``sources[].kind``): how each gathers its sources.

A kind's registration (a ``SourceKind``) gives its name, a line of help, its settings model
(the keys of a ``[[sources]]`` table beside the common ones, validated when the settings are
read and documented in docs/settings.md) and its gather. A kind gathers all the sources of
its kind in one call, and calls ``meanwhile()`` once: the gather of the other kinds. A kind
that waits (the feed kind fetches) calls it while it waits; one that does not, after its
work. A new kind is one module with a ``SourceKind`` and one line in
``syndicate.registry.SOURCE_KINDS`` (or ``SOURCE_KINDS.register(name, kind)`` from a
plug-in); a kind that reads whole entries stores them with
``syndicate.pipeline.entries.store_entries``. The registration is imported whenever settings
with a source of its kind are read, so its gather imports the work when it runs (as
``folder_kind`` and ``feed_kind`` do).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from syndicate.config.section import Section
from syndicate.registry import SOURCE_KINDS

if TYPE_CHECKING:
    from syndicate.config import Settings, SourceSettings
    from syndicate.pipeline.gather_report import GatherReport, Report
    from syndicate.sources.fetching import Resolver
    from syndicate.sources.folder_scan import Scan
    from syndicate.store.sqlite_gather import GatherStore

Progress = Callable[[int, int], None]  # (done, total)
O = TypeVar("O", bound=Section)  # noqa: E741 (the settings of one kind's sources)


class NoSourceSettings(Section):
    """A kind whose sources have only the common keys."""


@dataclass(frozen=True, slots=True)
class GatherRun:
    """One gather: what every kind's gather reads and reports to."""

    settings: Settings
    store: GatherStore
    now: datetime
    report: GatherReport
    on_error: Report
    progress: Progress | None = None
    resolve: Resolver | None = None  # the feed kind's host lookup (tests replace it)
    # Folder sources listed already, by source name (pipeline.gather_check): not again.
    listings: Mapping[str, Scan] = field(default_factory=dict)


Gather = Callable[[GatherRun, Sequence["SourceSettings"], Callable[[], None]], None]


@dataclass(frozen=True, slots=True)
class SourceKind(Generic[O]):
    name: str
    help: str
    gather: Gather
    settings: type[O] = NoSourceSettings  # type: ignore[assignment]
    by_title: bool = False  # a teaser card completes the full text of its title (folders)

    def options(self, source: SourceSettings) -> O:
        """The keys of its own that ``source`` (a source of this kind) has."""
        options = source.options
        if source.kind != self.name or not isinstance(options, self.settings):
            raise TypeError(f"sources[{source.name}] is not a {self.name} source")
        return options


def source_kind(name: str) -> SourceKind[Section]:
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


def _chain(
    run: GatherRun, kinds: Sequence[tuple[SourceKind[Section], list[SourceSettings]]]
) -> None:
    if kinds:
        (kind, sources), rest = kinds[0], kinds[1:]
        kind.gather(run, sources, lambda: _chain(run, rest))
