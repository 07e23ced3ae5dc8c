"""What a feed set is made of: its options, its file paths, and the links to it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SLUG = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")  # a category slug, a file name


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """How to build one site's feeds. ``feed_base_url`` defaults to ``site_url``."""

    site_title: str
    site_url: str
    description: str = ""
    language: str = "en"
    author: str = ""
    feed_base_url: str = ""
    items: int = 50  # the newest articles a feed holds: the limit of the query that reads them
    content: Literal["full", "summary"] = "full"
    formats: tuple[str, ...] = ("rss", "atom", "json")  # names in syndicate.registry
    hub: str | None = None  # a WebSub hub; announced in every format when set
    # The XSLT (path under the output root) RSS and Atom name in <?xml-stylesheet?>, so that
    # a browser shows a page, not raw XML; "" for none.
    stylesheet: str = ""

    def __post_init__(self) -> None:
        # The values come validated (syndicate.config: site, feeds); nothing is checked again.
        if not self.feed_base_url:
            object.__setattr__(self, "feed_base_url", self.site_url)


@dataclass(frozen=True, slots=True)
class FeedLink:
    """One feed as index.html lists it; ``href`` may be relative to the index."""

    title: str
    href: str
    media_type: str
