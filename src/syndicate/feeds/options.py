"""What a feed set is made of: its options, its file paths, and the links to it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from syndicate.content import strip_control

FeedFormat = Literal["rss", "atom", "json"]
FORMATS: tuple[FeedFormat, ...] = ("rss", "atom", "json")
FEED_MEDIA_TYPES: dict[str, str] = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}
_FILE_NAMES = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")  # a BCP 47 tag's shape
_SLUG = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")


def _is_http_url(value: str) -> bool:
    clean = strip_control(value) == value and not any(ch.isspace() for ch in value)
    return clean and value.startswith(("http://", "https://"))


def _check_base_url(name: str, value: str) -> None:
    if not _is_http_url(value) or not value.endswith("/"):
        raise ValueError(f"FeedOptions.{name}: must be an absolute http(s) URL ending in '/'")


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """How to build one site's feeds. ``feed_base_url`` defaults to ``site_url``."""

    site_title: str
    site_url: str
    description: str = ""
    language: str = "en"
    author: str = ""
    feed_base_url: str = ""
    items: int = 50
    content: Literal["full", "summary"] = "full"
    formats: tuple[FeedFormat, ...] = FORMATS
    hub: str | None = None  # a WebSub hub; announced in every format when set
    # The XSLT (path under the output root) RSS and Atom name in <?xml-stylesheet?>, so that
    # a browser shows a page, not raw XML; "" for none.
    stylesheet: str = ""

    def __post_init__(self) -> None:
        if not self.feed_base_url:
            object.__setattr__(self, "feed_base_url", self.site_url)
        _check_base_url("site_url", self.site_url)
        _check_base_url("feed_base_url", self.feed_base_url)
        if not self.site_title.strip():
            raise ValueError("FeedOptions.site_title: must not be blank")
        if self.language and not _LANGUAGE.fullmatch(self.language):
            raise ValueError(
                f"FeedOptions.language: not a language tag like 'en' or 'de-AT' ({self.language!r})"
            )
        if self.items < 1:
            raise ValueError(f"FeedOptions.items: must be at least 1 (got {self.items})")
        if self.content not in ("full", "summary"):
            raise ValueError(f"FeedOptions.content: must be 'full' or 'summary' ({self.content!r})")
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown or not self.formats or len(set(self.formats)) != len(self.formats):
            raise ValueError(f"FeedOptions.formats: need distinct rss/atom/json ({self.formats!r})")
        if self.stylesheet and not _SLUG.fullmatch(self.stylesheet):
            raise ValueError(f"FeedOptions.stylesheet: a file name ({self.stylesheet!r})")
        if self.hub is not None and not _is_http_url(self.hub):
            raise ValueError(f"FeedOptions.hub: must be an absolute http(s) URL ({self.hub!r})")


@dataclass(frozen=True, slots=True)
class FeedLink:
    """One feed as index.html lists it; ``href`` may be relative to the index."""

    title: str
    href: str
    media_type: str


def feed_paths(category_slug: str | None) -> dict[str, str]:
    """Format → path relative to the output root: the site's, or one category's."""
    if category_slug is None:
        return dict(_FILE_NAMES)
    if not _SLUG.fullmatch(category_slug):
        raise ValueError(f"category slug {category_slug!r}: only letters, digits, '-', '_', '.'")
    return {fmt: f"category/{category_slug}/{name}" for fmt, name in _FILE_NAMES.items()}
