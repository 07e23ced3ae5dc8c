"""The site's HTML: the front page (index.html) and, with ``pages.enabled``, one page per
article at the path its link names.

A page is rendered again only when what it shows may have changed: ``.pages.stamps`` in the
output folder (never served: a dot file) keeps each page's stamp (its article's content hash,
updated date and category) and a fingerprint of everything else on it (the templates, the
site's settings, the feeds it links to). A build of an unchanged store reads no article body.
"""

from __future__ import annotations

import hashlib
import json
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

MANIFEST = ".pages.stamps"  # JSON; not named .json, which would make it a feed to WebSub


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
    output = settings.path(settings.feeds.output_dir)
    fingerprint = _fingerprint(settings, site_feeds, by_category)
    held = _manifest(output, fingerprint)
    stamps: dict[str, str] = {}
    stale: list[str] = []
    for guid, link, stamp in store.page_stamps(now):
        path = page_path(settings.site.url, link)
        if path is None or path in stamps:
            continue
        stamps[path] = stamp
        if held.get(path) != stamp or not (output / path).is_file():
            stale.append(guid)
    for article in store.articles_by_guid(stale):
        path = page_path(settings.site.url, article.link)
        if path is not None:
            category_feeds = by_category.get(article.category, ())
            files[path] = pages.article(article, site_feeds, category_feeds)
    manifest = {"fingerprint": fingerprint, "pages": dict(sorted(stamps.items()))}
    files[MANIFEST] = json.dumps(manifest, indent=0, ensure_ascii=False).encode() + b"\n"
    return files


def _fingerprint(
    settings: Settings, feeds: Sequence[FeedLink], by_category: Mapping[str, Sequence[FeedLink]]
) -> str:
    digest = hashlib.sha256(settings.site.model_dump_json().encode() + settings.web_url.encode())
    digest.update(repr((tuple(feeds), sorted(by_category.items()))).encode())
    for folder in template_dirs(settings):
        for path in sorted(folder.iterdir()):
            if path.is_file():
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _manifest(output: Path, fingerprint: str) -> dict[str, str]:
    """The stamps of the pages on disk, if they were made with this fingerprint."""
    try:
        held = json.loads((output / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(held, dict) or held.get("fingerprint") != fingerprint:
        return {}
    pages = held.get("pages")
    return {str(k): str(v) for k, v in pages.items()} if isinstance(pages, dict) else {}
