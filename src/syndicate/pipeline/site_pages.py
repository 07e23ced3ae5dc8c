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
manifest is written last, after every page and deletion: a killed build is redone.
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
from syndicate.store.page_rows import Mark, PageRow

MANIFEST = ".pages.stamps"  # not named .json, which would make it a feed to WebSub
PAGE_END = "/" + INDEX  # every page's path; the manifest names nothing else to delete
# More articles changed than this since the last build: one comparison of every stamp.
FULL_COMPARISON_AFTER = 5_000


Held = tuple[str, str]  # a page's (guid, stamp)


@dataclass(frozen=True, slots=True)
class Manifest:
    """What ``.pages.stamps`` says of the pages on disk."""

    fingerprint: str = ""
    mark: Mark | None = None
    built: datetime | None = None
    pages: dict[str, Held] = field(default_factory=dict)  # path -> (guid, stamp)

    def encode(self) -> bytes:
        mark = self.mark or Mark()
        built = self.built.isoformat() if self.built is not None else ""
        header = {"fingerprint": self.fingerprint, "mark": [mark.seq, mark.guid], "built": built}
        lines = [
            json.dumps(header),
            *(f"{p}\t{g}\t{s}" for p, (g, s) in sorted(self.pages.items())),
        ]
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
    if same_look:
        changes = store.page_changes(now, held.mark, held.built, FULL_COMPARISON_AFTER)
    else:
        changes = store.page_changes(now, None, None, FULL_COMPARISON_AFTER)
    if not changes.every and not changes.rows:
        return built  # nothing changed: no article read, the manifest left as it is
    held = read_manifest(output)
    if changes.every:
        current = _every_page(settings.site.url, changes.rows)
    else:
        current = _changed_pages(settings.site.url, store, now, held.pages, changes.rows)
    stale = [
        guid
        for path, (guid, stamp) in current.items()
        if not same_look or held.pages.get(path) != (guid, stamp)
    ]
    for article in store.articles_by_guid(stale):
        path = page_path(settings.site.url, article.link)
        if path is not None and current.get(path, ("",))[0] == article.guid:
            category_feeds = by_category.get(article.category, ())
            built.files[path] = pages.article(article, site_feeds, category_feeds)
    built.removed = sorted(held.pages.keys() - current.keys())
    built.manifest = Manifest(fingerprint, changes.mark, now, current).encode()
    return built


def _every_page(site_url: str, rows: Sequence[PageRow]) -> dict[str, Held]:
    """path → its page's (guid, stamp): the first stored of each link's visible articles."""
    current: dict[str, Held] = {}
    for row in rows:
        path = page_path(site_url, row.link)
        if path is not None and path not in current:
            current[path] = (row.guid, row.stamp)
    return current


def _changed_pages(
    site_url: str, store: Store, now: datetime, held: Mapping[str, Held], rows: Sequence[PageRow]
) -> dict[str, Held]:
    """The held pages with the changed articles' old and new paths decided again."""
    where = {guid: path for path, (guid, _stamp) in held.items()}
    affected: set[str] = set()
    for row in rows:
        if (old := where.get(row.guid)) is not None:
            affected.add(old)
        if row.shown and (new := page_path(site_url, row.link)) is not None:
            affected.add(new)
    links = {site_url + path.removesuffix(INDEX): path for path in affected}
    owners = store.page_owners(links, now)
    current = dict(held)
    for link, path in links.items():
        owner = owners.get(link)
        if owner is None:
            current.pop(path, None)
        else:
            current[path] = (owner.guid, owner.stamp)
    return current


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
    """The manifest on disk (header_only: without its pages); an empty one if it is missing
    or unreadable (every page is then compared, none is known to delete). A manifest from
    before the change marks (``path\tstamp`` lines) has no mark: every page is compared."""
    try:
        with (output / MANIFEST).open(encoding="utf-8") as handle:
            head = json.loads(handle.readline())
            lines = [] if header_only else handle.read().splitlines()
        pages: dict[str, Held] = {}
        for line in lines:
            path, _, rest = line.partition("\t")
            guid, _, stamp = rest.partition("\t") if rest.count("\t") else ("", "", rest)
            if path.endswith(PAGE_END) and plain_path(path):
                pages[path] = (guid, stamp)
        return Manifest(str(head["fingerprint"]), _mark(head), _built(head), pages)
    except (OSError, ValueError, KeyError, TypeError):
        return Manifest()


def _mark(head: dict[str, object]) -> Mark | None:
    match head.get("mark"):
        case [int(seq), str(guid)]:
            return Mark(seq, guid)
    return None


def _built(head: dict[str, object]) -> datetime | None:
    built = head.get("built")
    if not isinstance(built, str) or not built:
        return None
    moment = datetime.fromisoformat(built)
    return moment if moment.tzinfo is not None else None
