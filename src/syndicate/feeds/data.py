"""Articles → the cleaned, format-neutral data every feed format is written from."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from syndicate.content import absolute_html, one_line, strip_control
from syndicate.feeds.options import FeedOptions
from syndicate.models import Article, Enclosure

EMPTY_FEED_DATE = datetime(1970, 1, 1, tzinfo=UTC)  # an empty feed's "updated": never "now"
UNTITLED = "Untitled"
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"
_PLAIN_URL = re.compile(r"https?://[\w.~-][\w\-.~:/?#\[\]@!$&'()*+,;=%]+", re.ASCII)


@dataclass(frozen=True, slots=True)
class FeedItem:
    id: str
    url: str
    title: str
    summary: str  # plain text
    content_html: str  # sanitized HTML; "" for a teaser or a summary-only feed
    published: datetime
    updated: datetime
    author: str
    categories: tuple[str, ...]  # the article's category, then its tags
    enclosures: tuple[Enclosure, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedData:
    title: str
    home_url: str
    description: str
    language: str
    author: str  # never empty: every Atom entry needs an author, here or its own
    updated: datetime
    hub: str | None
    urls: Mapping[str, str]  # format → the feed's own absolute URL
    items: tuple[FeedItem, ...]
    # What writers of several formats share (RSS and Atom: one feedgen generator).
    scratch: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def feed_date(value: datetime, what: str) -> datetime:
    """A date every format can state exactly: zoned, whole seconds, whole-minute offset."""
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"{what}: date {value.isoformat()} has no time zone")
    value = value.replace(microsecond=0)
    if offset % timedelta(minutes=1):
        value = value.astimezone(UTC)
    return value


def _absolute_url(site_url: str, link: str, slug: str) -> str:
    """The article's absolute http(s) URL; anything else falls back to site URL + slug."""
    if _PLAIN_URL.fullmatch(link):
        return link
    url = urljoin(site_url, quote(one_line(link), safe=_URL_SAFE))
    parts = urlsplit(url)
    if link.strip() and parts.scheme in ("http", "https") and parts.netloc:
        return url
    return urljoin(site_url, quote(one_line(slug), safe=""))


def _item(article: Article, options: FeedOptions) -> FeedItem:
    url = _absolute_url(options.site_url, article.link, article.slug)
    what = f"article {article.guid or url}"
    published = feed_date(article.published, what)
    content = (
        absolute_html(strip_control(article.content), url) if options.content == "full" else ""
    )
    return FeedItem(
        id=one_line(article.guid) or url,
        url=url,
        title=one_line(article.title) or UNTITLED,
        summary=strip_control(article.summary).strip(),
        content_html=content if content.strip() else "",
        published=published,
        updated=feed_date(article.updated, what) if article.updated else published,
        author=one_line(article.author),
        categories=categories(article),
        enclosures=tuple(e for e in article.enclosures if _PLAIN_URL.fullmatch(e.url)),
    )


def categories(article: Article) -> tuple[str, ...]:
    """The category and every tag, once each (regardless of case), none blank."""
    seen: dict[str, str] = {}
    for name in (article.category, *article.tags):
        clean = one_line(name)
        if clean and clean.casefold() not in seen:
            seen[clean.casefold()] = clean
    return tuple(seen.values())


def _unique(items: Iterator[FeedItem]) -> tuple[FeedItem, ...]:
    """The items with distinct ids (a repeated id keeps its newest item). How many: the
    caller's query read ``feeds.items`` rows, the one cut."""
    seen: set[str] = set()
    kept: list[FeedItem] = []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            kept.append(item)
    return tuple(kept)


def prepare(
    articles: Sequence[Article],
    options: FeedOptions,
    *,
    title_suffix: str,
    urls: Mapping[str, str],
) -> FeedData:
    items = _unique(_item(a, options) for a in articles)
    site_title = one_line(options.site_title) or UNTITLED
    suffix = one_line(title_suffix)
    return FeedData(
        title=f"{site_title}: {suffix}" if suffix else site_title,
        home_url=options.site_url,
        description=one_line(options.description) or site_title,
        language=one_line(options.language),
        author=one_line(options.author) or site_title,
        updated=max((i.updated for i in items), default=EMPTY_FEED_DATE),
        hub=options.hub,
        urls=urls,
        items=items,
    )
