"""The feed kind's registration: the key of a feed source (``url``) and its gather. Read
with the settings, so the fetcher and the feed parser (``syndicate.pipeline.feed_gathering``)
are imported only when a gather runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from syndicate.config.section import Section
from syndicate.content import strip_control
from syndicate.pipeline.source_kinds import GatherRun, SourceKind

if TYPE_CHECKING:
    from syndicate.config import SourceSettings


class FeedSource(Section):
    url: str = Field(
        "",
        validate_default=True,
        description="The feed's http(s) URL, or the path of a feed file (relative to the "
        "site folder).",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if problem := url_problem(value):
            raise ValueError(problem)
        return value


def url_problem(url: str) -> str:
    """What is wrong with a feed source's url, or '' if nothing."""
    if not url.strip():
        return "a feed source needs url (an http(s) URL or a file path)"
    if strip_control(url) != url or url != url.strip():
        return "control characters or surrounding spaces"
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() not in ("http", "https"):
        return f"only http(s) URLs or file paths, not {scheme}://"
    if sep and not rest.split("/", 1)[0]:
        return f"no host in {url!r}"
    return ""


def _gather(
    run: GatherRun, sources: Sequence[SourceSettings], meanwhile: Callable[[], None]
) -> None:
    from syndicate.pipeline.feed_gathering import gather_feeds

    gather_feeds(run, sources, meanwhile)


FEED: SourceKind[FeedSource] = SourceKind(
    "feed", "a remote or local RSS, Atom or JSON Feed", _gather, FeedSource
)


def feed_url(source: SourceSettings) -> str:
    return FEED.options(source).url
