"""The site's HTML: the front page (index.html) and, with ``pages.enabled``, one page per
article at the path its link names.

A page is rendered again only when what it shows may have changed. ``.pages.stamps`` in the
output folder (never served: a dot file) lists the pages the last build wrote, each with its
stamp (its article's content hash, updated date and category), under a header holding a
fingerprint of everything else on them (the templates, the site's settings, the feeds they
link to) and the store's digest of all the stamps. When the fingerprint and the digest are
the same, nothing changed and no article is read, whatever the archive's size; else the
stamps are compared one by one, the changed pages rendered and the removed articles' pages
deleted. The manifest is written last, after every page: a killed build is redone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from syndicate.config import Settings
from syndicate.feeds import FeedLink
from syndicate.feeds.pages import INDEX, CategoryFeeds, PageRenderer, SitePage, page_path
from syndicate.feeds.publish import plain_path
from syndicate.models import Article
from syndicate.resources import package_dir, page_templates
from syndicate.store import Store

MANIFEST = ".pages.stamps"  # not named .json, which would make it a feed to WebSub
PAGE_END = "/" + INDEX  # every page's path; the manifest names nothing else to delete


@dataclass(frozen=True, slots=True)
class Manifest:
    """What ``.pages.stamps`` says of the pages on disk."""

    fingerprint: str = ""
    digest: str = ""
    pages: dict[str, str] = field(default_factory=dict)  # path -> stamp

    def encode(self) -> bytes:
        header = json.dumps({"fingerprint": self.fingerprint, "digest": self.digest})
        lines = [header, *(f"{path}\t{stamp}" for path, stamp in sorted(self.pages.items()))]
        return "\n".join(lines).encode("utf-8") + b"\n"


@dataclass
class SitePages:
    """A build's HTML: ``files`` to write, then ``removed`` pages to delete, then the
    ``manifest`` (None: leave it as it is) — in that order."""

    files: dict[str, bytes]
    removed: list[str] = field(default_factory=list)
    manifest: bytes | None = None


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
            timezone=site.zone,
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
            built.removed = [*sorted(read_manifest(output).pages), MANIFEST]
        return built
    fingerprint = _fingerprint(settings, site_feeds, by_category)
    held = read_manifest(output, header_only=True)
    same_look = held.fingerprint == fingerprint
    stamps = store.page_stamps(now, held.digest if same_look else None)
    if stamps.rows is None:
        return built
    held = read_manifest(output)
    current: dict[str, str] = {}
    stale: list[str] = []
    for guid, link, stamp in stamps.rows:
        path = page_path(settings.site.url, link)
        if path is None or path in current:
            continue
        current[path] = stamp
        if not same_look or held.pages.get(path) != stamp:
            stale.append(guid)
    for article in store.articles_by_guid(stale):
        path = page_path(settings.site.url, article.link)
        if path is not None:
            category_feeds = by_category.get(article.category, ())
            built.files[path] = pages.article(article, site_feeds, category_feeds)
    built.removed = sorted(held.pages.keys() - current.keys())
    built.manifest = Manifest(fingerprint, stamps.digest, current).encode()
    return built


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


def read_manifest(output: Path, *, header_only: bool = False) -> Manifest:
    """The manifest on disk (without its pages: only the header line is read); an empty one
    if it is missing or unreadable (every page is then rendered, none is known to delete)."""
    try:
        with (output / MANIFEST).open(encoding="utf-8") as handle:
            head = json.loads(handle.readline())
            lines = [] if header_only else handle.read().splitlines()
        pages = dict(line.split("\t", 1) for line in lines)
        pages = {p: stamp for p, stamp in pages.items() if p.endswith(PAGE_END) and plain_path(p)}
        return Manifest(str(head["fingerprint"]), str(head["digest"]), pages)
    except (OSError, ValueError, KeyError, TypeError):
        return Manifest()
