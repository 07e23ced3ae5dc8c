"""The feeds job: the site's feeds, one set per category, and index.html."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from syndicate import content
from syndicate.config import Settings
from syndicate.feeds import (
    FeedLink,
    FeedOptions,
    build_feeds,
    feed_format,
    feed_paths,
    remove_files,
    write_atomically,
)
from syndicate.feeds.publish import INDEX, digest, files_match
from syndicate.feeds.websub import HubReport, Sleep, ping_hub
from syndicate.pipeline.feed_choice import (
    RECORD,
    FeedRecord,
    fingerprint,
    read_record,
    records,
    to_build,
)
from syndicate.pipeline.page_manifest import DELTA, MANIFEST, read_header
from syndicate.pipeline.site_pages import pages_fingerprint, site_pages
from syndicate.resources import package_dir
from syndicate.store.build_reads import ArticleSource, BuildReads, PageRow

FEED_STYLESHEET = "feed.xsl"  # what a browser shows of the RSS and Atom feeds


def feed_stylesheet() -> bytes:
    return (package_dir("syndicate", "feeds") / FEED_STYLESHEET).read_bytes()


@dataclass
class FeedsReport:
    output_dir: Path
    written: list[str]
    unchanged: list[str]
    feeds: list[FeedLink]
    removed: list[str]  # pages of articles no longer shown


def feed_options(settings: Settings) -> FeedOptions:
    return FeedOptions(
        site_title=settings.site.title,
        site_url=settings.site.url,
        description=settings.site.description,
        language=settings.site.language,
        author=settings.site.author,
        feed_base_url=settings.site.url,
        items=settings.feeds.items,
        content=settings.feeds.content,
        formats=settings.feeds.formats,
        hub=settings.feeds.hub or None,
        stylesheet=FEED_STYLESHEET,
    )


def build_all_feeds(settings: Settings, reads: ArticleSource, now: datetime) -> FeedsReport:
    """Write the site's feeds, one set per category, the front page (index.html) and the
    article pages; touch only changed files. ``now`` decides which articles are due (a
    scheduled one is left out until its date). A category's feeds are built again only when
    an article they show or may show changed (syndicate.pipeline.feed_choice)."""
    options = feed_options(settings)
    output_dir = settings.path(settings.feeds.output_dir)
    latest = reads.latest_articles(options.items, now)
    files = build_feeds(latest, options)
    categories = [c for c, _count in reads.categories(now)] if settings.feeds.per_category else []
    links = _all_links(settings, options, categories)
    # The pages read the store's change mark: the category feeds are read after it.
    html = site_pages(settings, reads, now, latest, links.site, links.by_category)
    files.update(html.files)
    files[FEED_STYLESHEET] = feed_stylesheet()
    site = {path: digest(files[path]) for path in _site_files(options)}
    before, after = _category_feeds(
        settings, options, reads, now, links.slugs, html.changed, files, output_dir, site
    )
    _write_record(output_dir, before)
    written = write_atomically(output_dir, files)
    removed = remove_files(output_dir, html.removed)
    _write_record(output_dir, after)
    if html.manifest is not None:  # last: a build killed before this is done again
        remove_files(output_dir, html.manifest.drop)
        write_atomically(output_dir, html.manifest.files)
    pages_removed = [path for path in removed if path not in (MANIFEST, DELTA)]
    return FeedsReport(output_dir, written.written, written.unchanged, links.every, pages_removed)


def unchanged_build(settings: Settings, reads: BuildReads, now: datetime) -> FeedsReport | None:
    """The report of a build that would write nothing, found without building one (no
    article read, no feed or page made): the store's change mark is the one the last
    complete build held and no article came due since, the settings, templates and code
    are those it was made with (the pages' and the feed record's fingerprints), and every
    file it vouched for is on disk as it wrote it. None when any of that is not so: then
    ``build_all_feeds`` decides (pages off: always)."""
    output_dir = settings.path(settings.feeds.output_dir)
    header = read_header(output_dir)
    record = read_record(output_dir)
    options = feed_options(settings)
    per_category = settings.feeds.per_category
    if not settings.pages.enabled or header.mark is None or header.built is None:
        return None
    if record is None or record.site is None or set(record.site) != set(_site_files(options)):
        return None
    if record.fingerprint != fingerprint(options, per_category):
        return None
    links = _all_links(settings, options, list(record.members) if per_category else [])
    if header.fingerprint != pages_fingerprint(settings, links.site, links.by_category):
        return None
    if reads.change_mark() != header.mark or reads.any_came_due(header.built, now):
        return None
    if to_build(output_dir, links.slugs, record, [], options.formats):
        return None  # a category's files are missing
    if not files_match(output_dir, record.site):
        return None
    return FeedsReport(output_dir, [], list(record.site), links.every, [])


@dataclass(frozen=True, slots=True)
class _Links:
    site: list[FeedLink]
    by_category: dict[str, list[FeedLink]]  # category -> its feeds
    slugs: dict[str, str]  # category -> its slug
    every: list[FeedLink]  # the site's, then each category's


def _all_links(settings: Settings, options: FeedOptions, categories: Sequence[str]) -> _Links:
    site = _links(options, settings.site.title, None)
    slugs = {category: content.slugify(category) for category in categories}
    by_category = {
        category: _links(options, f"{settings.site.title}: {category}", slug)
        for category, slug in slugs.items()
    }
    every = [*site, *(link for feeds in by_category.values() for link in feeds)]
    return _Links(site, by_category, slugs, every)


def _site_files(options: FeedOptions) -> list[str]:
    """The files every build writes: the site's feeds, index.html, the stylesheet."""
    return [*feed_paths(None, options.formats).values(), INDEX, FEED_STYLESHEET]


def _category_feeds(
    settings: Settings,
    options: FeedOptions,
    reads: ArticleSource,
    now: datetime,
    slugs: Mapping[str, str],
    changed: Sequence[PageRow] | None,
    files: dict[str, bytes],
    output_dir: Path,
    site: dict[str, str],
) -> tuple[FeedRecord | None, FeedRecord]:
    """Build the feeds of the categories that may have changed into ``files``; the feed
    record to write before the files and the one after (``site``: the digests of the
    site's own files, in ``files``)."""
    print_ = fingerprint(options, settings.feeds.per_category)
    record = read_record(output_dir)
    record = record if record is not None and record.fingerprint == print_ else None
    wanted = to_build(output_dir, slugs, record, changed, options.formats)
    built: dict[str, list[str]] = {}
    for category, slug in slugs.items():
        if category in wanted:
            articles = reads.latest_articles(options.items, now, category=category)
            files.update(build_feeds(articles, options, title_suffix=category, category_slug=slug))
            built[category] = [article.guid for article in articles]
    return records(record, built, slugs, print_, site)


def _write_record(output_dir: Path, record: FeedRecord | None) -> None:
    if record is None:
        remove_files(output_dir, [RECORD])
    else:
        write_atomically(output_dir, {RECORD: record.encode()})


def _links(options: FeedOptions, title: str, slug: str | None) -> list[FeedLink]:
    paths = feed_paths(slug, options.formats)
    formats = [feed_format(name) for name in options.formats]
    return [FeedLink(f"{title} ({f.label})", paths[f.name], f.media_type) for f in formats]


def changed_feed_urls(settings: Settings, report: FeedsReport) -> list[str]:
    """The absolute URLs of the feed files the build wrote (index.html is not a feed)."""
    base = feed_options(settings).feed_base_url
    names = {f.file_name for f in (feed_format(name) for name in settings.feeds.formats)}
    return [base + path for path in report.written if path.rsplit("/", 1)[-1] in names]


def announce_changes(
    settings: Settings, report: FeedsReport, *, sleep: Sleep = time.sleep
) -> HubReport | None:
    """Tell feeds.hub about the feeds the build changed; None if no hub or no change."""
    urls = changed_feed_urls(settings, report)
    if not settings.feeds.hub or not urls:
        return None
    return ping_hub(
        settings.feeds.hub,
        urls,
        connect_timeout=settings.fetch.connect_timeout,
        read_timeout=settings.fetch.read_timeout,
        user_agent=settings.fetch.user_agent,
        sleep=sleep,
    )
