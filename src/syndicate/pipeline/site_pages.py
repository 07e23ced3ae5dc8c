"""The site's HTML: the front page (index.html) and, with ``pages.enabled``, one page per
article at the path its link names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from syndicate.config import Settings
from syndicate.feeds import FeedLink
from syndicate.feeds.pages import INDEX, CategoryFeeds, PageRenderer, SitePage, page_path
from syndicate.models import Article
from syndicate.resources import package_dir, page_templates
from syndicate.store import Store

EVERY_ARTICLE = 10**9  # a limit no archive reaches


def template_dirs(settings: Settings) -> list[Path]:
    """The site's own templates/pages first, the defaults, then the web front's stylesheet
    (the pages inline it)."""
    dirs = [
        settings.root / "templates" / "pages",
        page_templates(),
        package_dir("syndicate.web", "static"),
    ]
    return [d for d in dict.fromkeys(dirs) if d.is_dir()]


def renderer(settings: Settings) -> PageRenderer:
    site = settings.site
    return PageRenderer(
        template_dirs(settings),
        SitePage(
            title=site.title,
            url=site.url,
            web_url=settings.web_url,
            language=site.language,
            timezone=ZoneInfo(site.timezone),
            description=site.description,
            postal_lines=tuple(site.postal_address.splitlines()),
        ),
    )


def absolute(settings: Settings, links: Sequence[FeedLink]) -> tuple[FeedLink, ...]:
    return tuple(FeedLink(f.title, settings.site.url + f.href, f.media_type) for f in links)


def site_pages(
    settings: Settings,
    store: Store,
    now: datetime,
    latest: Sequence[Article],
    feeds: Sequence[FeedLink],
    categories: Mapping[str, Sequence[FeedLink]],
) -> dict[str, bytes]:
    """index.html, and every visible article's page when the site writes them. ``feeds``
    and ``categories`` (name → its feeds) link to the feeds, relative to the output root."""
    pages = renderer(settings)
    site_feeds = absolute(settings, feeds)
    by_category = {name: absolute(settings, links) for name, links in categories.items()}
    listed = [CategoryFeeds(name, links) for name, links in by_category.items()]
    files = {INDEX: pages.front(latest, site_feeds, listed)}
    if not settings.pages.enabled:
        return files
    for article in store.latest_articles(EVERY_ARTICLE, now):
        path = page_path(settings.site.url, article.link)
        if path is not None and path not in files:
            category_feeds = by_category.get(article.category, ())
            files[path] = pages.article(article, site_feeds, category_feeds)
    return files
