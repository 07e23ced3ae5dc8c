"""The migrations' head revision, from the file names alone (no Alembic, no SQLAlchemy):
opening a store checks the database against it, and so does `syndicate status`'s read."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from syndicate.errors import StoreError
from syndicate.resources import package_dir

SCRIPT_LOCATION = package_dir("syndicate.store", "migrations")


def head_revision(location: Path = SCRIPT_LOCATION) -> str:
    """The newest revision, from the file names alone (Alembic's own view is tested equal)."""
    return head_of(location)


@cache
def head_of(location: Path) -> str:
    revisions = [
        path.name.partition("_")[0]
        for path in (location / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    ]
    if not revisions:
        raise StoreError(f"{location / 'versions'}: no migration revisions found")
    return max(revisions)
