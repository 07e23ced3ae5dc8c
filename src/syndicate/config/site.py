"""The [site] and [storage] sections."""

from __future__ import annotations

import re
from functools import cached_property
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from syndicate.config.section import Section
from syndicate.config.values import check_timezone
from syndicate.content import strip_control

_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")  # a BCP 47 tag's shape


def is_one_token(value: str) -> bool:
    """No control characters, no spaces: a URL as it can be written into a feed."""
    return strip_control(value) == value and not any(ch.isspace() for ch in value)


class SiteSettings(Section):
    title: str = Field("My site", description="The site's name, shown in feeds and the digest.")
    url: str = Field(
        "https://example.com/",
        description="The site's public base URL; article links are this plus the slug.",
    )
    description: str = Field(
        "Latest articles", description="One line about the site, used as the feeds' subtitle."
    )
    language: str = Field("en", description="Language code of the content (e.g. en, de-AT).")
    timezone: str = Field(
        "UTC", description="Time zone for dates without a time: they are midnight here."
    )
    author: str = Field("", description="Default author when an article names none.")
    postal_address: str = Field(
        "", description="Postal address printed in every digest's footer (anti-spam laws)."
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or not is_one_token(value):
            raise ValueError("must be an absolute http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value and not _LANGUAGE.fullmatch(value):
            raise ValueError(f"not a language tag like 'en' or 'de-AT' ({value!r})")
        return value

    _tz = field_validator("timezone")(lambda cls, v: check_timezone(v))

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class StorageSettings(Section):
    url: str = Field(
        "sqlite:///var/syndicate.db",
        description="SQLAlchemy database URL; a relative SQLite path is under the site folder. "
        "postgres:// and postgresql:// URLs are read as postgresql+psycopg:// (psycopg 3).",
    )

    @field_validator("url")
    @classmethod
    def _driver(cls, value: str) -> str:
        for scheme in ("postgres://", "postgresql://"):
            if value.startswith(scheme):
                return "postgresql+psycopg://" + value[len(scheme) :]
        if value.startswith(("postgres+", "postgresql+")) and not value.startswith(
            "postgresql+psycopg://"
        ):
            raise ValueError("use postgresql+psycopg://… (psycopg 3 is the driver installed)")
        return value
