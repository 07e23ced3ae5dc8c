"""The one exception tree: every error syndicate raises on purpose is a SyndicateError.

``str(error)`` is the one line a face prints (it names the file, key or field and what is
wrong, never quotes untrusted text at length). The faces catch these, never a bare
ValueError: a ValueError from anywhere else is a bug and is allowed to say so.
"""

from __future__ import annotations


class SyndicateError(Exception):
    """An error with a message meant for the person running syndicate."""


class ConfigError(SyndicateError):
    """A setting, the settings file or a backend named in them is unusable."""


class InputError(SyndicateError, ValueError):
    """Bad input from a user: a file, a form field, an address, a token, a command option.

    Also a ValueError so that pydantic validators may raise it and have it reported as a
    validation error of the field."""


class SourceError(SyndicateError):
    """A source could not be fetched, read or parsed; the gather goes on with the next."""


class StoreError(SyndicateError):
    """The database cannot be used (unreachable, locked, from a newer version, ...)."""


class DeliveryError(SyndicateError):
    """A message could not be handed to the provider."""


class ServiceError(SyndicateError):
    """The service cannot start or go on."""
