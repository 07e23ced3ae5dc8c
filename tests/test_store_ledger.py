"""The delivery ledger, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from syndicate.models import Delivery, DeliveryState, SubscriberStatus
from syndicate.store import (
    SendStatus,
    Store,
    recipients,
    variant_categories,
    variant_key,
)
from syndicate.store.convert import CHUNK
from syndicate.store.ledger import INTERRUPTED
from syndicate.store.schema import delivery_ranges

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
T2 = T0 + timedelta(minutes=10)
WEEK = "2026-W10"
EDITION = frozenset({"News", "Tech", "Life"})
ACTIVE = SubscriberStatus.ACTIVE
S = DeliveryState


def edition(store: Store, week: str = WEEK) -> None:
    store.create_edition(week, T0, f"Digest {week}", [])


def people(store: Store, count: int, categories: tuple[str, ...] = ()) -> list[int]:
    rows = [(f"p{n:04d}@example.com", f"P {n}", frozenset(categories)) for n in range(count)]
    store.import_subscribers(rows, T0)
    emails = {email for email, _, _ in rows}
    return [s.id for s in store.list_subscribers() if s.email in emails]


def add(store: Store, email: str, *categories: str, status: SubscriberStatus = ACTIVE) -> int:
    return store.add_subscriber(email, email.split("@")[0].title(), categories, status, T0).id


def claim_all(store: Store, variant: str = "", limit: int = 1000) -> list[Delivery]:
    return [d for d, _ in store.claim_batch(WEEK, variant, limit, T1)]


# --- variants --------------------------------------------------------------------------


def test_variant_key_round_trips() -> None:
    assert variant_key([]) == "" and variant_categories("") == frozenset()
    key = variant_key(["Tech", "News", "Tech"])
    assert key == "News\x1fTech"
    assert variant_categories(key) == frozenset({"News", "Tech"})


# --- freezing ----------------------------------------------------------------------------


def test_freeze_gives_each_active_reader_one_row_with_their_variant(store: Store) -> None:
    edition(store)
    everyone = add(store, "all@example.com")
    news = add(store, "news@example.com", "news")  # another case than the edition's
    both = add(store, "both@example.com", "Tech", "News", "Sport")
    add(store, "sport@example.com", "Sport")  # nothing of theirs this week: no row
    add(store, "gone@example.com", status=SubscriberStatus.UNSUBSCRIBED)
    add(store, "new@example.com", status=SubscriberStatus.PENDING)
    add(store, "bounced@example.com", "News", status=SubscriberStatus.BOUNCED)
    assert not store.send_started(WEEK)
    made = store.freeze_recipients(WEEK, T0, EDITION)
    assert made == {"": 1, "News": 1, "News\x1fTech": 1}
    assert store.send_started(WEEK)
    rows = {d.subscriber_id: d for d in store.deliveries(WEEK)}
    assert {sid: d.variant for sid, d in rows.items()} == {
        everyone: "",
        news: "News",
        both: "News\x1fTech",
    }
    assert rows[news] == Delivery(
        id=rows[news].id,
        week=WEEK,
        subscriber_id=news,
        email="news@example.com",
        state=S.PENDING,
        variant="News",
        attempts=0,
        error="",
        updated_at=T0,
        name="News",
        message_id="",
    )
    assert store.pending_variants(WEEK) == sorted(made.items())  # the freeze's own count
    assert store.frozen_variants(WEEK) == ["", "News", "News\x1fTech"]
    assert store.send_status(WEEK) == SendStatus(WEEK, T0, None, None)


def test_freeze_happens_once(store: Store) -> None:
    edition(store)
    people(store, 3)
    assert store.freeze_recipients(WEEK, T0, EDITION) == {"": 3}
    add(store, "late@example.com")
    assert store.freeze_recipients(WEEK, T1, EDITION) == {}
    assert len(store.deliveries(WEEK)) == 3
    assert store.send_status(WEEK) == SendStatus(WEEK, T0)


def test_freeze_with_nobody_still_marks_the_send_started(store: Store) -> None:
    edition(store)
    assert store.freeze_recipients(WEEK, T0, EDITION) == {}
    assert store.send_started(WEEK) and store.pending_variants(WEEK) == []
    assert store.frozen_variants(WEEK) == []


def test_freeze_of_an_unknown_edition_is_refused(store: Store) -> None:
    people(store, 2)
    with pytest.raises(ValueError, match="no edition '2026-W10'"):
        store.freeze_recipients(WEEK, T0, EDITION)
    assert not store.send_started(WEEK)


def test_freeze_in_many_id_lists_per_variant(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small fetches, so the stream of preferences (a server-side cursor on PostgreSQL) is
    # read between the inserts of the same transaction.
    monkeypatch.setattr(recipients, "_STREAM_ROWS", 97)
    edition(store)
    rows = [
        (f"u{n:05d}@example.com", "", frozenset([["news"], ["tech", "life"], [], ["x"]][n % 4]))
        for n in range(4_000)
    ]
    store.import_subscribers(rows, T0)
    made = store.freeze_recipients(WEEK, T0, EDITION)
    assert made == {"": 1_000, "Life\x1fTech": 1_000, "News": 1_000}
    assert store.pending_variants(WEEK) == sorted(made.items())
    emails = [d.email for d in store.deliveries(WEEK)]
    assert len(set(emails)) == 3_000


def test_each_variant_is_frozen_together_in_the_id_range_its_claims_walk(store: Store) -> None:
    """Readers of three variants in turn by id: their rows are written variant by variant, in
    the ranges stored for them, so a variant's claims never walk another's rows."""
    edition(store)
    rows = [
        (f"u{n:05d}@example.com", "", frozenset([["news"], ["tech"], []][n % 3]))
        for n in range(3 * CHUNK + 30)  # more than one id list a variant
    ]
    store.import_subscribers(rows, T0)
    store.freeze_recipients(WEEK, T0, EDITION)
    with store.engine.connect() as conn:
        spans = {v: (a, b) for _, v, a, b in conn.execute(select(delivery_ranges)).all()}
    by_variant: dict[str, list[int]] = {}
    for row in store.deliveries(WEEK):
        by_variant.setdefault(row.variant, []).append(row.id)
    assert set(spans) == set(by_variant) == {"", "News", "Tech"}
    for variant, ids in by_variant.items():
        assert ids == list(range(spans[variant][0], spans[variant][1] + 1)), variant
    claimed = store.claim_batch(WEEK, "Tech", 5_000, T1)
    assert sorted(d.id for d, _ in claimed) == by_variant["Tech"]


def test_concurrent_freezes_write_one_set(database_url: str) -> None:
    with Store(database_url) as first:
        edition(first)
        people(first, 300)
    stores = [Store(database_url) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    created: list[int] = []

    def run(n: int) -> None:
        barrier.wait()
        created.append(sum(stores[n].freeze_recipients(WEEK, T0, EDITION).values()))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in stores:
        opened.close()
    assert sorted(created) == [0, 0, 0, 300]
    with Store(database_url) as store:
        assert store.delivery_counts(WEEK)["pending"] == 300


# --- claiming and settling -----------------------------------------------------------------


def test_claim_takes_the_next_rows_of_one_variant_in_id_order(store: Store) -> None:
    edition(store)
    ids = people(store, 5)
    news = add(store, "news@example.com", "News")
    store.freeze_recipients(WEEK, T0, EDITION)
    first = store.claim_batch(WEEK, "", 2, T1)
    assert [(d.subscriber_id, status) for d, status in first] == [
        (ids[0], ACTIVE),
        (ids[1], ACTIVE),
    ]
    claimed = first[0][0]
    assert (claimed.state, claimed.attempts, claimed.updated_at) == (S.SUBMITTING, 1, T1)
    assert claimed == store.deliveries(WEEK, S.SUBMITTING)[0]
    assert [d.subscriber_id for d in claim_all(store, "", 10)] == ids[2:]
    assert claim_all(store, "") == []
    assert store.pending_variants(WEEK) == [("News", 1)]
    assert [d.subscriber_id for d in claim_all(store, "News")] == [news]


def test_readers_who_left_after_the_freeze_are_skipped_not_sent(store: Store) -> None:
    edition(store)
    ids = people(store, 6)
    store.freeze_recipients(WEEK, T0, EDITION)
    store.set_status(ids[1], SubscriberStatus.UNSUBSCRIBED, T0)
    store.set_status(ids[2], SubscriberStatus.COMPLAINED, T0)
    store.remove_subscriber("p0003@example.com")
    batch = store.claim_batch(WEEK, "", 2, T1)
    # The skipped ones do not count towards the limit.
    assert [d.subscriber_id for d, _ in batch] == [ids[0], ids[4]]
    assert all(status is ACTIVE for _, status in batch)
    skipped = {d.subscriber_id: d for d in store.deliveries(WEEK, S.SKIPPED)}
    assert {sid: d.error for sid, d in skipped.items()} == {
        ids[1]: "subscriber unsubscribed",
        ids[2]: "subscriber complained",
        ids[3]: "subscriber removed",
    }
    # A removed reader's row keeps the address and name it was frozen with.
    assert (skipped[ids[3]].email, skipped[ids[3]].name) == ("p0003@example.com", "P 3")
    assert all(d.attempts == 0 for d in skipped.values())
    assert [d.subscriber_id for d in claim_all(store)] == [ids[5]]


def test_a_variant_of_only_departed_readers_claims_nothing(store: Store) -> None:
    edition(store)
    ids = people(store, 3)
    store.freeze_recipients(WEEK, T0, EDITION)
    for sid in ids:
        store.set_status(sid, SubscriberStatus.BOUNCED, T0)
    assert store.claim_batch(WEEK, "", 2, T1) == []
    assert store.delivery_counts(WEEK)["skipped"] == 3 and store.pending_variants(WEEK) == []


def test_finish_writes_each_outcome(store: Store) -> None:
    edition(store)
    people(store, 5)
    store.freeze_recipients(WEEK, T0, EDITION)
    a, b, c, d, e = claim_all(store)
    outcomes = [
        (a.id, S.SENT, ""),
        (b.id, S.FAILED, "550 no such user"),
        (c.id, S.UNCERTAIN, "timeout after the request was sent"),
        (d.id, S.PENDING, "503, not accepted"),
        (e.id, S.SENT, ""),
    ]
    assert store.finish_batch(outcomes, T2) == 5
    by_id = {row.id: row for row in store.deliveries(WEEK)}
    assert [(by_id[x.id].state, by_id[x.id].error) for x in (a, b, c, d)] == [
        (S.SENT, ""),
        (S.FAILED, "550 no such user"),
        (S.UNCERTAIN, "timeout after the request was sent"),
        (S.PENDING, "503, not accepted"),
    ]
    assert by_id[a.id].updated_at == T2
    # The one put back is claimed again, its attempts counted.
    (again,) = claim_all(store)
    assert again.id == d.id and again.attempts == 2
    counts = store.delivery_counts(WEEK)
    assert counts == {**dict.fromkeys([s.value for s in S], 0), "sent": 2, "failed": 1,
                      "uncertain": 1, "submitting": 1}  # fmt: skip


def test_a_row_put_back_is_claimed_next_and_the_claims_go_on_after_it(store: Store) -> None:
    edition(store)
    people(store, 6)
    store.freeze_recipients(WEEK, T0, EDITION)
    ids = [row.id for row in store.deliveries(WEEK)]
    first = store.claim_rows(WEEK, "", 3, T1, None)
    assert [row[0] for row in first] == ids[:3]
    settle = {(S.SENT, ""): [ids[0], ids[2]], (S.PENDING, "503, not accepted"): [ids[1]]}
    second = store.claim_rows(WEEK, "", 2, T1, None, settle=settle)
    assert [row[0] for row in second] == [ids[1], ids[3]]  # the row put back first
    assert [row[0] for row in store.claim_rows(WEEK, "", 5, T1, None)] == ids[4:]
    assert store.claim_rows(WEEK, "", 5, T1, None) == []


def test_finish_never_overwrites_a_settled_row(store: Store) -> None:
    edition(store)
    people(store, 2)
    store.freeze_recipients(WEEK, T0, EDITION)
    a, b = claim_all(store)
    assert store.finish_batch([(a.id, S.SENT, "")], T2) == 1
    assert store.finish_batch([(a.id, S.PENDING, ""), (b.id, S.FAILED, "bad")], T2) == 1
    assert store.deliveries(WEEK, S.SENT)[0].id == a.id
    with pytest.raises(ValueError, match="'submitting' is not an outcome"):
        store.finish_batch([(b.id, S.SUBMITTING, "")], T2)
    assert store.finish_batch([], T2) == 0


def test_finish_a_large_batch_in_several_id_lists(store: Store) -> None:
    edition(store)
    people(store, 2_500)
    store.freeze_recipients(WEEK, T0, EDITION)
    claimed = claim_all(store, limit=2_500)
    assert len(claimed) == 2_500
    outcomes = [(d.id, S.SENT if n % 5 else S.FAILED, "" if n % 5 else "no") for n, d in
                enumerate(claimed)]  # fmt: skip
    assert store.finish_batch(outcomes, T2) == 2_500
    counts = store.delivery_counts(WEEK)
    assert (counts["sent"], counts["failed"], counts["submitting"]) == (2_000, 500, 0)


# --- crashes and the operator -------------------------------------------------------------


def test_rows_left_submitting_by_a_crash_become_uncertain_and_are_not_resent(
    database_url: str,
) -> None:
    with Store(database_url) as store:
        edition(store)
        people(store, 5)
        store.freeze_recipients(WEEK, T0, EDITION)
        first = store.claim_batch(WEEK, "", 2, T1)
        store.finish_batch([(first[0][0].id, S.SENT, "")], T1)
        # The process dies here: the second row of the batch has no outcome.
    with Store(database_url) as restarted:
        assert restarted.recover_interrupted(WEEK, T2) == 1
        assert restarted.recover_interrupted(WEEK, T2) == 0
        (uncertain,) = restarted.deliveries(WEEK, S.UNCERTAIN)
        assert uncertain.id == first[1][0].id and uncertain.error == INTERRUPTED
        assert uncertain.updated_at == T2
        resumed = [d.id for d, _ in restarted.claim_batch(WEEK, "", 10, T2)]
        assert uncertain.id not in resumed and len(resumed) == 3


def test_reset_uncertain_is_the_operators_resend(store: Store) -> None:
    edition(store)
    people(store, 3)
    store.freeze_recipients(WEEK, T0, EDITION)
    a, b, c = claim_all(store)
    store.finish_batch([(a.id, S.UNCERTAIN, "timeout"), (b.id, S.SENT, ""), (c.id, S.SENT, "")], T1)
    store.mark_send_finished(WEEK, T1)
    assert store.reset_uncertain(WEEK, T2) == 1
    assert store.send_status(WEEK) == SendStatus(WEEK, T0, None, None)
    (again,) = claim_all(store)
    assert again.id == a.id and again.attempts == 2 and again.error == ""
    assert store.reset_uncertain(WEEK, T2) == 0


def test_send_status_pause_and_finish(store: Store) -> None:
    edition(store)
    assert store.send_status(WEEK) is None
    assert not store.mark_send_paused(WEEK, "5 requests failed in a row")
    store.freeze_recipients(WEEK, T0, EDITION)
    assert store.mark_send_paused(WEEK, "5 requests failed in a row")
    assert store.send_status(WEEK) == SendStatus(WEEK, T0, None, "5 requests failed in a row")
    assert store.mark_send_paused(WEEK, None)
    assert store.send_status(WEEK) == SendStatus(WEEK, T0, None, None)
    store.mark_send_paused(WEEK, "again")
    assert store.mark_send_finished(WEEK, T2)
    assert store.send_status(WEEK) == SendStatus(WEEK, T0, T2, None)


def test_weeks_are_kept_apart(store: Store) -> None:
    edition(store)
    edition(store, "2026-W11")
    people(store, 2)
    store.freeze_recipients(WEEK, T0, EDITION)
    store.freeze_recipients("2026-W11", T0, EDITION)
    claim_all(store)
    assert store.delivery_counts("2026-W11")["pending"] == 2
    assert store.delivery_counts(WEEK)["submitting"] == 2
    assert store.recover_interrupted("2026-W11", T2) == 0
    assert store.deliveries("2026-W12") == [] and store.pending_variants("2026-W12") == []


def test_concurrent_senders_never_claim_a_row_twice(database_url: str) -> None:
    with Store(database_url) as first:
        edition(first)
        people(first, 1_200)
        first.freeze_recipients(WEEK, T0, EDITION)
    stores = [Store(database_url) for _ in range(3)]
    claimed: list[list[int]] = [[] for _ in stores]
    barrier = threading.Barrier(len(stores))

    def run(n: int) -> None:
        barrier.wait()
        while batch := stores[n].claim_batch(WEEK, "", 50, T1):
            claimed[n].extend(d.id for d, _ in batch)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in stores:
        opened.close()
    every = [i for ids in claimed for i in ids]
    assert len(every) == 1_200 and len(set(every)) == 1_200
