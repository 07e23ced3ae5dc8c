"""Articles → RSS 2.0, Atom 1.0 (feedgen, only here) and JSON Feed 1.1; pages; publish.

Building is pure (bytes out); ``write_atomically`` and ``remove_files`` are the I/O edge.
"""

from typing import TYPE_CHECKING

from syndicate.lazy import LazyNames

if TYPE_CHECKING:  # each name is imported when first used (syndicate.lazy)
    from syndicate.feeds.build import build_feeds, feed_code
    from syndicate.feeds.formats import FeedFormat, all_formats, feed_format, feed_paths
    from syndicate.feeds.options import FeedLink, FeedOptions
    from syndicate.feeds.publish import WriteReport, remove_files, write_atomically

__getattr__ = LazyNames(__name__, __file__)

__all__ = [
    "FeedFormat",
    "FeedLink",
    "FeedOptions",
    "WriteReport",
    "all_formats",
    "build_feeds",
    "feed_code",
    "feed_format",
    "feed_paths",
    "remove_files",
    "write_atomically",
]
