"""One feed set: articles → {relative path: file bytes} in the requested formats."""

from __future__ import annotations

from collections.abc import Sequence

from syndicate.feeds.data import prepare
from syndicate.feeds.formats import feed_format, feed_paths
from syndicate.feeds.options import FeedOptions
from syndicate.models import Article


def build_feeds(
    articles: Sequence[Article],
    options: FeedOptions,
    *,
    title_suffix: str = "",
    category_slug: str | None = None,
) -> dict[str, bytes]:
    """The feed set of the site (or of one category when ``category_slug`` is given).

    ``articles`` come newest first, as many as the feed holds (the query read
    ``options.items`` of them); each guid once.
    ``title_suffix`` (e.g. the category's name) follows the site title after ": ".
    The output depends only on the input: "updated" is the newest article date, never now.
    """
    formats = [feed_format(name) for name in options.formats]
    paths = feed_paths(category_slug, options.formats)
    urls = {fmt: options.feed_base_url + path for fmt, path in paths.items()}
    feed = prepare(articles, options, title_suffix=title_suffix, urls=urls)
    files: dict[str, bytes] = {}
    for fmt in formats:
        document = fmt.write(feed)
        if options.stylesheet and fmt.xml:
            up = "../" * paths[fmt.name].count("/")
            document = with_stylesheet(document, up + options.stylesheet)
        files[paths[fmt.name]] = document
    return files


def feed_code() -> str:
    """What made the feeds besides their input: syndicate's and feedgen's versions."""
    import feedgen.version

    import syndicate

    return f"syndicate {syndicate.__version__}, feedgen {feedgen.version.version_str}"


_DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"


def with_stylesheet(document: bytes, href: str) -> bytes:
    """The XML document with an <?xml-stylesheet?> (XSLT) right after its declaration."""
    if not document.startswith(_DECLARATION):
        raise ValueError("with_stylesheet: the document does not start with feedgen's declaration")
    instruction = f'<?xml-stylesheet type="text/xsl" href="{href}"?>\n'.encode()
    return _DECLARATION + instruction + document[len(_DECLARATION) :]
