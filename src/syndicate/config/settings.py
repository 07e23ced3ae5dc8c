"""The settings model: the whole tree, of one section class per [section] (each in its
module beside this one), every field with a description."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from syndicate.config.bounces import BounceSettings
from syndicate.config.delivery import DeliverySettings, EmailSettings
from syndicate.config.digest import DigestSettings
from syndicate.config.feeds import FeedSettings, PagesSettings
from syndicate.config.section import Section
from syndicate.config.site import SiteSettings, StorageSettings
from syndicate.config.sources import (
    FetchSettings,
    GatherSettings,
    SourceSettings,
)
from syndicate.config.values import Duration, within
from syndicate.config.web import WebhookSettings, WebSettings

__all__ = [  # the sections live in their modules; these names stay importable from here
    "SECRET_ENV",
    "DeliverySettings",
    "EmailSettings",
    "FeedSettings",
    "FetchSettings",
    "GatherSettings",
    "PagesSettings",
    "ScheduleSettings",
    "Settings",
    "SiteSettings",
    "SourceSettings",
    "StorageSettings",
    "WebSettings",
    "WebhookSettings",
]

SECRET_ENV = {
    "secret_key": "SYNDICATE_SECRET_KEY",
    "secret_key_previous": "SYNDICATE_SECRET_KEY_PREVIOUS",
}


class ScheduleSettings(Section):
    gather_every: Duration = Field(
        timedelta(minutes=15),
        description="How often `syndicate run` gathers the sources ('15m', '1h', '90s'); the "
        "feeds are rebuilt when anything changed.",
    )
    lease_check: Duration = Field(
        timedelta(seconds=10),
        description="How often each `syndicate run` instance checks the lease that lets one "
        "instance run the jobs: the holder that it still has it, the others whether it is free.",
    )

    _every = field_validator("gather_every")(within(timedelta(seconds=1)))
    _lease = field_validator("lease_check")(within(timedelta(seconds=0.1), timedelta(hours=1)))


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    site: SiteSettings = Field(default_factory=SiteSettings, description="The site.")
    storage: StorageSettings = Field(default_factory=StorageSettings, description="The database.")
    gather: GatherSettings = Field(default_factory=GatherSettings, description="Gathering.")
    sources: tuple[SourceSettings, ...] = Field(
        (), description="Where articles come from: one [[sources]] table each."
    )
    fetch: FetchSettings = Field(
        default_factory=FetchSettings, description="Fetching feed sources over HTTP."
    )
    categories: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Keyword rules: category = [words]; an article whose title or text has one "
        "of the words gets that category when it has none of its own.",
    )
    feeds: FeedSettings = Field(default_factory=FeedSettings, description="Feed output.")
    pages: PagesSettings = Field(default_factory=PagesSettings, description="Article pages.")
    digest: DigestSettings = Field(default_factory=DigestSettings, description="The digest.")
    schedule: ScheduleSettings = Field(
        default_factory=ScheduleSettings, description="The jobs of `syndicate run`."
    )
    email: EmailSettings = Field(default_factory=EmailSettings, description="Email identity.")
    delivery: DeliverySettings = Field(
        default_factory=DeliverySettings, description="Mail delivery."
    )
    web: WebSettings = Field(default_factory=WebSettings, description="The web front.")
    webhooks: WebhookSettings = Field(
        default_factory=WebhookSettings, description="Event webhooks of the mail provider."
    )
    bounces: BounceSettings = Field(
        default_factory=BounceSettings, description="The bounce mailbox (for SMTP senders)."
    )

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, value: tuple[SourceSettings, ...]) -> tuple[SourceSettings, ...]:
        seen: set[str] = set()
        for source in value:
            if source.name in seen:
                message = f"sources[{source.name}].name: used by two sources"
                raise PydanticCustomError("setting", "{message}", {"message": message})
            seen.add(source.name)
        for source in value:
            for other in source.fill_from:
                if other not in seen or other == source.name:
                    message = f"sources[{source.name}].fill_from: no other source named {other!r}"
                    raise PydanticCustomError("setting", "{message}", {"message": message})
        return value

    # Not settings: where the file was read from, to resolve relative paths.
    root: Path = Field(Path("."), exclude=True, description="(internal) the site folder.")
    source_file: str = Field("", exclude=True, description="(internal) the config file read.")

    def path(self, value: str) -> Path:
        """A configured path, resolved against the site folder when relative."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.root / p

    @property
    def database_url(self) -> str:
        url = self.storage.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str(self.path(url[len(prefix) :]))
        return url

    @property
    def secret_key(self) -> str:
        return os.environ.get(SECRET_ENV["secret_key"], "")

    @property
    def previous_secret_keys(self) -> tuple[str, ...]:
        """Keys that still verify tokens (but sign none): the one rotated out."""
        previous = os.environ.get(SECRET_ENV["secret_key_previous"], "")
        return (previous,) if previous else ()

    def source_zone(self, source: SourceSettings) -> ZoneInfo:
        """The zone of a source's dates that name none."""
        return source.zone or self.site.zone

    @property
    def web_url(self) -> str:
        return self.web.base_url or self.site.url
