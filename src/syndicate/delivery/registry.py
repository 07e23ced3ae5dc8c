"""Senders by name: ``delivery.backend`` names one of these.

A sender's registration (a ``SenderKind``) gives its name, a line of help, its settings model
(the table ``[delivery.<name>]``, validated when the settings are read, reached from the
environment as ``SYNDICATE_DELIVERY__<NAME>__<KEY>`` and documented in docs/settings.md),
the keys of that table that name a secret's environment variable (redacted from every log),
how many requests a send may keep in flight, the parser of its provider's event webhook,
and its factory. A new sender is one module with a ``KIND`` and one line in
``syndicate.registry.SENDERS`` (or ``register_sender`` from a plug-in). The registration
module is imported whenever settings are read, so a sender with a heavy client imports it
in its factory (as ``sendgrid_kind`` does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from syndicate.config import Section, Settings
from syndicate.config.delivery import Secret
from syndicate.delivery.base import Sender
from syndicate.delivery.events import ProviderEvent
from syndicate.registry import SENDERS

__all__ = [
    "Clock",
    "NoSettings",
    "Secret",
    "SenderKind",
    "make_sender",
    "register_sender",
    "send_concurrency",
    "sender_kind",
    "sender_names",
    "unregister_sender",
]

Clock = Callable[[], datetime]
O = TypeVar("O", bound=Section)  # noqa: E741 (the options of one sender)


class NoSettings(Section):
    """A sender without a table of its own."""


def one_at_a_time(options: Any) -> int:
    return 1


@dataclass(frozen=True, slots=True)
class SenderKind(Generic[O]):
    name: str
    help: str
    build: Callable[[Settings, O, Clock], Sender]  # (settings, its own table, clock)
    settings: type[O] = NoSettings  # type: ignore[assignment]
    secrets: tuple[Secret, ...] = ()
    concurrency: Callable[[O], int] = one_at_a_time  # requests in flight in a send
    # The body of one POST of its provider's event webhook -> neutral events.
    events: Callable[[bytes], list[ProviderEvent]] | None = field(default=None)

    def __post_init__(self) -> None:
        fields = self.settings.model_fields
        declared = {secret.setting for secret in self.secrets}
        for key in declared - fields.keys():
            raise ValueError(f"sender {self.name!r}: secret {key!r} is not one of its settings")
        for key in fields.keys() - declared:
            if key.endswith("_env"):  # the convention of every other section: it is a secret
                raise ValueError(f"sender {self.name!r}: {key!r} names a variable; declare it")

    def options(self, settings: Settings) -> O:
        """Its own table of ``settings``."""
        table = settings.delivery.sender_settings(self.name)
        if not isinstance(table, self.settings):
            raise TypeError(f"delivery.{self.name} is a {type(table).__name__}")
        return table


def register_sender(kind: SenderKind[Any]) -> None:
    SENDERS.register(kind.name, kind)


def unregister_sender(name: str) -> None:
    SENDERS.unregister(name)


def sender_names() -> list[str]:
    return SENDERS.names()


def check_sender_name(name: str) -> None:
    """ConfigError unless a sender of that name exists (without importing it)."""
    if SENDERS.problem(name):
        SENDERS.get(name)  # raises the ConfigError naming delivery.backend


def sender_kind(name: str) -> SenderKind[Any]:
    """The kind ``delivery.backend`` names; ConfigError naming the setting if none."""
    kind = SENDERS.get(name)
    if not isinstance(kind, SenderKind):
        raise TypeError(f"sender {name!r} is a {type(kind).__name__}, not a SenderKind")
    return kind


def make_sender(settings: Settings, clock: Clock) -> Sender:
    kind = sender_kind(settings.delivery.backend)
    return kind.build(settings, kind.options(settings), clock)


def send_concurrency(settings: Settings) -> int:
    kind = sender_kind(settings.delivery.backend)
    return kind.concurrency(kind.options(settings))
