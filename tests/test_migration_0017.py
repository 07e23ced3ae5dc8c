"""Revision 0017 (each variant's id range; on SQLite no index of the pending rows) upgrades
a ledger written at 0016 in place: every variant of every edition gets its rows' bounds, so
a send frozen before goes on where it stopped. Downgrading gives the index back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import column, insert, select, table, text
from tests.test_migrations import alembic

from syndicate.models import DeliveryState, SubscriberStatus
from syndicate.store import Store
from syndicate.store.engine import make_engine

pytestmark = pytest.mark.empty_database  # the test makes its schema itself, from empty

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WEEK = "weekly:2026-W47"
_editions = table("editions", column("week"), column("created_at"), column("subject"))
_LEDGER = ("week", "subscriber_id", "email", "name", "variant", "state", "attempts", "error",
           "message_id", "created_at", "updated_at")  # fmt: skip
_deliveries = table("deliveries", *[column(c) for c in _LEDGER])
_ranges = table("delivery_ranges", column("week"), column("variant"), column("first_id"),
                column("last_id"))  # fmt: skip


def _row(n: int, variant: str, state: str) -> dict[str, object]:
    return {
        "week": WEEK, "subscriber_id": n, "email": f"r{n}@example.org", "name": "",
        "variant": variant, "state": state, "attempts": 0, "error": "", "message_id": "",
        "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip


def test_a_ledger_frozen_at_0016_is_claimed_by_variant_after_the_upgrade(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    alembic(engine, "upgrade", "0016")
    # Two variants interleaved, as the old freeze wrote them in chunks; half already sent.
    rows = [_row(n, "News" if n % 2 else "", "sent" if n < 7 else "pending") for n in range(1, 13)]
    with engine.begin() as conn:
        conn.execute(insert(_editions).values(week=WEEK, created_at=NOW, subject="W47"))
        conn.execute(insert(_deliveries), rows)
        ids = dict(conn.execute(text("SELECT subscriber_id, id FROM deliveries")).all())
    alembic(engine, "upgrade", "head")
    with engine.connect() as conn:
        spans = {v: (a, b) for _, v, a, b in conn.execute(select(_ranges)).all()}
    assert spans == {"": (ids[2], ids[12]), "News": (ids[1], ids[11])}
    with Store(database_url) as store:
        for n in range(1, 13):  # the readers the rows name (ids 1-12)
            store.add_subscriber(f"r{n}@example.org", "", (), SubscriberStatus.ACTIVE, NOW)
        assert store.pending_variants(WEEK) == [("", 3), ("News", 3)]
        claimed = store.claim_batch(WEEK, "News", 10, NOW)
        assert sorted(d.subscriber_id for d, _ in claimed) == [7, 9, 11]
        store.finish_batch([(d.id, DeliveryState.SENT, "") for d, _ in claimed], NOW)
        assert store.pending_variants(WEEK) == [("", 3)]
        assert store.claim_batch(WEEK, "News", 10, NOW) == []
    alembic(engine, "downgrade", "0016")
    with engine.connect() as conn:
        tables = set(conn.dialect.get_table_names(conn))
        indexes = {i["name"] for i in conn.dialect.get_indexes(conn, "deliveries")}
    assert "delivery_ranges" not in tables
    if engine.dialect.name == "sqlite":
        assert "ix_deliveries_pending" in indexes
    engine.dispose()
