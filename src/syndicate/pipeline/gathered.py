"""What gathering any kind of source shares: observations → articles (the report is
pipeline.gather_report's).

A gather of one source is one unit of work: its file (or entry) records, their
observations, the articles merged from them and the run's counts are committed together,
or — when anything fails — not at all, and the next gather starts from where this began.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from syndicate.config import Settings, SourceSettings
from syndicate.models import Observation
from syndicate.pipeline.gather_report import SourceCounts
from syndicate.pipeline.source_kinds import source_kind
from syndicate.sources.merge import MergeOptions, merge_source
from syndicate.store import UnitOfWork


@dataclass(frozen=True, slots=True)
class Merging:
    """What a merge of one source needs besides the store."""

    settings: Settings
    source: SourceSettings
    now: datetime

    def options(self, source: SourceSettings) -> MergeOptions:
        return MergeOptions(
            site_url=self.settings.site.url,
            default_category=source.category,
            rules=self.settings.categories,
            default_author=self.settings.site.author,
            by_title=source_kind(source.kind).by_title,
            pages=self.settings.pages.enabled,
        )


MERGE_CHUNK = 500  # names merged per step: memory holds their observations only


def merge_names(
    uow: UnitOfWork, run: Merging, names: Iterable[str], counts: SourceCounts
) -> list[str]:
    """Merge again every article of ``run.source`` keyed or titled by ``names`` (and those of
    other sources that fill from it); store them, mark those left without any observation
    removed. Adds to ``counts``; returns warning lines.

    In steps of MERGE_CHUNK names. A step takes every observation linked to its names by a
    shared key or title slug, so it merges whole articles; the names of those it merged
    are done, and a later step skips them (an article is merged and counted once)."""
    todo = sorted(set(names))
    others = [s for s in run.settings.sources if run.source.name in s.fill_from]
    done: dict[str, set[str]] = {source.name: set() for source in [run.source, *others]}
    warnings: list[str] = []
    for start in range(0, len(todo), MERGE_CHUNK):
        step = set(todo[start : start + MERGE_CHUNK])
        warnings += _merge_source(uow, run, run.source, step, counts, done[run.source.name])
        for other in others:
            # They match this source's articles by title; their counts are their own runs'.
            warnings += _merge_source(uow, run, other, step, SourceCounts(), done[other.name])
    return warnings


def _merge_source(
    uow: UnitOfWork,
    run: Merging,
    source: SourceSettings,
    names: set[str],
    counts: SourceCounts,
    done: set[str],
) -> list[str]:
    names = names - done
    if not names:
        return []
    found = uow.observations_named(source.name, names)
    candidates = names | {n for _, obs in found for n in (obs.slug, obs.key)}
    done |= candidates
    fillers = _fillers(uow, source, [obs for _, obs in found])
    merged = merge_source(source.name, found, run.options(source), fillers)
    kept = {article.key for article in merged.articles}
    counts.removed += uow.mark_removed(source.name, sorted(candidates - kept), run.now)
    new, updated = uow.upsert_articles(source.name, merged.articles, run.now)
    counts.new += new
    counts.updated += updated
    return merged.warnings


def _fillers(
    uow: UnitOfWork, source: SourceSettings, found: list[Observation]
) -> dict[str, list[Observation]]:
    if not source.fill_from or not found:
        return {}
    fillers: dict[str, list[Observation]] = {}
    for _, obs in uow.observations_titled(source.fill_from, {o.slug for o in found}):
        fillers.setdefault(obs.slug, []).append(obs)
    return fillers


def finish_run(
    uow: UnitOfWork, source: str, started: datetime, finished: datetime, counts: SourceCounts
) -> None:
    """The unchanged count (the source's articles neither new nor updated) and the run row."""
    counts.unchanged = max(0, uow.source_article_count(source) - counts.new - counts.updated)
    uow.record_gather_run(source, started, finished, counts.as_tuple())
