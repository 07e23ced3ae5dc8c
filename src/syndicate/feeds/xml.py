"""RSS 2.0 and Atom 1.0 through feedgen (the only place that imports it)."""

from __future__ import annotations

import html
from typing import Any

from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from syndicate.feeds.data import FeedData, FeedItem
from syndicate.feeds.formats import ATOM, RSS
from syndicate.models import Enclosure

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
_EXTENSION = "syndicate"
_ATOM_EXTENSION = "syndicate_atom"
GENERATOR = "syndicate"


class _RssChannelExtras:
    """What feedgen's RSS lacks at channel level: the dc namespace and a WebSub hub link."""

    def __init__(self) -> None:
        self.hub: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"dc": DC_NS}

    def extend_rss(self, rss: Any) -> Any:
        if self.hub:
            xml_elem(f"{{{ATOM_NS}}}link", rss[0], href=self.hub, rel="hub")
        return rss

    def extend_atom(self, feed: Any) -> Any:
        return feed


class _RssItemExtras:
    """dc:creator: RSS's own <author> must be an e-mail address, and we only know names.
    And the item's one <enclosure> (feedgen's would also add an Atom link it writes without
    its rel)."""

    def __init__(self) -> None:
        self.creator = ""
        self.enclosures: tuple[Enclosure, ...] = ()

    def extend_ns(self) -> dict[str, str]:
        return {"dc": DC_NS}

    def extend_rss(self, item: Any) -> Any:
        if self.creator:
            xml_elem(f"{{{DC_NS}}}creator", item).text = self.creator
        if self.enclosures:  # RSS allows one: the first
            first = self.enclosures[0]
            xml_elem("enclosure", item, url=first.url, length=str(first.length), type=first.type)
        return item

    def extend_atom(self, entry: Any) -> Any:
        return entry


class _AtomFeedExtras:
    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_rss(self, rss: Any) -> Any:
        return rss

    def extend_atom(self, feed: Any) -> Any:
        return feed


class _AtomEntryExtras(_AtomFeedExtras):
    """Atom's link rel="enclosure", one per enclosure (feedgen 1.0 writes a link's href only)."""

    def __init__(self) -> None:
        self.enclosures: tuple[Enclosure, ...] = ()

    def extend_atom(self, entry: Any) -> Any:
        for e in self.enclosures:
            attributes = {"href": e.url, "rel": "enclosure", "type": e.type}
            xml_elem("link", entry, **attributes, length=str(e.length))  # as feedgen names them
        return entry


def _add_entry(fg: Any, item: FeedItem) -> None:
    entry = fg.add_entry(order="append")
    entry.guid(item.id, permalink=False)
    entry.title(item.title)
    entry.link(href=item.url)
    if item.content_html:
        entry.content(item.content_html, type="html")
    if item.summary:
        # The summary is plain text: escaped once more, it stays text inside HTML-typed fields.
        entry.summary(html.escape(item.summary, quote=False), type="html")
    entry.published(item.published)
    entry.updated(item.updated)
    if item.author:
        entry.author(name=item.author)
        getattr(entry, _EXTENSION).creator = item.author
    if item.categories:
        entry.category([{"term": name} for name in item.categories])
    getattr(entry, _EXTENSION).enclosures = item.enclosures
    getattr(entry, _ATOM_EXTENSION).enclosures = item.enclosures


def _generator(feed: FeedData) -> Any:
    fg = FeedGenerator()
    fg.register_extension(_EXTENSION, _RssChannelExtras, _RssItemExtras, atom=False, rss=True)
    fg.register_extension(_ATOM_EXTENSION, _AtomFeedExtras, _AtomEntryExtras, atom=True, rss=False)
    getattr(fg, _EXTENSION).hub = feed.hub
    fg.title(feed.title)
    fg.description(feed.description)
    fg.language(feed.language)
    fg.author(name=feed.author)
    fg.generator(GENERATOR)
    fg.updated(feed.updated)
    for item in feed.items:
        _add_entry(fg, item)
    return fg


def _links(feed: FeedData, fmt: str, media_type: str) -> list[dict[str, str]]:
    links = [{"href": feed.urls[fmt], "rel": "self", "type": media_type}]
    if feed.hub and fmt == "atom":
        links.append({"href": feed.hub, "rel": "hub"})
    # feedgen takes the last link as RSS's <link>: the site.
    links.append({"href": feed.home_url, "rel": "alternate", "type": "text/html"})
    return links


def _shared(feed: FeedData) -> Any:
    """The feed's generator, made once for RSS and Atom both (each sets its own links)."""
    if "feedgen" not in feed.scratch:
        feed.scratch["feedgen"] = _generator(feed)
    return feed.scratch["feedgen"]


def rss_document(feed: FeedData) -> bytes:
    fg = _shared(feed)
    fg.link(_links(feed, "rss", RSS.media_type), replace=True)
    document: bytes = fg.rss_str(pretty=True)
    return document


def atom_document(feed: FeedData) -> bytes:
    fg = _shared(feed)
    fg.id(feed.urls["atom"])
    fg.link(_links(feed, "atom", ATOM.media_type), replace=True)
    document: bytes = fg.atom_str(pretty=True)
    return document
