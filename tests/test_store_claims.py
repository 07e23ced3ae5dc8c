"""The send's claims (Store.claim_rows): each looks after the last one first, through the
driver itself (sqlite3, psycopg), on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from syndicate.models import DeliveryState
from syndicate.store import Store, ledger
from syndicate.store.status_reads import DELIVERY_COUNTS

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
T2 = T0 + timedelta(minutes=10)
WEEK = "2026-W10"
S = DeliveryState
TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER stop BEFORE UPDATE ON deliveries BEGIN "
        "SELECT RAISE(ABORT, 'stopped by a trigger'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION stop() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'stopped by a trigger'; END $$",
        "CREATE TRIGGER stop BEFORE UPDATE ON deliveries FOR EACH ROW EXECUTE FUNCTION stop()",
    ],
}


def frozen(store: Store, count: int) -> list[int]:
    """An edition of ``count`` readers, frozen: its ledger ids, in order."""
    store.create_edition(WEEK, T0, f"Digest {WEEK}", [])
    rows = [(f"p{n:04d}@example.com", f"P {n}", frozenset[str]()) for n in range(count)]
    store.import_subscribers(rows, T0)
    store.freeze_recipients(WEEK, T0, frozenset({"News"}))
    return [d.id for d in store.deliveries(WEEK)]


def claim(store: Store, limit: int, owner: str | None = None) -> list[int]:
    return [row[0] for row in store.claim_rows(WEEK, "", limit, T1, owner)]


def test_a_claim_answers_the_rows_as_stored(store: Store) -> None:
    frozen(store, 3)
    tokens = {s.id: s.token_id for s in store.list_subscribers()}
    rows = store.claim_rows(WEEK, "", 2, T1, "w1")
    stored = {d.id: d for d in store.deliveries(WEEK, S.SUBMITTING)}
    assert [type(row) for row in rows] == [tuple, tuple]
    assert rows == [
        (d.id, d.subscriber_id, d.email, d.name, tokens[d.subscriber_id])
        for d in sorted(stored.values(), key=lambda d: d.id)
    ]
    assert all((d.attempts, d.updated_at) == (1, T1) for d in stored.values())


def test_the_next_claim_takes_the_rows_after_the_last(store: Store) -> None:
    ids = frozen(store, 7)
    assert claim(store, 2) == ids[:2]
    assert claim(store, 2) == ids[2:4]
    # Another store puts back a row this one claimed: the next claims do not see it before
    # the rows after theirs run out (the last of them comes short), and then they take it.
    with Store(store.engine.url.render_as_string(hide_password=False)) as other:
        other.finish_batch([(ids[0], S.PENDING, "")], T1)
    assert claim(store, 2) == ids[4:6]
    assert claim(store, 2) == [ids[6]]
    assert claim(store, 2) == [ids[0]]
    assert claim(store, 2) == []
    assert store.delivery_counts(WEEK)["pending"] == 0


def test_the_look_for_rows_left_before_the_last_claim_holds_no_write_lock(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite that look walks the variant's rows, the claimed ones too (~0.1 s a million):
    inside the claim's transaction every other sender's claim waited for it."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's writer lock: on PostgreSQL a claim locks its own rows only")
    ids = frozen(store, 4)
    assert claim(store, 4) == ids
    with Store(store.engine.url.render_as_string(hide_password=False)) as other:
        other.finish_batch([(ids[1], S.PENDING, "")], T1)  # put back before this one's hint
    looked = ledger.first_pending
    writable: list[bool] = []

    def look(conn: Connection, week: str, variant: str) -> int | None:
        other = sqlite3.connect(str(store.engine.url.database), timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails at once while a writer holds the lock
            writable.append(True)
        except sqlite3.OperationalError:
            writable.append(False)
        finally:
            other.close()
        return looked(conn, week, variant)

    monkeypatch.setattr(ledger, "first_pending", look)
    assert claim(store, 4) == [ids[1]]
    assert claim(store, 4) == []
    assert writable == [True, True]


def test_a_row_put_back_is_claimed_again_first(store: Store) -> None:
    ids = frozen(store, 5)
    assert claim(store, 2) == ids[:2]
    store.finish_groups({(S.SENT, ""): [ids[1]], (S.PENDING, "timeout"): [ids[0]]}, T1)
    assert claim(store, 2) == [ids[0], ids[2]]


def test_a_crash_between_claim_and_outcome_leaves_the_rows_with_their_owner(
    database_url: str,
) -> None:
    with Store(database_url) as store:
        ids = frozen(store, 4)
        assert claim(store, 2, owner="w1") == ids[:2]
        # The process dies here, before the outcomes.
    with Store(database_url) as restarted:
        with restarted.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, state, owner FROM deliveries ORDER BY id"))
            assert [tuple(row) for row in rows] == [
                (ids[0], "submitting", "w1"),
                (ids[1], "submitting", "w1"),
                (ids[2], "pending", None),
                (ids[3], "pending", None),
            ]
        assert claim(restarted, 10, owner="w2") == ids[2:]


def test_a_database_error_of_a_claim_or_an_outcome_is_sqlalchemys(store: Store) -> None:
    # The claim and the outcomes run through the driver itself: its errors still come as
    # SQLAlchemy's, like every other statement's, and roll the transaction back.
    ids = frozen(store, 2)
    assert claim(store, 1) == ids[:1]
    with store.engine.begin() as conn:
        for statement in TRIGGERS[store.engine.dialect.name]:
            conn.execute(text(statement))
    with pytest.raises(DBAPIError, match="stopped by a trigger"):
        store.finish_batch([(ids[0], S.SENT, "")], T2)
    with pytest.raises(DBAPIError, match="stopped by a trigger"):
        store.claim_rows(WEEK, "", 1, T2, None)
    assert store.delivery_counts(WEEK)["submitting"] == 1  # both rolled back
    assert store.delivery_counts(WEEK)["pending"] == 1


def test_concurrent_senders_claim_each_row_once_and_leave_none(database_url: str) -> None:
    with Store(database_url) as first:
        ids = frozen(first, 1_200)
    stores = [Store(database_url) for _ in range(3)]
    claimed: list[list[int]] = [[] for _ in stores]
    put_back: list[int] = []
    barrier = threading.Barrier(len(stores))

    def run(n: int) -> None:
        barrier.wait()
        while rows := stores[n].claim_rows(WEEK, "", 50, T1, f"w{n}"):
            got = [row[0] for row in rows]
            claimed[n].extend(got)
            groups = {(S.SENT, ""): got}
            if len(claimed[n]) == len(got):  # each sender puts its first batch's first row back
                groups = {(S.PENDING, "timeout"): got[:1], (S.SENT, ""): got[1:]}
                put_back.append(got[0])
            stores[n].finish_groups(groups, T1)

    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            list(pool.map(run, range(len(stores))))
    finally:
        for opened in stores:
            opened.close()
    every = sorted(i for got in claimed for i in got)
    assert every == sorted(ids + put_back)
    with Store(database_url) as after:
        assert after.delivery_counts(WEEK)["sent"] == 1_200


_UPDATES = (
    "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = 'deliveries'::regclass"
)


@pytest.mark.empty_database  # a table of its own: the server's counts are this test's
def test_on_postgresql_a_send_updates_the_ledger_without_new_index_entries(
    database_url: str,
) -> None:
    """Issue 14: no index on PostgreSQL names a column a send changes, and the ledger's pages
    have room (fillfactor): claims and outcomes are HOT updates. With state in a partial
    index's WHERE (the SQLite layout) not one would be."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    with Store(database_url) as store:
        ids = frozen(store, 2_000)
        with store.engine.connect() as conn:
            plan = conn.exec_driver_sql(
                "EXPLAIN SELECT id FROM deliveries WHERE week = %(w)s AND state = 'pending' "
                "AND variant = '' AND id > 0 ORDER BY id LIMIT 1000",
                {"w": WEEK},
            ).fetchall()
        while rows := store.claim_rows(WEEK, "", 500, T1, "w1"):
            store.finish_groups({(S.SENT, ""): [row[0] for row in rows]}, T2)
        assert store.delivery_counts(WEEK)["sent"] == len(ids)
    # The server counts a backend's updates when the backend ends (closed with the store).
    with Store(database_url) as store, store.engine.connect() as conn:
        for _ in range(300):
            updated, hot = conn.exec_driver_sql(_UPDATES).one()
            if updated >= 2 * len(ids):
                break
            conn.rollback()  # a new snapshot of the statistics
            threading.Event().wait(0.1)
    assert updated == 2 * len(ids)  # claimed, then settled: two updates a row
    # ~90% on a quiet server. A transaction held open elsewhere keeps the dead versions from
    # being pruned: then the claims' versions still fit in the free half of each page.
    assert hot >= updated // 4, (updated, hot)
    assert "ix_deliveries_week_variant_id" in " ".join(str(row[0]) for row in plan), plan


_LEDGER_KEYS = {
    "sqlite": "SELECT \"table\" FROM pragma_foreign_key_list('deliveries')",
    "postgresql": (
        "SELECT confrelid::regclass::text FROM pg_constraint "
        "WHERE conrelid = 'deliveries'::regclass AND contype = 'f'"
    ),
}


def test_a_ledgers_edition_is_kept_by_its_send_and_postgresql_checks_no_key_per_row(
    store: Store,
) -> None:
    """Issue 14: on PostgreSQL a foreign key is a trigger run for every row a freeze writes
    (~35 % of its server CPU), so the ledger has none there; SQLite keeps its key. Either way
    the edition of a frozen ledger cannot go: its edition_sends row holds it."""
    frozen(store, 3)
    with store.engine.connect() as conn:
        dialect = conn.dialect.name
        referenced = [row[0] for row in conn.exec_driver_sql(_LEDGER_KEYS[dialect])]
        assert referenced == ([] if dialect == "postgresql" else ["editions"])
        with pytest.raises(DBAPIError, match=r"(?i)foreign key"):
            conn.execute(text("DELETE FROM editions WHERE week = :w"), {"w": WEEK})
        conn.rollback()
    assert store.delivery_counts(WEEK)["pending"] == 3
    assert store.send_status(WEEK) is not None


def test_the_ledgers_counts_take_one_pass_without_a_sort(store: Store) -> None:
    """Issue 14: grouping a week's rows by state made SQLite sort them all in a temporary
    b-tree as every send started and ended (PostgreSQL grouped them too). The counts are one
    aggregate per state in one pass."""
    ids = frozen(store, 5)
    claimed = claim(store, 3, "w1")
    store.finish_groups({(S.SENT, ""): claimed[:2], (S.FAILED, "bounced"): claimed[2:]}, T2)
    claim(store, 1, "w1")
    counts = store.delivery_counts(WEEK)
    assert counts == {**dict.fromkeys(S, 0), "sent": 2, "failed": 1, "submitting": 1, "pending": 1}
    assert sum(counts.values()) == len(ids)
    assert store.delivery_counts("2026-W11") == dict.fromkeys(S, 0)
    with store.engine.connect() as conn:
        dialect = conn.dialect.name
        explain = "EXPLAIN " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
        rows = conn.execute(text(explain + DELIVERY_COUNTS), {"week": WEEK})
        plan = " ".join(str(r[0] if dialect == "postgresql" else r[-1]) for r in rows)
    assert "TEMP B-TREE" not in plan and "Sort" not in plan and "Group" not in plan, plan
