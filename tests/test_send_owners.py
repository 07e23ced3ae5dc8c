"""Issue 10, "Senders misjudge each other": a send claims its batches under an owner with a
heartbeat, and only a dead owner's rows in flight become uncertain. Two senders here are two
threads with separate engines (separate Stores) on one database, SQLite and PostgreSQL, the
real SendGrid client against the loopback stand-in."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.sendgrid_standin import Fault, SendGridStandIn

from syndicate.config import Settings
from syndicate.delivery.sendgrid import SendGridSender
from syndicate.models import Article, DeliveryState, SubscriberStatus
from syndicate.pipeline.edition import freeze_edition, prepare_edition
from syndicate.pipeline.owners import Heartbeat, this_host
from syndicate.pipeline.send import SendReport, resend_uncertain, send_edition
from syndicate.store import SenderRow, Store

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WEEK = "2026-W47"  # the week that just ended: what the Monday send covers
KEY = f"weekly:{WEEK}"  # the edition's key in the ledger
SECRET = "AFqM6Bln4J8zNJ1ddMVvhaFvY7a3VqMJUpHcjlfTDtg"
API_KEY = "SG.test-key"
HANG_GUARD = 60.0


def clock() -> datetime:
    return NOW


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    return Settings.model_validate(
        {
            "site": {"title": "Astro", "url": "https://astro.example.org/"},
            "email": {"from_address": "digest@astro.example.org"},
            "delivery": {"outbox_dir": str(tmp_path / "out"), "owner_timeout": "2m"},
            "root": tmp_path,
        }
    )


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with Store(database_url) as opened:
        opened.upsert_articles(
            [
                Article(
                    guid="urn:uuid:00000000-0000-0000-0000-000000000001",
                    slug="meteors",
                    title="Meteors over the dam",
                    link="https://astro.example.org/meteors",
                    published=NOW - timedelta(days=1),
                    category="Events",
                    summary="Forty meteors.",
                    content="<p>Forty.</p>",
                    content_hash="h1",
                )
            ],
            NOW,
        )
        yield opened


def subscribe(store: Store, count: int) -> list[str]:
    emails = [f"reader{i}@example.com" for i in range(count)]
    for email in emails:
        store.add_subscriber(email, "", (), SubscriberStatus.ACTIVE, NOW)
    return emails


def sendgrid(standin: SendGridStandIn, batch: int) -> SendGridSender:
    sender = SendGridSender(
        API_KEY, base_url=standin.base_url, timeout=HANG_GUARD, max_retries=1, sleep=lambda _: None
    )
    sender.max_batch = batch
    return sender


def freeze(settings: Settings, store: Store) -> None:
    edition = prepare_edition(settings, store, WEEK, now=NOW)
    assert edition is not None
    freeze_edition(settings, store, edition, NOW)


def states(store: Store) -> dict[str, DeliveryState]:
    return {row.email: row.state for row in store.deliveries(KEY)}


def test_a_second_send_beside_a_live_one_helps_and_marks_nothing_uncertain(
    settings: Settings, store: Store, database_url: str
) -> None:
    readers = subscribe(store, 10)
    with SendGridStandIn(API_KEY) as standin:
        standin.inject(Fault.hold(max_seconds=HANG_GUARD))  # the first batch stays in flight
        first: list[SendReport] = []
        with Store(database_url) as own_store:
            running = threading.Thread(
                target=lambda: first.append(
                    send_edition(settings, own_store, sendgrid(standin, 2), WEEK, clock=clock)
                )
            )
            running.start()
            try:
                assert standin.held.wait(HANG_GUARD), "the first send never made its request"
                in_flight = [e for e, s in states(store).items() if s is DeliveryState.SUBMITTING]
                assert len(in_flight) == 2
                with Store(database_url) as beside:
                    second = send_edition(settings, beside, sendgrid(standin, 2), WEEK, clock=clock)
                assert second.recovered == 0, "the live sender's rows were taken for a crash's"
                assert second.elsewhere == 2 and second.requests == 4  # it sent the other 8
                assert all(states(store)[e] is DeliveryState.SUBMITTING for e in in_flight)
                status = store.send_status(KEY)
                assert status is not None and status.finished_at is None
            finally:
                standin.release.set()
                running.join(HANG_GUARD)
        assert dict(standin.copies) == {email: 1 for email in readers}
    assert first[0].recovered == 0 and first[0].requests == 1
    assert set(states(store).values()) == {DeliveryState.SENT}
    status = store.send_status(KEY)
    assert status is not None and status.finished_at is not None
    assert store.senders() == [], "both senders deregistered"


def test_only_rows_of_a_sender_whose_heartbeat_is_older_than_the_timeout_become_uncertain(
    settings: Settings, store: Store
) -> None:
    subscribe(store, 6)
    freeze(settings, store)
    stale = SenderRow("a" * 32, "elsewhere/boot/1", 4242, KEY, NOW, NOW - timedelta(minutes=3))
    fresh = SenderRow("b" * 32, "elsewhere/boot/1", 4243, KEY, NOW, NOW - timedelta(minutes=1))
    for row in (stale, fresh):
        store.register_sender(row)
    dead = [d.email for d, _ in store.claim_batch(KEY, "", 2, NOW, stale.id)]
    alive = [d.email for d, _ in store.claim_batch(KEY, "", 2, NOW, fresh.id)]
    with SendGridStandIn(API_KEY) as standin:
        report = send_edition(settings, store, sendgrid(standin, 1000), WEEK, clock=clock)
        assert len(standin.copies) == 2 and not set(standin.copies) & {*dead, *alive}
    found = states(store)
    assert report.recovered == 2 and {found[e] for e in dead} == {DeliveryState.UNCERTAIN}
    assert {found[e] for e in alive} == {DeliveryState.SUBMITTING}
    assert report.elsewhere == 2
    status = store.send_status(KEY)
    assert status is not None and status.finished_at is None, "not done while rows are in flight"
    assert [row.id for row in store.senders()] == [fresh.id], "the dead one was reaped"


def test_a_sender_of_this_machine_whose_process_exited_is_dead_at_once(
    settings: Settings, store: Store
) -> None:
    subscribe(store, 3)
    freeze(settings, store)
    exited = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                            capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(exited.stdout)
    killed = SenderRow("c" * 32, this_host(), pid, KEY, NOW, NOW)  # a fresh heartbeat
    store.register_sender(killed)
    lost = [d.email for d, _ in store.claim_batch(KEY, "", 1, NOW, killed.id)]
    with SendGridStandIn(API_KEY) as standin:
        report = send_edition(settings, store, sendgrid(standin, 1000), WEEK, clock=clock)
    assert report.recovered == 1 and states(store)[lost[0]] is DeliveryState.UNCERTAIN
    assert report.counts["sent"] == 2 and store.send_status(KEY) is not None


def test_a_helper_that_died_while_the_send_ran_leaves_its_rows_uncertain_as_it_ends(
    settings: Settings, store: Store, database_url: str
) -> None:
    """No index holds the rows in flight (revision 0016): the send looks for them as it ends
    only because the ledger's counts show some, and a dead helper's become uncertain."""
    subscribe(store, 6)
    done: list[SendReport] = []
    with SendGridStandIn(API_KEY) as standin, Store(database_url) as own:
        standin.inject(Fault.hold(max_seconds=HANG_GUARD))  # the first batch stays in flight
        running = threading.Thread(
            target=lambda: done.append(
                send_edition(settings, own, sendgrid(standin, 2), WEEK, clock=clock)
            )
        )
        running.start()
        try:
            assert standin.held.wait(HANG_GUARD), "the send never made its request"
            helper = SenderRow("d" * 32, "elsewhere/boot/1", 4244, KEY, NOW, NOW)
            store.register_sender(helper)
            lost = [d.email for d, _ in store.claim_batch(KEY, "", 2, NOW, helper.id)]
            store.beat(helper.id, NOW - timedelta(minutes=3))  # then it stopped beating
        finally:
            standin.release.set()
            running.join(HANG_GUARD)
    [report] = done
    assert report.recovered == 2 and {states(store)[e] for e in lost} == {DeliveryState.UNCERTAIN}
    assert report.counts == {**dict.fromkeys(report.counts, 0), "sent": 4, "uncertain": 2}


def test_a_send_that_froze_its_edition_and_left_nothing_in_flight_looks_for_no_dead_rows(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an index, looking for rows in flight is a scan of the edition's rows: a send
    that froze the edition (all its rows pending) and ended with none in flight makes none."""
    subscribe(store, 3)
    looked: list[str] = []
    for name in ("recover_interrupted", "in_flight_elsewhere"):
        real = getattr(store, name)
        monkeypatch.setattr(
            store, name, lambda *a, _r=real, _n=name, **k: looked.append(_n) or _r(*a, **k)
        )
    with SendGridStandIn(API_KEY) as standin:
        report = send_edition(settings, store, sendgrid(standin, 2), WEEK, clock=clock)
    assert report.frozen == 3 and report.counts["sent"] == 3 and looked == []
    status = store.send_status(KEY)
    assert status is not None and status.finished_at is not None


def test_resend_uncertain_refuses_the_rows_of_a_live_sender(
    settings: Settings, store: Store
) -> None:
    subscribe(store, 3)
    freeze(settings, store)
    with Heartbeat(settings, store, KEY, clock) as live:
        held = [d.id for d, _ in store.claim_batch(KEY, "", 2, NOW, live.id)]
        store.finish_batch([(i, DeliveryState.UNCERTAIN, "answer lost") for i in held], NOW)
        ownerless = [d.id for d, _ in store.claim_batch(KEY, "", 1, NOW)]
        store.finish_batch([(ownerless[0], DeliveryState.UNCERTAIN, "answer lost")], NOW)
        moved, kept = resend_uncertain(settings, store, KEY, NOW)
        assert moved == 1 and [(row.id, n) for row, n in kept] == [(live.id, 2)]
        assert [d.id for d in store.deliveries(KEY, DeliveryState.PENDING)] == ownerless
    moved, kept = resend_uncertain(settings, store, KEY, NOW)
    assert moved == 2 and kept == [], "once its sender has ended, the operator decides"


def test_a_heartbeat_renews_and_registers_again_when_reaped(
    settings: Settings, store: Store
) -> None:
    later = [NOW]
    beats: list[float] = []

    def wait(event: threading.Event, seconds: float) -> bool:
        beats.append(seconds)
        return event.wait(HANG_GUARD) if len(beats) > 1 else False

    with Heartbeat(settings, store, KEY, lambda: later[0], wait=wait) as me:
        while len(beats) < 2:
            threading.Event().wait(0.01)
        later[0] = NOW + timedelta(minutes=5)
        store.recover_interrupted(KEY, later[0], later[0] - timedelta(minutes=2))  # reaps me
        assert store.senders() == []
        me.beat()
        (row,) = store.senders()
        assert row.id == me.id and row.heartbeat_at == later[0] and row.pid == os.getpid()
    assert beats[0] == 30.0, "a quarter of delivery.owner_timeout"
    assert store.senders() == []
