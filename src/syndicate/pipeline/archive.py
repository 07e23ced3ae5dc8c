"""The digest archive: past editions as web pages and as an Atom feed, with nobody's data.

An edition is in the archive once its send has started (``store.send_started``): one that
was only previewed is not public yet. A weekly edition is at ``/archive/2026-W47/`` (as
before cadences), others at ``/archive/daily-2026-11-23/`` and ``/archive/monthly-2026-11/``.
The pages show the stored edition (the articles as they are now in the store, in the order
they were sent); the "as mailed" copy is the digest rendered for every category with
neutral values in place of the per-recipient ones: "Hi there", and links to the web front's
pages instead of signed links.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from syndicate import content
from syndicate.config import Settings
from syndicate.digest.announcement import (
    PREFIX,
    announcement_label,
    render_announcement,
)
from syndicate.digest.periods import archive_slug, parse_key, parse_slug
from syndicate.digest.render import (
    Headline,
    headline,
    headlines_html,
    personalize,
    render_edition,
)
from syndicate.feeds.data import prepare
from syndicate.feeds.formats import ATOM
from syndicate.feeds.options import FeedOptions
from syndicate.models import Announcement, Article, Edition, is_announcement
from syndicate.pipeline.edition import site_view, template_source
from syndicate.store import Store

ARCHIVE_PAGE = "archive/"
ANNOUNCEMENT = PREFIX.rstrip(":")
ARCHIVE_FEED = "archive/feed.xml"
FEED_EDITIONS = 20  # the newest editions in the archive feed
ATOM_MEDIA_TYPE = ATOM.media_type


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    week: str  # the edition key: "weekly:2026-W47", "announcement:2026-12-02-news"
    label: str  # "Week 47 · November 16 – 22, 2026", "Announcement · December 2, 2026"
    created_at: datetime
    count: int  # articles
    url: str  # absolute
    path: str  # its folder under /archive/: "2026-W47" (weeks, as always), "daily-2026-11-23"

    @property
    def is_announcement(self) -> bool:
        return is_announcement(self.week)


@dataclass(frozen=True, slots=True)
class ArchivedEdition:
    entry: ArchiveEntry
    subject: str
    intro: str
    headlines: tuple[Headline, ...]
    edition: Edition
    announcement: Announcement | None = None  # a one-off message, no headlines
    body: str = ""  # the announcement's sanitized HTML


def archive_url(settings: Settings, week: str | None = None) -> str:
    return f"{settings.web_url}{ARCHIVE_PAGE}{week + '/' if week else ''}"


def archive_entries(
    settings: Settings, store: Store, limit: int | None = None
) -> list[ArchiveEntry]:
    """The archived editions, newest first."""
    rows = store.archived_editions()
    return [_entry(settings, *row) for row in rows[:limit]]


def archived_edition(settings: Settings, store: Store, slug: str) -> ArchivedEdition | None:
    """One archived edition by its archive name (``2026-W47``, ``daily-2026-11-23``), or None
    (no such edition, not sent yet, or not a name at all). An announcement's name is its key
    without the colon (``announcement-2026-12-02-news``)."""
    if slug.startswith(f"{ANNOUNCEMENT}-"):
        return _archived_announcement(settings, store, PREFIX + slug.partition("-")[2])
    try:
        period = parse_slug(slug)
    except ValueError:
        return None
    if not store.send_started(period.key):
        return None
    edition = store.get_edition(period.key)
    if edition is None:
        return None
    site = site_view(settings)
    headlines = tuple(headline(article, site) for article in edition.articles)
    count = len(headlines)
    entry = _entry(settings, period.key, edition.created_at, count)
    noun = "article" if count == 1 else "articles"
    title = content.header_safe(settings.site.title)
    intro = f"{count} new {noun} from {title} {period.phrase}."
    subject = content.header_safe(edition.subject) or entry.label
    return ArchivedEdition(entry, subject, intro, headlines, edition)


def _archived_announcement(settings: Settings, store: Store, key: str) -> ArchivedEdition | None:
    item = store.get_announcement(key) if store.send_started(key) else None
    if item is None:
        return None
    entry = _entry(settings, key, item.created_at, 0)
    # An announcement is an edition of no cadence: the ledger's row for it says weekly.
    edition = Edition(key, "weekly", "", item.created_at, (), item.subject)
    subject = content.header_safe(item.subject)
    intro = content.header_safe(item.preheader)
    return ArchivedEdition(entry, subject, intro, (), edition, item, item.html)


def archive_substitutions(settings: Settings) -> Mapping[str, str]:
    """The per-recipient placeholders filled for nobody in particular."""
    return {
        "name": "",
        "unsubscribe_url": f"{settings.web_url}unsubscribe",
        "preferences_url": f"{settings.web_url}subscribe",
    }


def archive_email(
    settings: Settings, edition: Edition, announcement: Announcement | None = None
) -> tuple[str, str]:
    """(html, text) of the digest (or the announcement) as mailed for every category, with
    neutral values."""
    site, templates = site_view(settings), template_source(settings)
    if announcement is not None:
        rendered = render_announcement(announcement, site=site, templates=templates)
    else:
        rendered = render_edition(
            edition, site=site, templates=templates, subject=settings.digest.subject
        )
    return personalize(rendered, archive_substitutions(settings))


def archive_feed(settings: Settings, store: Store) -> bytes:
    """An Atom feed of the newest archived editions: one entry per edition, its headlines
    as the entry's content."""
    entries = archive_entries(settings, store, FEED_EDITIONS)
    title = content.header_safe(settings.site.title) or "Digest"
    options = FeedOptions(
        site_title=f"{title} — digest archive",
        site_url=archive_url(settings),
        description=f"Every digest of {title}",
        language=settings.site.language,
        author=settings.site.author or title,
        items=max(1, len(entries)),
        content="full",
        formats=("atom",),
    )
    articles = [_as_article(settings, store, entry) for entry in entries]
    feed = prepare(
        articles, options, title_suffix="", urls={"atom": settings.web_url + ARCHIVE_FEED}
    )
    return ATOM.write(feed)


def _entry(settings: Settings, key: str, created_at: datetime, count: int) -> ArchiveEntry:
    if is_announcement(key):
        path, label = key.replace(":", "-", 1), announcement_label(key)
    else:
        period = parse_key(key)
        path, label = archive_slug(period), period.label
        if period.cadence != "weekly":
            label = f"{period.cadence.title()}: {label}"
    url = archive_url(settings, path)
    return ArchiveEntry(
        week=key, label=label, created_at=created_at, count=count, url=url, path=path
    )


def _as_article(settings: Settings, store: Store, entry: ArchiveEntry) -> Article:
    archived = archived_edition(settings, store, entry.path)
    headlines = archived.headlines if archived is not None else ()
    titles = "; ".join(h.title for h in headlines)
    return Article(
        guid=entry.url,
        slug=entry.path,
        title=archived.subject if archived is not None else entry.label,
        link=entry.url,
        published=entry.created_at,
        category="",
        summary=f"{entry.label}: {titles}" if titles else entry.label,
        content=archived.body if archived and archived.body else headlines_html(headlines),
    )
