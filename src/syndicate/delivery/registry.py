"""Senders by name: ``delivery.backend`` names one of these.

A sender kind is a name, a line of help, a factory from the settings and how many requests
a send may keep in flight with it. The built-in kinds live in their own modules and are
imported only when one is built (so a command that never sends never loads the SendGrid
client); a new sender is one module with a ``KIND`` and one line in ``BUILT_IN`` (or a
``register_sender`` call from a plug-in).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from syndicate.config import Settings
from syndicate.delivery.base import Sender
from syndicate.errors import ConfigError

Clock = Callable[[], datetime]


def one_at_a_time(settings: Settings) -> int:
    return 1


@dataclass(frozen=True, slots=True)
class SenderKind:
    name: str
    help: str
    build: Callable[[Settings, Clock], Sender]
    concurrency: Callable[[Settings], int] = one_at_a_time  # requests in flight in a send


BUILT_IN = {  # name -> the module whose KIND it is
    "outbox": "syndicate.delivery.outbox",
    "smtp": "syndicate.delivery.smtp",
    "sendgrid": "syndicate.delivery.sendgrid",
}
_registered: dict[str, SenderKind] = {}


def register_sender(kind: SenderKind) -> None:
    if kind.name in BUILT_IN or kind.name in _registered:
        raise ValueError(f"a sender named {kind.name!r} is already registered")
    _registered[kind.name] = kind


def unregister_sender(name: str) -> None:
    _registered.pop(name, None)


def sender_names() -> list[str]:
    return sorted({*BUILT_IN, *_registered})


def check_sender_name(name: str) -> None:
    """ConfigError unless a sender of that name exists (without importing it)."""
    if name not in BUILT_IN and name not in _registered:
        known = ", ".join(sender_names())
        raise ConfigError(f"delivery.backend: no sender named {name!r} (one of {known})")


def sender_kind(name: str) -> SenderKind:
    """The kind ``delivery.backend`` names; ConfigError naming the setting if none."""
    if name in _registered:
        return _registered[name]
    check_sender_name(name)
    kind: SenderKind = importlib.import_module(BUILT_IN[name]).KIND
    return kind


def make_sender(settings: Settings, clock: Clock) -> Sender:
    return sender_kind(settings.delivery.backend).build(settings, clock)


def send_concurrency(settings: Settings) -> int:
    return sender_kind(settings.delivery.backend).concurrency(settings)
