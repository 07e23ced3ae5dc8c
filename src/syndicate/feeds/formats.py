"""The feed formats by name (``feeds.formats``): what each is called, its file and media
type, and its writer (format-neutral FeedData → the file's bytes).

A new format is one module with a ``FeedFormat`` and one line in
``syndicate.registry.FEED_FORMATS`` (or ``FEED_FORMATS.register(name, kind)`` from a plug-in).
The built-in writers import their library only when they write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from syndicate.feeds.data import FeedData
from syndicate.feeds.options import SLUG
from syndicate.registry import FEED_FORMATS


@dataclass(frozen=True, slots=True)
class FeedFormat:
    name: str
    label: str  # in the feed's link title: "My site (RSS)"
    file_name: str  # in the output root, and in each category's folder
    media_type: str
    write: Callable[[FeedData], bytes]
    xml: bool = False  # an XML document: it names the XSLT a browser shows it with


def feed_format(name: str) -> FeedFormat:
    """The format ``name`` (ConfigError naming feeds.formats when there is none)."""
    kind = FEED_FORMATS.get(name)
    if not isinstance(kind, FeedFormat):
        raise TypeError(f"feed format {name!r} is a {type(kind).__name__}, not a FeedFormat")
    return kind


def all_formats() -> list[FeedFormat]:
    return [feed_format(name) for name in FEED_FORMATS.names()]


def feed_paths(category_slug: str | None, names: Iterable[str] | None = None) -> dict[str, str]:
    """Format → path relative to the output root: the site's, or one category's (every
    known format, or those of ``names``)."""
    formats = all_formats() if names is None else [feed_format(name) for name in names]
    if category_slug is None:
        return {f.name: f.file_name for f in formats}
    if not SLUG.fullmatch(category_slug):
        raise ValueError(f"category slug {category_slug!r}: only letters, digits, '-', '_', '.'")
    return {f.name: f"category/{category_slug}/{f.file_name}" for f in formats}


def _rss(feed: FeedData) -> bytes:
    from syndicate.feeds.xml import rss_document

    return rss_document(feed)


def _atom(feed: FeedData) -> bytes:
    from syndicate.feeds.xml import atom_document

    return atom_document(feed)


def _json(feed: FeedData) -> bytes:
    from syndicate.feeds.jsonfeed import json_feed

    return json_feed(feed)


RSS = FeedFormat("rss", "RSS", "rss.xml", "application/rss+xml", _rss, xml=True)
ATOM = FeedFormat("atom", "Atom", "atom.xml", "application/atom+xml", _atom, xml=True)
JSON_FEED = FeedFormat("json", "JSON Feed", "feed.json", "application/feed+json", _json)
