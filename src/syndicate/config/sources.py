"""The [gather] section, each [[sources]] table, and [fetch] (feed sources over HTTP)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any, Protocol, Self
from zoneinfo import ZoneInfo

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from syndicate.config.section import Section, registration
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


class RegisteredSourceKind(Protocol):
    """What the settings read of a registration (``syndicate.pipeline.source_kinds.SourceKind``)."""

    @property
    def help(self) -> str: ...

    @property
    def settings(self) -> type[Section]: ...


def registered_source_kind(name: str) -> RegisteredSourceKind:
    """The registration of the source kind ``name`` (ConfigError naming sources[].kind if none)."""
    return registration(SOURCE_KINDS, name, RegisteredSourceKind, "SourceKind")  # type: ignore[type-abstract]


class SourceSettings(Section):
    """One [[sources]] table: the keys every source has, and ``options``, the keys of its
    kind (validated by the settings model its registration gives, and shown beside the
    common keys, as they are written)."""

    name: str = Field(description="A unique name for the source, stored with its articles.")
    kind: str = Field(
        "folder",
        description="The source kind: 'folder' (article files) or 'feed' (a remote "
        "or local RSS, Atom or JSON Feed), or one a plug-in registers.",
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
    options: Section = Field(
        default_factory=Section, exclude=True, description="(internal) the keys of its kind."
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

    @model_validator(mode="wrap")
    @classmethod
    def _kind_keys(cls, data: Any, handler: ModelWrapValidatorHandler[SourceSettings]) -> Any:
        """The keys that are not common ones through the settings model of its kind."""
        if not isinstance(data, dict) or isinstance(data.get("options"), Section):
            return handler(data)
        common = {k: v for k, v in data.items() if k in cls.model_fields and k != "options"}
        kind = data.get("kind", "folder")
        if not isinstance(kind, str) or SOURCE_KINDS.problem(kind):
            return handler(common)  # the kind's own error
        own = {k: v for k, v in data.items() if k not in common}
        name = data.get("name", "?")
        model = registered_source_kind(kind).settings
        try:
            options = model.model_validate(own)
        except ValidationError as exc:
            errors = [_kind_key_error(error, name, kind) for error in exc.errors()]
            raise ValidationError.from_exception_data(cls.__name__, errors) from None
        return handler({**common, "options": options})

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; the keys of its kind in ``update`` change its ``options``."""
        own = {k: v for k, v in (update or {}).items() if k not in type(self).model_fields}
        if own:
            unknown = own.keys() - type(self.options).model_fields.keys()
            if unknown:
                raise ValueError(f"a {self.kind} source has no {', '.join(sorted(unknown))}")
            common = {k: v for k, v in (update or {}).items() if k not in own}
            update = {**common, "options": self.options.model_copy(update=own)}
        return super().model_copy(update=update, deep=deep)

    @model_serializer(mode="wrap")
    def _flat(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The kind's keys beside the common ones, as the table is written."""
        data: dict[str, Any] = handler(self)
        return {**data, **self.options.model_dump(mode="json")}


def _kind_key_error(error: ErrorDetails, source: str, kind: str) -> InitErrorDetails:
    key = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        others = [name for name in SOURCE_KINDS.names() if _has_key(name, key)]
        having = f" (a key of {' and '.join(others)} sources)" if others else ""
        message = f"a {kind} source has no {key}{having}"
    text = f"sources[{source}].{key}: {message}"
    return {
        "type": PydanticCustomError("setting", "{message}", {"message": text}),
        "loc": (key,),
        "input": error["input"],
    }


def _has_key(kind: str, key: str) -> bool:
    return key in registered_source_kind(kind).settings.model_fields


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
