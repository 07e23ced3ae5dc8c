"""A reader's cadence, as chosen on the subscribe form or the preferences page: only among
digest.cadences; none chosen is digest.default_cadence."""

from __future__ import annotations

from syndicate.config import Settings


class UnknownCadence(ValueError):
    """A cadence that is not one of digest.cadences."""


def choose_cadence(settings: Settings, given: str | None) -> str:
    """``given`` if the site enables it; "" or None is digest.default_cadence."""
    digest = settings.digest
    value = (given or "").strip().lower()
    if not value:
        return digest.default_cadence
    if value not in digest.cadences:
        raise UnknownCadence(f"cadence {given!r}: choose one of {', '.join(digest.cadences)}")
    return value
