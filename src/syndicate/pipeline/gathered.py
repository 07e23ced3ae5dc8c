"""What gathering any kind of source shares: the report, and observations → articles."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from syndicate.config import Settings
from syndicate.models import Article, Observation
from syndicate.sources.merge import merge_article
from syndicate.store import Store

Report = Callable[[str], None]


@dataclass
class GatherReport:
    """Counts over every source of one gather.

    ``new``, ``updated``, ``unchanged`` and ``failed`` count the files of folder sources and
    the entries of feed sources (an entry is new when its guid, else link, was never seen
    from that source); a feed source that fails as a whole (unreachable, too large, not a
    feed) counts one failed, and a skipped entry (no title or date) one failed too. The
    ``feeds_*`` counts are per feed source: fetched and parsed, unchanged (a 304, or the
    same bytes as last time: nothing parsed), or failed.
    """

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    feeds_fetched: int = 0
    feeds_unchanged: int = 0
    feeds_failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.articles_new or self.articles_updated)

    def counts(self) -> tuple[int, int, int, int]:
        return self.new, self.updated, self.unchanged, self.failed

    def fail(self, message: str, on_error: Report) -> None:
        self.failed += 1
        self.errors.append(message)
        on_error(message)

    def summary(self) -> str:
        text = (
            f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.failed} failed"
        )
        if self.feeds_fetched or self.feeds_unchanged or self.feeds_failed:
            text += (
                f"; feeds: {self.feeds_fetched} fetched, {self.feeds_unchanged} unchanged, "
                f"{self.feeds_failed} failed"
            )
        return text


def record_run(
    store: Store,
    source: str,
    started: datetime,
    finished: datetime,
    report: GatherReport,
    before: tuple[int, int, int, int],
) -> None:
    """The source's own counts: the report's now, less what they were before it."""
    new, updated, unchanged, failed = (n - b for n, b in zip(report.counts(), before, strict=True))
    store.record_gather_run(source, started, finished, new, updated, unchanged, failed)


def merge_and_store(
    settings: Settings, store: Store, slugs: set[str], now: datetime
) -> tuple[int, int]:
    """Merge every observation of these slugs (from any source) and store the articles."""
    if not slugs:
        return 0, 0
    sources = {source.name: source for source in settings.sources}
    articles: list[Article] = []
    for slug, pairs in store.observations_for(slugs).items():
        source_name = _owning_source(pairs)
        source = sources.get(source_name)
        articles.append(
            merge_article(
                slug,
                [obs for _, obs in pairs],
                site_url=settings.site.url,
                source=source_name,
                default_category=source.category if source else "General",
                rules=settings.categories,
                default_author=settings.site.author,
            )
        )
    return store.upsert_articles(articles, now)


def _owning_source(pairs: Sequence[tuple[str, Observation]]) -> str:
    """The source of the full text if any, else of the first teaser (sorted for stability)."""
    full = sorted(name for name, obs in pairs if obs.kind == "full")
    return full[0] if full else sorted(name for name, _ in pairs)[0]
