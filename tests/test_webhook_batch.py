"""A webhook call's events in one transaction (issue 13): the batch does what recording the
events one by one did, dedups by the provider's id (within the batch too), and a failure
part-way leaves nothing recorded."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from tests.test_webhook_events import NOW, WEEK, uncertain_rows
from tests.webhook_signing import event

from syndicate.delivery.sendgrid_events import sendgrid_event
from syndicate.models import SubscriberStatus
from syndicate.pipeline.events import decide, process_events, to_record
from syndicate.store import Store, event_batch

S = SubscriberStatus
KINDS = ["processed", "delivered", "bounce", "spamreport", "unsubscribe", "dropped", "open"]
REASONS = ["Bounced Address", "Invalid", "Spam Reporting Address", "Unsubscribed Address", "x"]


@pytest.fixture
def two_stores(database_url: str) -> Iterator[tuple[Store, Store]]:
    if not database_url.startswith("sqlite"):
        pytest.skip("two independent stores are made from SQLite files")
    base = database_url.rsplit("/", 1)[0]
    with Store(f"{base}/one.db") as one, Store(f"{base}/two.db") as two:
        yield one, two


def events(seed: int, emails: list[str], ids: list[int], count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        kind = rng.choice(KINDS)
        fields: dict[str, Any] = {"week": WEEK} if rng.random() < 0.8 else {}
        if rng.random() < 0.5:
            fields["delivery_id"] = str(rng.choice(ids))
        if kind == "dropped":
            fields["reason"] = rng.choice(REASONS)
        event_id = f"ev-{rng.randrange(count // 2 + 1)}"  # repeats, within and across calls
        out.append(event(kind, rng.choice(emails).upper(), event_id, NOW, **fields))
    return out


def state(store: Store) -> tuple[Any, ...]:
    statuses = sorted((s.email, s.status.value) for s in store.list_subscribers())
    ledger = sorted((d.email, d.state.value, d.error) for d in store.deliveries(WEEK))
    recorded = sorted(
        (e.provider_event_id, action) for e, action, _ in store.webhook_events(10_000)
    )
    return statuses, ledger, recorded


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_batch_does_what_the_events_one_by_one_did(
    two_stores: tuple[Store, Store], seed: int
) -> None:
    one, two = two_stores
    emails = [f"r{n}@example.org" for n in range(12)]
    ids = uncertain_rows(one, *emails)
    assert uncertain_rows(two, *emails) == ids
    for call in range(3):
        items = events(seed * 10 + call, emails, ids, 60)
        for item in items:  # the old way: one transaction per event
            one.record_event(to_record(sendgrid_event(item)), decide(sendgrid_event(item)), NOW)
        batch = [(to_record(sendgrid_event(item)), decide(sendgrid_event(item))) for item in items]
        outcomes = two.record_events(batch, NOW)
        assert len(outcomes) == len(items)
    assert state(one) == state(two)


def test_repeats_in_one_call_are_recorded_once(database_url: str) -> None:
    with Store(database_url) as store:
        store.add_subscriber("ann@example.org", "", (), S.ACTIVE, NOW)
        same = event("bounce", "ann@example.org", "ev-1", NOW)
        report = process_events(store, [sendgrid_event(e) for e in (same, same, dict(same))], NOW)
        assert (report.received, report.new, report.duplicates) == (3, 1, 2)
        assert report.status_changes == 1
        again = process_events(store, [sendgrid_event(same)], NOW)
        assert (again.new, again.status_changes) == (0, 0)


def test_a_failure_part_way_leaves_nothing_recorded(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(database_url) as store:
        store.add_subscriber("ann@example.org", "", (), S.ACTIVE, NOW)
        store.add_subscriber("bob@example.org", "", (), S.ACTIVE, NOW)
        calls = 0
        real = event_batch.set_status_by_email

        def fail_second(*args: Any) -> bool:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise RuntimeError("the database went away")
            return real(*args)

        monkeypatch.setattr(event_batch, "set_status_by_email", fail_second)
        items = [
            event("bounce", "ann@example.org", "ev-a", NOW),
            event("spamreport", "bob@example.org", "ev-b", NOW),
        ]
        with pytest.raises(RuntimeError):
            process_events(store, [sendgrid_event(i) for i in items], NOW)
        assert store.webhook_events() == []
        assert {s.status for s in store.list_subscribers()} == {S.ACTIVE}
