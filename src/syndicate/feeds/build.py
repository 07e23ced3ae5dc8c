"""One feed set: articles → {relative path: file bytes} in the requested formats."""

from __future__ import annotations

from collections.abc import Sequence

from syndicate.feeds.data import prepare
from syndicate.feeds.jsonfeed import json_feed
from syndicate.feeds.options import FeedOptions, feed_paths
from syndicate.feeds.xml import xml_feeds
from syndicate.models import Article


def build_feeds(
    articles: Sequence[Article],
    options: FeedOptions,
    *,
    title_suffix: str = "",
    category_slug: str | None = None,
) -> dict[str, bytes]:
    """The feed set of the site (or of one category when ``category_slug`` is given).

    ``articles`` come newest first; the first ``options.items`` distinct ones are used.
    ``title_suffix`` (e.g. the category's name) follows the site title after ": ".
    The output depends only on the input: "updated" is the newest article date, never now.
    """
    paths = feed_paths(category_slug)
    urls = {fmt: options.feed_base_url + path for fmt, path in paths.items()}
    feed = prepare(articles, options, title_suffix=title_suffix, urls=urls)
    files = xml_feeds(feed, options.formats)
    if options.stylesheet:
        for fmt in files:  # only RSS and Atom so far
            up = "../" * paths[fmt].count("/")
            files[fmt] = with_stylesheet(files[fmt], up + options.stylesheet)
    if "json" in options.formats:
        files["json"] = json_feed(feed)
    return {paths[fmt]: files[fmt] for fmt in options.formats}


_DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"


def with_stylesheet(document: bytes, href: str) -> bytes:
    """The XML document with an <?xml-stylesheet?> (XSLT) right after its declaration."""
    if not document.startswith(_DECLARATION):
        raise ValueError("with_stylesheet: the document does not start with feedgen's declaration")
    instruction = f'<?xml-stylesheet type="text/xsl" href="{href}"?>\n'.encode()
    return _DECLARATION + instruction + document[len(_DECLARATION) :]
