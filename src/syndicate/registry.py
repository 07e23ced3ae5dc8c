"""Kinds by name: a setting names a kind (``sources[].kind``, ``feeds.formats``), a registry
maps the name to the object that does the work.

A built-in kind is a ``"module:attribute"`` path, imported only when the kind is used (so
reading the settings loads no feed writer and no fetcher); a plug-in or a test registers its
own kind object. The settings check the names against the registry without importing
anything, so an unknown name is one line naming the key and the names known. A new kind is
one module plus one line in ``built_in`` (or one ``register`` call).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Generic, TypeVar

from syndicate.errors import ConfigError

K = TypeVar("K")


class Registry(Generic[K]):
    def __init__(self, what: str, setting: str, built_in: Mapping[str, str]) -> None:
        self.what, self.setting = what, setting
        self.built_in = dict(built_in)  # name -> "module:attribute"
        self._registered: dict[str, K] = {}

    def register(self, name: str, kind: K) -> None:
        if name in self.built_in or name in self._registered:
            raise ValueError(f"a {self.what} named {name!r} is already registered")
        self._registered[name] = kind

    def unregister(self, name: str) -> None:
        self._registered.pop(name, None)

    def names(self) -> list[str]:
        """The built-in names in their order, then the registered ones."""
        return [*self.built_in, *sorted(self._registered)]

    def problem(self, name: str) -> str:
        """Why ``name`` is not a kind here ('' when it is); nothing is imported."""
        if name in self.built_in or name in self._registered:
            return ""
        return f"no {self.what} named {name!r} (one of {', '.join(self.names())})"

    def checked(self, name: str) -> str:
        """``name``, for a settings validator: ValueError (the problem) unless a kind has it."""
        if problem := self.problem(name):
            raise ValueError(problem)
        return name

    def get(self, name: str) -> K:
        """The kind; ConfigError naming the setting when there is none of that name."""
        if name in self._registered:
            return self._registered[name]
        problem = self.problem(name)
        if problem:
            raise ConfigError(f"{self.setting}: {problem}")
        module, _, attribute = self.built_in[name].partition(":")
        kind: K = getattr(importlib.import_module(module), attribute)
        return kind


# The registries of the stages (the kind classes are theirs: syndicate.pipeline.source_kinds
# SourceKind, syndicate.feeds.formats FeedFormat, syndicate.delivery.registry SenderKind);
# here so that the settings can name them (and read a sender's settings model).
SOURCE_KINDS: Registry[object] = Registry(
    "source kind",
    "sources[].kind",
    {  # the feed kind first: its fetches run while the folders are gathered
        "feed": "syndicate.pipeline.feed_kind:FEED",
        "folder": "syndicate.pipeline.folder_kind:FOLDER",
    },
)
FEED_FORMATS: Registry[object] = Registry(
    "feed format",
    "feeds.formats",
    {
        "rss": "syndicate.feeds.formats:RSS",
        "atom": "syndicate.feeds.formats:ATOM",
        "json": "syndicate.feeds.formats:JSON_FEED",
    },
)
SENDERS: Registry[object] = Registry(
    "sender",
    "delivery.backend",
    {  # each a light module: a sender with a heavy client imports it when one is built
        "outbox": "syndicate.delivery.outbox:KIND",
        "sendgrid": "syndicate.delivery.sendgrid_kind:KIND",
        "smtp": "syndicate.delivery.smtp_kind:KIND",
    },
)
