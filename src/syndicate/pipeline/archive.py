"""The digest archive: past editions as web pages and as an Atom feed, with nobody's data.

An edition is in the archive once its send has started (``store.send_started``): a week
that was only prepared or previewed is not public yet. The pages show the stored edition
(the articles as they are now in the store, in the order they were sent); the "as mailed"
copy is the digest rendered for every category with neutral values in place of the
per-recipient ones: "Hi there", and links to the web front's pages instead of signed links.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from syndicate import content
from syndicate.config import Settings
from syndicate.digest.announcement import (
    PREFIX,
    announcement_label,
    is_announcement,
    render_announcement,
)
from syndicate.digest.render import Headline, headline, personalize, render_edition, week_label
from syndicate.digest.select import parse_week
from syndicate.feeds import FEED_MEDIA_TYPES
from syndicate.feeds.data import prepare
from syndicate.feeds.options import FeedOptions
from syndicate.feeds.xml import xml_feeds
from syndicate.models import Announcement, Article, Edition
from syndicate.pipeline.edition import site_view, template_source
from syndicate.store import Store

ARCHIVE_PAGE = "archive/"
ANNOUNCEMENT = PREFIX.rstrip(":")
ARCHIVE_FEED = "archive/feed.xml"
FEED_EDITIONS = 20  # the newest editions in the archive feed
ATOM_MEDIA_TYPE = FEED_MEDIA_TYPES["atom"]


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    week: str  # the edition key
    label: str  # "Week 47 · November 16 – 22, 2026", "Announcement · December 2, 2026"
    created_at: datetime
    count: int  # articles
    url: str  # absolute
    path: str = ""  # its folder under /archive/: the key, an announcement's without ":"


@dataclass(frozen=True, slots=True)
class ArchivedEdition:
    entry: ArchiveEntry
    subject: str
    intro: str
    headlines: tuple[Headline, ...]
    edition: Edition
    announcement: Announcement | None = None  # issue 10: a one-off message, no headlines
    body: str = ""  # the announcement's sanitized HTML


def archive_url(settings: Settings, week: str | None = None) -> str:
    return f"{settings.web_url}{ARCHIVE_PAGE}{week + '/' if week else ''}"


def archive_entries(
    settings: Settings, store: Store, limit: int | None = None
) -> list[ArchiveEntry]:
    """The archived editions, newest week first."""
    rows = store.archived_editions()
    return [_entry(settings, *row) for row in rows[:limit]]


def archive_path(key: str) -> str:
    """The edition's folder under /archive/: an announcement's key without its colon."""
    return key.replace(":", "-", 1) if is_announcement(key) else key


def archived_edition(settings: Settings, store: Store, week: str) -> ArchivedEdition | None:
    """One archived edition by its archive path, or None (no such edition, not sent yet)."""
    announced = f"{ANNOUNCEMENT}:"
    if week.startswith(f"{ANNOUNCEMENT}-"):
        return _archived_announcement(settings, store, announced + week.partition("-")[2])
    try:
        parse_week(week)
    except ValueError:
        return None
    if not store.send_started(week):
        return None
    edition = store.get_edition(week)
    if edition is None:
        return None
    site = site_view(settings)
    headlines = tuple(headline(article, site) for article in edition.articles)
    count = len(headlines)
    entry = _entry(settings, week, edition.created_at, count)
    noun = "article" if count == 1 else "articles"
    intro = f"{count} new {noun} from {content.header_safe(settings.site.title)} that week."
    subject = content.header_safe(edition.subject) or entry.label
    return ArchivedEdition(entry, subject, intro, headlines, edition)


def _archived_announcement(settings: Settings, store: Store, key: str) -> ArchivedEdition | None:
    item = store.get_announcement(key) if store.send_started(key) else None
    if item is None:
        return None
    entry = _entry(settings, key, item.created_at, 0)
    edition = Edition(key, item.created_at, (), item.subject)
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
        rendered = render_edition(edition, site=site, templates=templates)
    return personalize(rendered, archive_substitutions(settings))


def archive_feed(settings: Settings, store: Store) -> bytes:
    """An Atom feed of the newest archived editions: one entry per edition, its headlines
    as the entry's content."""
    entries = archive_entries(settings, store, FEED_EDITIONS)
    title = content.header_safe(settings.site.title) or "Digest"
    options = FeedOptions(
        site_title=f"{title} — digest archive",
        site_url=archive_url(settings),
        description=f"Every weekly digest of {title}",
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
    return xml_feeds(feed, ("atom",))["atom"]


def _entry(settings: Settings, week: str, created_at: datetime, count: int) -> ArchiveEntry:
    path = archive_path(week)
    return ArchiveEntry(
        week=week,
        label=announcement_label(week) if is_announcement(week) else week_label(week),
        created_at=created_at,
        count=count,
        url=archive_url(settings, path),
        path=path,
    )


def _as_article(settings: Settings, store: Store, entry: ArchiveEntry) -> Article:
    archived = archived_edition(settings, store, entry.path)
    headlines = archived.headlines if archived is not None else ()
    titles = "; ".join(h.title for h in headlines)
    return Article(
        guid=entry.url,
        slug=entry.week,
        title=archived.subject if archived is not None else entry.label,
        link=entry.url,
        published=entry.created_at,
        category="",
        summary=f"{entry.label}: {titles}" if titles else entry.label,
        content=archived.body if archived and archived.body else _headlines_html(headlines),
    )


def _headlines_html(headlines: tuple[Headline, ...]) -> str:
    items = []
    for h in headlines:
        title = html.escape(h.title)
        linked = f'<a href="{html.escape(h.link)}">{title}</a>' if h.link else title
        category = f"{html.escape(h.category)}: " if h.category else ""
        summary = f"<br>{html.escape(h.summary)}" if h.summary else ""
        items.append(f"<li>{category}{linked} ({html.escape(h.date)}){summary}</li>")
    return content.sanitize_html(f"<ul>{''.join(items)}</ul>") if items else ""
