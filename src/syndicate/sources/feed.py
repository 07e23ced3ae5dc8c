"""The feed source: RSS, Atom (feedparser) and JSON Feed. Parsing is pure: bytes in,
observations out; fetching them is the pipeline's business.

Each entry becomes one observation keyed by its guid, else its link, else a hash of its
title and date: entries of one title are distinct articles, and a title never merges an
entry with another source's article:

- HTML (content, else the summary/description) is sanitized with nh3; plain text escaped;
- the category is the entry's first category/tag; none leaves it to the keyword rules and
  then the source's default (merge_article);
- the date is the entry's published date, else its updated date, zone kept (a date with no
  zone is taken in ``tz``). An entry with neither gets the date it was first seen (a date
  borrowed from the feed would change at every update of the feed); an entry with no title
  is titled by the opening of its text;
- entries dedupe by guid, then by link; the first in the feed wins;
- links are absolute http(s) (relative ones are resolved against ``source_url``).
"""

from __future__ import annotations

import codecs
from zoneinfo import ZoneInfo

from syndicate.sources.feed_entries import FeedEntry, ParsedFeed
from syndicate.sources.feed_json import read_json_feed
from syndicate.sources.feed_xml import read_xml_feed
from syndicate.sources.folder import ParseError

__all__ = ["FeedEntry", "ParseError", "ParsedFeed", "read_feed"]


def read_feed(data: bytes, *, source_url: str, tz: ZoneInfo, content_type: str = "") -> ParsedFeed:
    """The feed's entries, and the entries skipped (with why). Raises ParseError, one line,
    for anything that is not a feed: empty, an HTML page, broken XML or JSON, entity bombs."""
    start = data.removeprefix(codecs.BOM_UTF8).lstrip()
    if not start:
        raise ParseError("not a feed: the document is empty")
    if start[:1] in (b"{", b"["):
        return read_json_feed(data, source_url=source_url, tz=tz)
    return read_xml_feed(data, source_url=source_url, tz=tz, content_type=content_type)
