"""Sources: where articles come from. Parsing is pure; merging observations is pure."""

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
    "FileStat",
    "ParseError",
    "merge_article",
    "parse_date",
    "parse_file",
    "scan_folder",
]
