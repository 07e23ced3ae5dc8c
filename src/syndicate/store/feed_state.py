"""Feed sources' fetch state: one row per source (the entries themselves are file rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

VALIDATOR_MAX = 1000  # an ETag / Last-Modified longer than this is not kept


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the last fetch of a feed source said. ``etag`` and ``last_modified`` are "" when
    the server sent none; ``sha256`` is of the last body parsed ("" when none was)."""

    source: str
    url: str
    etag: str
    last_modified: str
    sha256: str
    fetched_at: datetime | None
    checked_at: datetime
    error: str | None = None
