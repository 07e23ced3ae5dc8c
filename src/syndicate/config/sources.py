"""The [gather] section, each [[sources]] table, and [fetch] (feed sources over HTTP)."""

from __future__ import annotations

from functools import cached_property
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from syndicate.config.section import Section
from syndicate.config.values import check_timezone
from syndicate.content import strip_control
from syndicate.registry import SOURCE_KINDS


class GatherSettings(Section):
    max_file_size: int = Field(
        5_000_000, gt=0, description="Files larger than this many bytes are rejected."
    )
    earliest_year: int = Field(
        1900, ge=1, le=9999, description="An article or entry dated before this year is rejected."
    )
    latest_year: int = Field(
        2200, ge=1, le=9999, description="An article or entry dated after this year is rejected."
    )

    @model_validator(mode="after")
    def _years(self) -> GatherSettings:
        if self.earliest_year > self.latest_year:
            raise PydanticCustomError(
                "setting",
                "{message}",
                {"message": "gather.earliest_year: must not be after gather.latest_year"},
            )
        return self

    @property
    def years(self) -> tuple[int, int]:
        return self.earliest_year, self.latest_year


class SourceSettings(Section):
    name: str = Field(description="A unique name for the source, stored with its articles.")
    kind: str = Field(
        "folder",
        description="The source kind: 'folder' (article files) or 'feed' (a remote "
        "or local RSS, Atom or JSON Feed), or one a plug-in registers.",
    )
    path: str = Field(
        "",
        description="kind 'folder': folder of .txt and .md articles, relative to the site folder.",
    )
    url: str = Field(
        "",
        description="kind 'feed': the feed's http(s) URL, or the path of a feed file "
        "(relative to the site folder).",
    )
    category: str = Field(
        "General", description="Default category for articles that get none otherwise."
    )
    fill_from: list[str] = Field(
        default_factory=list,
        description="Names of other sources whose teaser cards or entries of the same title "
        "may fill in what this source's articles lack (category, summary, author). Empty: "
        "across sources a title never merges anything.",
    )
    timezone: str = Field(
        "",
        description="IANA time zone of the source's dates that name none (an RFC 822 or "
        "ISO 8601 date without an offset, a date without a time). Empty: site.timezone.",
    )
    _tz = field_validator("timezone")(lambda cls, v: check_timezone(v) if v else v)

    @cached_property
    def zone(self) -> ZoneInfo | None:
        """Its own zone; None: the site's (``Settings.source_zone``)."""
        return ZoneInfo(self.timezone) if self.timezone else None

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        return SOURCE_KINDS.checked(value)

    @model_validator(mode="after")
    def _location(self) -> SourceSettings:
        problem = source_location_problem(self.kind, self.path, self.url)
        if problem:
            raise PydanticCustomError(
                "setting", "{message}", {"message": f"sources[{self.name}].{problem}"}
            )
        return self


def source_location_problem(kind: str, path: str, url: str) -> str:
    """What is wrong with a source's path / url, as 'key: reason', or '' if nothing."""
    if kind == "folder":
        if url:
            return 'url: only a feed source has a url (kind = "feed"); a folder has a path'
        return "" if path.strip() else "path: a folder source needs path (its folder of articles)"
    if kind != "feed":
        return ""  # another kind checks its own
    if path:
        return "path: a feed source has a url (an http(s) URL or a file path), not a path"
    if not url.strip():
        return "url: a feed source needs url (an http(s) URL or a file path)"
    if strip_control(url) != url or url != url.strip():
        return "url: control characters or surrounding spaces"
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() not in ("http", "https"):
        return f"url: only http(s) URLs or file paths, not {scheme}://"
    if sep and not rest.split("/", 1)[0]:
        return f"url: no host in {url!r}"
    return ""


class FetchSettings(Section):
    connect_timeout: float = Field(
        10.0, gt=0, description="Seconds a feed source's server has to accept the connection."
    )
    read_timeout: float = Field(
        30.0, gt=0, description="Seconds a feed source's server may stay silent mid-response."
    )
    total_timeout: float = Field(
        120.0,
        gt=0,
        description="Seconds one feed source's fetch may take in all, redirects included "
        "(a server that trickles its answer is cut off).",
    )
    max_bytes: int = Field(
        10_000_000,
        gt=0,
        description="A feed larger than this many bytes (decompressed) fails; the download "
        "stops there.",
    )
    max_redirects: int = Field(
        5, ge=0, le=30, description="Redirects a feed source may take; one more fails it."
    )
    max_entries: int = Field(
        1_000,
        gt=0,
        description="Entries kept from one fetch of a feed source: the newest ones; how many "
        "older ones were dropped is reported.",
    )
    concurrency: int = Field(
        4,
        ge=1,
        le=64,
        description="Feed sources fetched at once; each is stored as soon as it is in, so a "
        "slow source delays no other.",
    )
    parse_timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds a feed source's document may take to parse; the parse runs in a "
        "child process, killed then (some hostile documents would take hours).",
    )
    allow_private: bool = Field(
        False,
        description="Let feed sources reach loopback and private addresses (127/8, 10/8, "
        "172.16/12, 192.168/16, 100.64/10, ::1, fc00::/7). Link-local addresses (the cloud "
        "metadata service 169.254.169.254), multicast and reserved ones are always refused.",
    )
    user_agent: str = Field(
        "syndicate/0.1 (feed fetcher)",
        description="The User-Agent header sent to feed sources and the WebSub hub.",
    )

    @field_validator("user_agent")
    @classmethod
    def _agent(cls, value: str) -> str:
        if not value.strip() or strip_control(value) != value or any(c in value for c in "\r\n\t"):
            raise ValueError("must be one line of printable text")
        return value
