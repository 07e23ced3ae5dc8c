"""The [feeds] and [pages] sections."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from syndicate.config.section import Section
from syndicate.config.site import is_one_token
from syndicate.registry import FEED_FORMATS


class FeedSettings(Section):
    output_dir: str = Field("var/public", description="Where the feed files and index.html go.")
    items: int = Field(50, gt=0, le=10_000, description="How many newest articles each feed holds.")
    content: Literal["full", "summary"] = Field(
        "full", description="'full' puts the article body in the feed, 'summary' only the summary."
    )
    formats: tuple[str, ...] = Field(
        ("rss", "atom", "json"),
        description="Which feed formats to write: 'rss', 'atom', 'json' (JSON Feed), or "
        "one a plug-in registers.",
    )
    per_category: bool = Field(True, description="Also write one feed set per category.")
    hub: str = Field(
        "",
        description="A WebSub hub's URL; when set, every feed names it (a link with rel=hub) "
        "and the hub is told (hub.mode=publish) whenever a feed file changes. Empty = none.",
    )

    @field_validator("formats")
    @classmethod
    def _formats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if problem := FEED_FORMATS.problem(name):
                raise ValueError(problem)
        if not value or len(set(value)) != len(value):
            raise ValueError("name at least one format, each once")
        return value

    @field_validator("hub")
    @classmethod
    def _hub(cls, value: str) -> str:
        if value and (not is_one_token(value) or not value.startswith(("http://", "https://"))):
            raise ValueError("must be an absolute http(s) URL, or empty")
        return value


class PagesSettings(Section):
    enabled: bool = Field(
        True,
        description="Write one HTML page per article under feeds.output_dir, at the path its "
        "link names (<slug>/index.html; links then end in '/'). false: for a site whose "
        "articles live elsewhere; links stay site.url + slug.",
    )
