"""The ledger at scale, on SQLite: freeze 200,000 subscribers, then claim and settle them all.

Not a timed assertion: the figures are printed (``pytest -s``) for the README and the bench.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.test_store_ledger import EDITION, T0, T1, T2, WEEK, edition

from syndicate.models import DeliveryState
from syndicate.store import Store
from syndicate.store.ledger import _next_pending

_FILL_SUBSCRIBERS = """
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
    INSERT INTO subscribers (id, email, email_key, name, status, created_at, updated_at)
    SELECT i, printf('user%07d@example.com', i), printf('user%07d@example.com', i),
           printf('User %d', i), CASE WHEN i % 50 = 1 THEN 'unsubscribed' ELSE 'active' END,
           :t0, :t0
    FROM n
"""
# One subscriber in five has preferences: News and Tech, or Sport alone (no row).
_FILL_CATEGORIES = """
    INSERT INTO subscriber_categories (subscriber_id, category)
    SELECT id, 'News' FROM subscribers WHERE id % 10 = 5
    UNION ALL SELECT id, 'tech' FROM subscribers WHERE id % 10 = 5
    UNION ALL SELECT id, 'Sport' FROM subscribers WHERE id % 10 = 0
"""


@pytest.mark.slow
def test_freeze_and_claim_at_scale(tmp_path: Path) -> None:
    count = 50_000  # bench/bench_send.py measures the 1,000,000 case
    with Store(f"sqlite:///{tmp_path / 'big.db'}") as store:
        edition(store)
        with store.engine.begin() as conn:
            t0 = T0.strftime("%Y-%m-%d %H:%M:%S.000000")
            conn.execute(text(_FILL_SUBSCRIBERS), {"count": count, "t0": t0})
            conn.execute(text(_FILL_CATEGORIES))
        started = time.perf_counter()
        variants = store.freeze_recipients(WEEK, T0, EDITION)
        froze = time.perf_counter() - started
        # 2% unsubscribed; of the rest, the 10% with only Sport get nothing.
        assert variants == {"": count * 8 // 10 - count // 50, "News\x1fTech": count // 10}
        assert dict(store.pending_variants(WEEK)) == variants
        created = sum(variants.values())

        with store.engine.connect() as conn:
            query = _next_pending(WEEK, "", 1000).compile(
                conn, compile_kwargs={"literal_binds": True}
            )
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}"))
        # The table by id, from where the last claim ended: no index, no sort.
        assert "USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan, plan
        assert "TEMP B-TREE" not in plan and "INDEX" not in plan.replace("PRIMARY KEY", ""), plan

        started, batches, sent = time.perf_counter(), 0, 0
        for variant in variants:
            while batch := store.claim_batch(WEEK, variant, 1000, T1):
                store.finish_batch([(d.id, DeliveryState.SENT, "") for d, _ in batch], T2)
                batches, sent = batches + 1, sent + len(batch)
        sending = time.perf_counter() - started
        assert sent == created and store.delivery_counts(WEEK)["sent"] == created
        assert store.pending_variants(WEEK) == []
    print(
        f"\nfreeze of {count:,} subscribers ({created:,} rows): {froze:.2f} s"
        f" (~{froze * 1_000_000 / count:.1f} s per million);"
        f" {batches} claim+finish batches of 1000: {sending:.2f} s"
        f" ({sending / batches * 1000:.1f} ms a batch)"
    )
