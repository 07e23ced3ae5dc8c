"""The database: the only place that speaks SQL.

``Store(url)`` opens SQLite or PostgreSQL from the URL alone, creates the schema on first
use, migrates an older one (store.migrate) and refuses a database written by a newer schema.
Every method is one transaction; ``transaction()`` gives a unit of work for several steps.

Each name is imported when first used (syndicate.lazy): `syndicate status` reads a SQLite
store with the sqlite3 module (store.status_reads) and never loads SQLAlchemy.
"""

from typing import TYPE_CHECKING

from syndicate.lazy import LazyNames

if TYPE_CHECKING:  # each name is imported when first used (syndicate.lazy)
    from syndicate.errors import StoreError
    from syndicate.store.core import Store
    from syndicate.store.engine import SchemaVersionError
    from syndicate.store.events import EventEffect, EventOutcome, WebhookEvent
    from syndicate.store.feed_state import FeedState
    from syndicate.store.gather_writes import GatherCounts, UnitOfWork
    from syndicate.store.recipients import VARIANT_SEPARATOR, variant_categories, variant_key
    from syndicate.store.records import (
        FileRecord,
        FileState,
        JobOutcome,
        JobRun,
        SendStatus,
    )
    from syndicate.store.restore import ImportCounts
    from syndicate.store.schema import SCHEMA_VERSION
    from syndicate.store.senders import SenderRow
    from syndicate.store.subscribers import DuplicateSubscriber

__getattr__ = LazyNames(__name__, __file__)

__all__ = [
    "SCHEMA_VERSION",
    "VARIANT_SEPARATOR",
    "DuplicateSubscriber",
    "EventEffect",
    "EventOutcome",
    "FeedState",
    "FileRecord",
    "FileState",
    "GatherCounts",
    "ImportCounts",
    "JobOutcome",
    "JobRun",
    "SchemaVersionError",
    "SendStatus",
    "SenderRow",
    "Store",
    "StoreError",
    "UnitOfWork",
    "WebhookEvent",
    "variant_categories",
    "variant_key",
]
