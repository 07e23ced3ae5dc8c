"""Sources: where articles come from. Parsing is pure; merging observations is pure."""

from typing import TYPE_CHECKING

from syndicate.lazy import LazyNames

if TYPE_CHECKING:  # each name is imported when first used (syndicate.lazy)
    from syndicate.sources.feed import FeedEntry, ParsedFeed, read_feed
    from syndicate.sources.folder import ParseError, parse_date, parse_file
    from syndicate.sources.folder_scan import ARTICLE_SUFFIXES, FileStat, Scan, scan_folder
    from syndicate.sources.merge import MergeOptions, merge_article, merge_source

__getattr__ = LazyNames(__name__, __file__)

__all__ = [
    "ARTICLE_SUFFIXES",
    "FeedEntry",
    "FileStat",
    "MergeOptions",
    "ParseError",
    "ParsedFeed",
    "Scan",
    "merge_article",
    "merge_source",
    "parse_date",
    "parse_file",
    "read_feed",
    "scan_folder",
]
