"""The base of every settings section."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any, Self, TypeVar, cast

from pydantic import BaseModel, ConfigDict

from syndicate.registry import Registry

R = TypeVar("R")


class Section(BaseModel):
    """A settings section. Values derived from its settings (a zone, a parsed schedule) are
    ``cached_property``s: made once, on first use; a copy with changed settings makes them
    again."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def subsections(cls) -> dict[str, type[Section]]:
        """Tables under this one that are not fields of its model but registered by a stage
        (a sender's [delivery.<name>]): name -> model. The environment overrides and the
        reference reach them as they reach the fields."""
        return {}

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copy = super().model_copy(update=update, deep=deep)
        if update:
            for klass in type(self).__mro__:
                for name, member in vars(klass).items():
                    if isinstance(member, cached_property):
                        copy.__dict__.pop(name, None)
        return copy


def registration(registry: Registry[object], name: str, face: type[R], kind_class: str) -> R:
    """The kind ``name`` of ``registry`` as the settings read it (``face``, a Protocol whose
    ``settings`` is its model): ConfigError naming the setting if there is none."""
    kind = registry.get(name)
    model = getattr(kind, "settings", None)
    if not (isinstance(model, type) and issubclass(model, Section)):
        raise TypeError(f"{registry.what} {name!r} is a {type(kind).__name__}, not a {kind_class}")
    return cast(R, kind)
