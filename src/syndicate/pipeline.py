"""The jobs: gather, build_feeds, prepare_edition, preview_edition.

Faces (cli, scheduler, web) call these; they wire the stages together and own no parsing,
SQL or rendering of their own.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from syndicate import content, mime
from syndicate.config import Settings, SourceSettings
from syndicate.digest.render import SiteView, TemplateSource, personalize, render_edition
from syndicate.digest.select import (
    edition_subject,
    iso_week,
    parse_week,
    select_edition_articles,
    week_bounds,
)
from syndicate.feeds import (
    FEED_MEDIA_TYPES,
    FeedLink,
    FeedOptions,
    build_feeds,
    feed_paths,
    index_html,
    write_atomically,
)
from syndicate.models import Article, Edition, Message, Observation
from syndicate.sources.folder import FileStat, ParseError, parse_file, scan_folder
from syndicate.sources.merge import merge_article
from syndicate.store import FileRecord, FileState, Store

Report = Callable[[str], None]
Progress = Callable[[int, int], None]  # (done, total)


def _ignore(_: str) -> None:
    return None


# --- gather ----------------------------------------------------------------------------


@dataclass
class GatherReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.articles_new or self.articles_updated)

    def summary(self) -> str:
        return (
            f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.failed} failed"
        )


def gather(
    settings: Settings,
    store: Store,
    *,
    now: datetime,
    on_error: Report = _ignore,
    progress: Progress | None = None,
) -> GatherReport:
    """Read every source; a bad file is reported and skipped, the rest go on."""
    report = GatherReport()
    for source in settings.sources:
        _gather_folder(settings, store, source, now, report, on_error, progress)
    return report


def _gather_folder(
    settings: Settings,
    store: Store,
    source: SourceSettings,
    now: datetime,
    report: GatherReport,
    on_error: Report,
    progress: Progress | None,
) -> None:
    root = settings.path(source.path)
    if not root.is_dir():
        message = f"sources[{source.name}].path: folder not found: {root}"
        report.errors.append(message)
        on_error(message)
        return
    tz = ZoneInfo(settings.site.timezone)
    states = store.file_states(source.name)
    stats = scan_folder(root)
    records: list[FileRecord] = []
    touched: list[tuple[str, int, int]] = []
    jobs = [
        (root, stat, states.get(stat.relpath), tz, settings.gather.max_file_size) for stat in stats
    ]
    for done, (stat, outcome) in enumerate(zip(stats, _gather_files(jobs), strict=True), 1):
        if isinstance(outcome, FileRecord):
            records.append(outcome)
            if outcome.error:
                _fail(report, on_error, root / stat.relpath, outcome.error)
            elif stat.relpath in states:
                report.updated += 1
            else:
                report.new += 1
        elif outcome == "touch":
            touched.append((stat.relpath, stat.size, stat.mtime_ns))
            report.unchanged += 1
        elif outcome == "unchanged":
            report.unchanged += 1
        else:
            _fail(report, on_error, root / stat.relpath, outcome)
        if progress is not None:
            progress(done, len(stats))
    seen = {stat.relpath for stat in stats}
    removed = [path for path in states if path not in seen]
    if touched:
        store.touch_files(source.name, touched)
    started = now
    affected = store.save_files(source.name, records, removed, now)
    new, updated = _merge_and_store(settings, store, affected, now)
    report.articles_new += new
    report.articles_updated += updated
    store.record_gather_run(
        source.name, started, now, report.new, report.updated, report.unchanged, report.failed
    )


def _fail(report: GatherReport, on_error: Report, path: Path, error: str) -> None:
    message = f"{path}: {error}"
    report.failed += 1
    report.errors.append(message)
    on_error(message)


_FileJob = tuple[Path, FileStat, FileState | None, ZoneInfo, int]
_PARALLEL_FROM = 400  # files to parse before a process pool pays for its start-up


def _gather_files(jobs: Sequence[_FileJob]) -> Iterator[FileRecord | str]:
    """Outcomes in job order; many files to parse are parsed on every core."""
    todo = sum(1 for job in jobs if not _unchanged(job[1], job[2]))
    workers = min(os.cpu_count() or 1, 4)
    if todo < _PARALLEL_FROM or workers < 2:
        yield from (_gather_file(*job) for job in jobs)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(_gather_job, jobs, chunksize=64)


def _gather_job(job: _FileJob) -> FileRecord | str:
    return _gather_file(*job)


def _unchanged(stat: FileStat, old: FileState | None) -> bool:
    return old is not None and old.size == stat.size and old.mtime_ns == stat.mtime_ns


def _gather_file(
    root: Path, stat: FileStat, old: FileState | None, tz: ZoneInfo, max_size: int
) -> FileRecord | str:
    """A FileRecord to save, "unchanged", "touch" (same bytes, new mtime), or an error text
    for a file that failed before and has not changed since."""
    if old is not None and _unchanged(stat, old):
        return old.error or "unchanged"

    def record(sha: str, observations: tuple[Observation, ...], error: str | None) -> FileRecord:
        return FileRecord(stat.relpath, stat.size, stat.mtime_ns, sha, observations, error)

    if stat.size > max_size:
        return record("", (), f"file is {stat.size} bytes, over the {max_size}-byte cap")
    try:
        data = (root / stat.relpath).read_bytes()
    except OSError as exc:
        return record("", (), f"cannot read: {exc.strerror or exc}")
    sha = hashlib.sha256(data).hexdigest()
    if old is not None and old.sha256 == sha and not old.error:
        return "touch"
    try:
        observations = parse_file(stat.relpath, data, tz=tz, max_size=max_size)
    except ParseError as exc:
        return record(sha, (), str(exc))
    return record(sha, tuple(observations), None)


def _merge_and_store(
    settings: Settings, store: Store, slugs: set[str], now: datetime
) -> tuple[int, int]:
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


# --- feeds -----------------------------------------------------------------------------


@dataclass
class FeedsReport:
    output_dir: Path
    written: list[str]
    unchanged: list[str]
    feeds: list[FeedLink]


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
        hub=None,
    )


def build_all_feeds(settings: Settings, store: Store) -> FeedsReport:
    """Write the site's feeds, one set per category, and index.html; touch only changed files."""
    options = feed_options(settings)
    files: dict[str, bytes] = {}
    links: list[FeedLink] = []
    latest = store.latest_articles(options.items)
    files.update(build_feeds(latest, options))
    links.extend(_links(options, settings.site.title, None))
    if settings.feeds.per_category:
        for category, _count in store.categories():
            slug = content.slugify(category)
            articles = store.latest_articles(options.items, category=category)
            files.update(build_feeds(articles, options, title_suffix=category, category_slug=slug))
            links.extend(_links(options, f"{settings.site.title}: {category}", slug))
    files["index.html"] = index_html(settings.site.title, links)
    output_dir = settings.path(settings.feeds.output_dir)
    written = write_atomically(output_dir, files)
    return FeedsReport(output_dir, written.written, written.unchanged, links)


_FORMAT_NAMES = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}


def _links(options: FeedOptions, title: str, slug: str | None) -> list[FeedLink]:
    paths = feed_paths(slug)
    return [
        FeedLink(
            title=f"{title} ({_FORMAT_NAMES[fmt]})",
            href=paths[fmt],
            media_type=FEED_MEDIA_TYPES[fmt],
        )
        for fmt in options.formats
    ]


# --- digest ----------------------------------------------------------------------------


class EditionError(Exception):
    """The week asked for cannot be prepared (bad text, or not yet begun)."""


def current_week(settings: Settings, now: datetime) -> str:
    return iso_week(now, ZoneInfo(settings.digest.timezone))


def prepare_edition(
    settings: Settings, store: Store, week: str, *, now: datetime
) -> Edition | None:
    """The stored edition of ``week``, created from the newest unsent articles on first use.

    Returns None when there is nothing new to put in it (nothing is stored then).
    """
    tz = ZoneInfo(settings.digest.timezone)
    try:
        parse_week(week)
        start, end = week_bounds(week, tz)
    except ValueError as exc:
        raise EditionError(f"--week: {exc}") from None
    existing = store.get_edition(week)
    if existing is not None:
        return existing
    if start > now:
        raise EditionError(
            f"--week: {week} has not begun yet (now is {current_week(settings, now)})"
        )
    candidates = store.edition_candidates(min(end, now), settings.digest.max_items)
    articles = select_edition_articles(candidates, settings.digest.max_items)
    if not articles:
        return None
    subject = edition_subject(
        settings.digest.subject, site=settings.site.title, week=week, count=len(articles)
    )
    return store.create_edition(week, now, subject, [article.guid for article in articles])


def site_view(settings: Settings) -> SiteView:
    return SiteView(
        title=settings.site.title,
        url=settings.site.url,
        timezone=ZoneInfo(settings.site.timezone),
        postal_address=settings.site.postal_address,
        language=settings.site.language,
    )


def template_source(settings: Settings) -> TemplateSource:
    """The site's own templates/email first, then the defaults shipped with syndicate."""
    dirs = [settings.root / "templates" / "email", DEFAULT_TEMPLATES]
    return TemplateSource([d for d in dict.fromkeys(dirs) if d.is_dir()])


DEFAULT_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"


@dataclass
class PreviewReport:
    edition: Edition
    html: Path
    text: Path
    eml: Path


def preview_substitutions(settings: Settings) -> Mapping[str, str]:
    base = settings.site.url
    return {
        "name": "",
        "unsubscribe_url": f"{base}unsubscribe?token=preview",
        "preferences_url": f"{base}preferences?token=preview",
    }


def preview_edition(
    settings: Settings, store: Store, week: str, *, now: datetime
) -> PreviewReport | None:
    """Render ``week``'s edition into digest.html/.txt/.eml in the outbox; nothing is sent."""
    edition = prepare_edition(settings, store, week, now=now)
    if edition is None:
        return None
    rendered = render_edition(
        edition, site=site_view(settings), templates=template_source(settings)
    )
    html, text = personalize(rendered, preview_substitutions(settings))
    message = Message(
        to=settings.email.from_address,
        subject=rendered.subject,
        html=html,
        text=text,
        from_address=settings.email.from_address,
        from_name=settings.email.from_name or settings.site.title,
        message_id=f"<preview.{week}@{_domain(settings.email.from_address)}>",
        headers={"List-Id": list_id(settings)},
    )
    eml = mime.to_bytes(mime.build_email(message, date=now))
    out = settings.path(settings.delivery.outbox_dir)
    written = write_atomically(
        out, {"digest.html": html.encode(), "digest.txt": text.encode(), "digest.eml": eml}
    )
    del written
    return PreviewReport(edition, out / "digest.html", out / "digest.txt", out / "digest.eml")


def list_id(settings: Settings) -> str:
    slug = content.slugify(settings.site.title)
    domain = _domain(settings.email.from_address)
    return f"{content.header_safe(settings.site.title)} <{slug}.{domain}>"


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"
