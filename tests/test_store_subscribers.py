"""Subscribers in the store, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from syndicate.models import Subscriber, SubscriberStatus
from syndicate.store import DuplicateSubscriber, Store
from syndicate.store import schema as tables

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
ACTIVE = SubscriberStatus.ACTIVE
PENDING = SubscriberStatus.PENDING


def test_add_and_get_round_trip(store: Store) -> None:
    local = datetime(2026, 3, 2, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    made = store.add_subscriber("Ann@Example.com", "Ann", ["news", "tech"], ACTIVE, local)
    assert made == Subscriber(
        id=made.id,
        email="Ann@Example.com",
        name="Ann",
        status=ACTIVE,
        categories=frozenset({"news", "tech"}),
        created_at=T0,
        confirmed_at=T0,
    )
    assert made.created_at is not None and made.created_at.utcoffset() == timedelta(0)
    assert store.get_subscriber(made.id) == made
    assert store.get_subscriber(made.id + 1000) is None


def test_pending_subscriber_is_not_confirmed_until_active(store: Store) -> None:
    made = store.add_subscriber("bob@example.com", "", [], PENDING, T0)
    assert made.confirmed_at is None and made.categories == frozenset()
    assert store.set_status(made.id, ACTIVE, T1)
    assert store.get_subscriber(made.id) == Subscriber(
        made.id, "bob@example.com", "", ACTIVE, frozenset(), T0, T1
    )
    # Confirmed once: leaving and coming back keeps the first confirmation.
    assert store.set_status(made.id, SubscriberStatus.UNSUBSCRIBED, T1 + timedelta(hours=1))
    assert store.set_status(made.id, ACTIVE, T1 + timedelta(hours=2))
    again = store.get_subscriber(made.id)
    assert again is not None and again.confirmed_at == T1 and again.status is ACTIVE
    assert not store.set_status(made.id + 1000, ACTIVE, T1)


def test_addresses_are_unique_whatever_their_case(store: Store) -> None:
    store.add_subscriber("Ann@Example.com", "Ann", [], ACTIVE, T0)
    with pytest.raises(DuplicateSubscriber, match=r"ANN@example\.COM: already a subscriber"):
        store.add_subscriber("ANN@example.COM", "Other", ["x"], ACTIVE, T1)
    found = store.find_subscriber("aNn@eXample.com")
    assert found is not None and found.name == "Ann" and found.categories == frozenset()
    assert store.find_subscriber("nobody@example.com") is None
    assert len(list(store.list_subscribers())) == 1


def test_the_database_itself_refuses_a_second_key(store: Store) -> None:
    store.add_subscriber("ann@example.com", "Ann", [], ACTIVE, T0)
    row = {
        "email": "ANN@example.com",
        "email_key": "ann@example.com",
        "name": "",
        "status": "active",
        "created_at": T0,
        "updated_at": T0,
    }
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(tables.subscribers.insert().values(row))


def test_add_under_a_race_makes_one_subscriber(database_url: str) -> None:
    spellings = ["Same@Example.com", "same@example.com", "SAME@EXAMPLE.COM", "sAme@example.com"]
    stores = [Store(database_url) for _ in spellings]
    barrier = threading.Barrier(len(stores))
    outcomes: list[str] = []

    def run(n: int) -> None:
        barrier.wait()
        try:
            stores[n].add_subscriber(spellings[n], "", [], ACTIVE, T0)
            outcomes.append("added")
        except DuplicateSubscriber:
            outcomes.append("duplicate")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in stores:
        opened.close()
    assert sorted(outcomes) == ["added"] + ["duplicate"] * 3


def test_import_adds_new_and_leaves_known_addresses_alone(store: Store) -> None:
    store.add_subscriber("ann@example.com", "Ann", ["life"], SubscriberStatus.UNSUBSCRIBED, T0)
    rows = [
        ("ANN@example.com", "Ann Again", frozenset({"news"})),
        ("bob@example.com", "Bob", frozenset({"news", "tech"})),
        ("cy@example.com", "", frozenset()),
        ("Bob@Example.com", "Bob twice", frozenset()),
    ]
    assert store.import_subscribers(rows, T1) == (2, 2)
    ann = store.find_subscriber("ann@example.com")
    assert ann is not None
    assert (ann.name, ann.status, ann.categories) == (
        "Ann",
        SubscriberStatus.UNSUBSCRIBED,
        frozenset({"life"}),
    )
    bob = store.find_subscriber("bob@example.com")
    assert bob == Subscriber(
        bob.id if bob else 0, "bob@example.com", "Bob", ACTIVE, frozenset({"news", "tech"}), T1, T1
    )


def test_importing_the_same_rows_twice_changes_nothing(store: Store) -> None:
    rows = [
        (f"user{n}@example.com", f"User {n}", frozenset({"news"} if n % 3 else set()))
        for n in range(2_000)
    ]
    assert store.import_subscribers(rows, T0) == (2_000, 0)
    before = list(store.list_subscribers())
    assert store.import_subscribers(rows, T1) == (0, 2_000)
    assert list(store.list_subscribers()) == before
    assert store.subscriber_counts()["active"] == 2_000


def test_import_with_another_status(store: Store) -> None:
    assert store.import_subscribers([("a@example.com", "", frozenset())], T0, PENDING) == (1, 0)
    found = store.find_subscriber("a@example.com")
    assert found is not None and found.status is PENDING and found.confirmed_at is None
    assert store.import_subscribers([], T0) == (0, 0)


def test_list_streams_by_id_and_filters_by_status(store: Store) -> None:
    statuses = list(SubscriberStatus)
    for n in range(25):
        categories = [f"c{k}" for k in range(n % 4)]
        store.add_subscriber(f"u{n:02d}@example.com", f"U{n}", categories, statuses[n % 5], T0)
    everyone = store.list_subscribers()
    first = next(everyone)
    rest = list(everyone)
    assert [s.email for s in [first, *rest]] == [f"u{n:02d}@example.com" for n in range(25)]
    assert [s.id for s in rest] == sorted(s.id for s in rest)
    assert rest[2].categories == frozenset({"c0", "c1", "c2"})
    bounced = list(store.list_subscribers(SubscriberStatus.BOUNCED))
    assert [s.email for s in bounced] == [f"u{n:02d}@example.com" for n in range(3, 25, 5)]
    assert all(s.status is SubscriberStatus.BOUNCED for s in bounced)


@pytest.mark.slow
def test_list_streams_a_large_list_with_categories_intact(store: Store) -> None:
    rows = [(f"u{n}@example.com", "", frozenset({f"c{n % 7}", "all"})) for n in range(6_000)]
    store.import_subscribers(rows, T0)
    seen = 0
    for n, subscriber in enumerate(store.list_subscribers()):
        assert subscriber.email == f"u{n}@example.com"
        assert subscriber.categories == frozenset({f"c{n % 7}", "all"})
        seen += 1
    assert seen == 6_000


def test_set_categories_replaces_them(store: Store) -> None:
    made = store.add_subscriber("ann@example.com", "Ann", ["news"], ACTIVE, T0)
    assert store.set_categories(made.id, ["tech", "life"], T1)
    found = store.get_subscriber(made.id)
    assert found is not None and found.categories == frozenset({"tech", "life"})
    assert store.set_categories(made.id, [], T1)
    found = store.get_subscriber(made.id)
    assert found is not None and found.categories == frozenset()
    assert not store.set_categories(made.id + 1000, ["x"], T1)
    with store.engine.connect() as conn:
        updated = conn.scalar(
            select(tables.subscribers.c.updated_at).where(tables.subscribers.c.id == made.id)
        )
    assert updated == T1


def test_remove_deletes_the_subscriber_and_preferences(store: Store) -> None:
    ann = store.add_subscriber("Ann@Example.com", "Ann", ["news", "tech"], ACTIVE, T0)
    bob = store.add_subscriber("bob@example.com", "Bob", ["news"], ACTIVE, T0)
    assert store.remove_subscriber("ANN@EXAMPLE.COM")
    assert not store.remove_subscriber("ann@example.com")
    assert store.get_subscriber(ann.id) is None and store.get_subscriber(bob.id) == bob
    with store.engine.connect() as conn:
        left = conn.scalar(select(func.count()).select_from(tables.subscriber_categories))
    assert left == 1


def test_a_removed_subscriber_id_is_never_given_again(store: Store) -> None:
    last = store.add_subscriber("last@example.com", "", [], ACTIVE, T0)
    store.remove_subscriber("last@example.com")
    again = store.add_subscriber("last@example.com", "", [], ACTIVE, T1)
    assert again.id > last.id


def test_counts_by_status(store: Store) -> None:
    assert store.subscriber_counts() == dict.fromkeys([s.value for s in SubscriberStatus], 0)
    store.add_subscriber("a@example.com", "", [], ACTIVE, T0)
    store.add_subscriber("b@example.com", "", [], ACTIVE, T0)
    store.add_subscriber("c@example.com", "", [], SubscriberStatus.COMPLAINED, T0)
    counts = store.subscriber_counts()
    assert counts["active"] == 2 and counts["complained"] == 1 and counts["pending"] == 0
    assert sum(counts.values()) == 3
