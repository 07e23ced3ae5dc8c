"""The site's HTML: the front page (index.html) and, with ``pages.enabled``, one page per
article at the path its link names.

A page is rendered again only when what it shows may have changed. ``.pages.stamps`` in the
output folder (never served: a dot file) lists the pages the last build wrote, each with its
article's guid and stamp (content hash, updated date and category), under a header holding a
fingerprint of everything else on them (the templates, the site's settings, the feeds they
link to), the store's change mark the build read and its now. With the same fingerprint and
a mark of this store, only the articles written since and those the clock made due (or, set
back, hid) are read: when there are none, nothing else is; else only the pages of those
articles' old and new paths are decided again (a path's page is the first stored visible
article's with that link). Without either, every visible article's stamp is compared. The
manifest is written last, after every page and deletion: a killed build is redone. A build
that decided a few pages again writes only those (syndicate.pipeline.page_manifest).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from syndicate.config import Settings
from syndicate.feeds import FeedLink
from syndicate.feeds.pages import CategoryFeeds, PageRenderer, SitePage, page_path
from syndicate.feeds.publish import INDEX
from syndicate.models import Article
from syndicate.pipeline.page_manifest import (
    DELTA,
    MANIFEST,
    Header,
    Held,
    HeldPages,
    Manifest,
    ManifestWrite,
    held_pages,
    read_header,
    read_manifest,
    whole,
)
from syndicate.resources import package_dir, page_templates
from syndicate.store.build_reads import ArticleSource, PageRow

# More articles changed than this since the last build: one comparison of every stamp.
FULL_COMPARISON_AFTER = 5_000


@dataclass
class SitePages:
    """A build's HTML: ``files`` to write, then ``removed`` pages to delete, then the
    ``manifest`` (None: leave it as it is) — in that order. ``changed``: the articles whose
    pages were decided again, read past the last build's mark (None: every page was
    compared, or pages are off — nothing is known of what changed)."""

    files: dict[str, bytes]
    removed: list[str] = field(default_factory=list)
    manifest: ManifestWrite | None = None
    changed: list[PageRow] | None = None


def template_dirs(settings: Settings) -> list[Path]:
    """The site's own templates/pages first, the defaults, then the web front's stylesheet
    (the pages inline it)."""
    dirs = [
        settings.root / "templates" / "pages",
        page_templates(),
        package_dir("syndicate.web", "static"),
    ]
    return [d for d in dict.fromkeys(dirs) if d.is_dir()]


TEMPLATE_CACHE = "var/cache/templates"


def template_cache(settings: Settings) -> Path | None:
    """The folder that keeps the page templates compiled between runs (compiling them is
    ~20 ms of each build that renders a page); None when it cannot be written."""
    folder = settings.path(TEMPLATE_CACHE)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK | os.X_OK) else None


def renderer(settings: Settings) -> PageRenderer:
    site = settings.site
    return PageRenderer(
        template_dirs(settings),
        SitePage(
            title=site.title,
            url=site.url,
            web_url=settings.web_url,
            language=site.language,
            timezone=site.zone,
            description=site.description,
            postal_lines=tuple(site.postal_address.splitlines()),
        ),
        template_cache(settings),
    )


def absolute(settings: Settings, links: Sequence[FeedLink]) -> tuple[FeedLink, ...]:
    return tuple(FeedLink(f.title, settings.site.url + f.href, f.media_type) for f in links)


def site_pages(
    settings: Settings,
    reads: ArticleSource,
    now: datetime,
    latest: Sequence[Article],
    feeds: Sequence[FeedLink],
    categories: Mapping[str, Sequence[FeedLink]],
) -> SitePages:
    """index.html, and the visible articles' pages that changed when the site writes them.
    ``feeds`` and ``categories`` (name → its feeds) link to the feeds, relative to the
    output root."""
    pages = renderer(settings)
    site_feeds = absolute(settings, feeds)
    by_category = {name: absolute(settings, links) for name, links in categories.items()}
    listed = [CategoryFeeds(name, links) for name, links in by_category.items()]
    built = SitePages({INDEX: pages.front(latest, site_feeds, listed)})
    output = settings.path(settings.feeds.output_dir)
    if not settings.pages.enabled:
        if (output / MANIFEST).exists():  # they were enabled: their pages go
            built.removed = [*sorted(read_manifest(output).pages), DELTA, MANIFEST]
        return built
    fingerprint = pages_fingerprint(settings, feeds, categories)
    header = read_header(output)
    same_look = header.fingerprint == fingerprint
    mark, since = (header.mark, header.built) if same_look else (None, None)
    changes = reads.page_changes(now, mark, since, FULL_COMPARISON_AFTER)
    if not changes.every and not changes.rows:
        built.changed = []
        return built  # nothing changed: no article read, the manifest left as it is
    held = held_pages(output)
    if not changes.every and held is not None:
        new = Header(fingerprint, changes.mark, now)
        owners = _changed_pages(built, settings.site.url, reads, now, held, changes.rows, new)
    else:
        if not changes.every:  # the manifest went in between: every page compared
            changes = reads.page_changes(now, None, None, FULL_COMPARISON_AFTER)
        previous = {} if held is None else held.whole(held.header).pages
        new = Header(fingerprint, changes.mark, now)
        owners = _every_page(built, settings.site.url, previous, same_look, changes.rows, new)
    for article in reads.articles_by_guid(owners):
        path = page_path(settings.site.url, article.link)
        if path is not None and owners[article.guid] == path:
            category_feeds = by_category.get(article.category, ())
            built.files[path] = pages.article(article, site_feeds, category_feeds)
    return built


def _every_page(
    built: SitePages,
    site_url: str,
    previous: Mapping[str, Held],
    same_look: bool,
    rows: Sequence[PageRow],
    new: Header,
) -> dict[str, str]:
    """Every visible article's page compared with the manifest: the first stored of each
    link's articles owns it. Fills ``built``'s removals and manifest; guid → path of the
    pages to render."""
    current: dict[str, Held] = {}
    for row in rows:
        path = page_path(site_url, row.link)
        if path is not None and path not in current:
            current[path] = (row.guid, row.stamp)
    built.removed = sorted(previous.keys() - current.keys())
    built.manifest = whole(Manifest(new.fingerprint, new.mark, new.built, current))
    return {g: p for p, (g, s) in current.items() if not same_look or previous.get(p) != (g, s)}


def _changed_pages(
    built: SitePages,
    site_url: str,
    reads: ArticleSource,
    now: datetime,
    held: HeldPages,
    rows: Sequence[PageRow],
    new: Header,
) -> dict[str, str]:
    """The changed articles' old and new paths decided again (a path no visible article
    has any more loses its page). Fills ``built``; guid → path of the pages to render."""
    affected: set[str] = set()
    for row in rows:
        affected |= held.paths_of(row.guid)
        if row.shown and (path := page_path(site_url, row.link)) is not None:
            affected.add(path)
    links = {site_url + path.removesuffix(INDEX): path for path in affected}
    owners = reads.page_owners(links, now)
    decided: dict[str, Held | None] = {}
    for link, path in links.items():
        owner = owners.get(link)
        decided[path] = None if owner is None else (owner.guid, owner.stamp)
    built.removed = sorted(p for p, h in decided.items() if h is None and held.get(p))
    built.manifest = held.changed(new, decided)
    built.changed = list(rows)
    return {h[0]: p for p, h in decided.items() if h is not None and held.get(p) != h}


def pages_fingerprint(
    settings: Settings, links: Sequence[FeedLink], categories: Mapping[str, Sequence[FeedLink]]
) -> str:
    """What the pages are made of besides their articles: the site's settings, the feeds
    they link to (``links``, ``categories``: relative, as site_pages takes them) and the
    templates."""
    feeds = absolute(settings, links)
    by_category = {name: absolute(settings, theirs) for name, theirs in categories.items()}
    digest = hashlib.sha256(settings.site.model_dump_json().encode() + settings.web_url.encode())
    digest.update(repr((tuple(feeds), sorted(by_category.items()))).encode())
    for folder in template_dirs(settings):
        for path in sorted(folder.iterdir()):
            if path.is_file():
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
