"""Sources: where articles come from. Parsing is pure; merging observations is pure."""

from syndicate.sources.feed import FeedEntry, ParsedFeed, parse_feed, read_feed
from syndicate.sources.folder import (
    ARTICLE_SUFFIXES,
    FileStat,
    ParseError,
    parse_date,
    parse_file,
    scan_folder,
)
from syndicate.sources.merge import merge_article

__all__ = [
    "ARTICLE_SUFFIXES",
    "FeedEntry",
    "FileStat",
    "ParseError",
    "ParsedFeed",
    "merge_article",
    "parse_date",
    "parse_feed",
    "parse_file",
    "read_feed",
    "scan_folder",
]
