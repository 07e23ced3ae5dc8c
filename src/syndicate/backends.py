"""Concrete backends built from settings. Only the faces (cli, service, web) call this."""

from __future__ import annotations

from syndicate.delivery.registry import make_sender, sender_kind
from syndicate.errors import ConfigError

BackendError = ConfigError  # the name the faces knew; a backend's problem is a setting's

__all__ = ["BackendError", "make_sender", "sender_kind"]
