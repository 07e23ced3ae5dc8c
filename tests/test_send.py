"""The ledger-driven send: real store, the real SendGrid client against the loopback stand-in,
and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from tests.sendgrid_standin import Fault, SendGridStandIn
from tests.smtp_server import smtp_server

from syndicate import tokens
from syndicate.config import Settings
from syndicate.delivery.outbox import OutboxSender
from syndicate.delivery.sendgrid import SendGridSender
from syndicate.models import Article, DeliveryState, SubscriberStatus
from syndicate.pipeline.send import PREFERENCES, UNSUBSCRIBE, plan_send, send_edition
from syndicate.store import Store

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday of 2026-W48
WEEK = "2026-W47"  # the week that just ended: what the Monday send covers
KEY = f"weekly:{WEEK}"  # the edition's key in the ledger
SECRET = "AFqM6Bln4J8zNJ1ddMVvhaFvY7a3VqMJUpHcjlfTDtg"
API_KEY = "SG.test-key"


def clock() -> datetime:
    return NOW


def article(i: int, category: str) -> Article:
    slug = f"post-{i}"
    return Article(
        guid=f"urn:uuid:00000000-0000-0000-0000-{i:012d}",
        slug=slug,
        title=f"Post {i} about {category}",
        link=f"https://astro.example.org/{slug}",
        published=NOW - timedelta(days=1, hours=i),
        category=category,
        summary=f"Summary {i}.",
        content=f"<p>Body {i}</p>",
        content_hash=f"h{i}",
    )


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    return Settings.model_validate(
        {
            "site": {"title": "Astro", "url": "https://astro.example.org/"},
            "email": {"from_address": "digest@astro.example.org"},
            "delivery": {"max_consecutive_failures": 2, "outbox_dir": str(tmp_path / "out")},
            "root": tmp_path,
        }
    )


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with Store(database_url) as opened:
        opened.upsert_articles(
            [article(1, "Events"), article(2, "Equipment"), article(3, "Events")], NOW
        )
        yield opened


def subscribe(store: Store, count: int, categories: frozenset[str] = frozenset()) -> list[str]:
    emails = [f"reader{store.subscriber_counts()['active'] + i}@example.com" for i in range(count)]
    for email in emails:
        store.add_subscriber(email, "<b>Ann</b> Lee", categories, SubscriberStatus.ACTIVE, NOW)
    return emails


def sendgrid(standin: SendGridStandIn) -> SendGridSender:
    return SendGridSender(
        API_KEY, base_url=standin.base_url, timeout=2, max_retries=1, sleep=lambda _: None
    )


def test_every_active_subscriber_gets_one_copy_and_a_rerun_sends_nothing(
    settings: Settings, store: Store
) -> None:
    everyone = subscribe(store, 5)
    store.add_subscriber("gone@example.com", "", (), SubscriberStatus.UNSUBSCRIBED, NOW)
    with SendGridStandIn(API_KEY) as standin:
        report = send_edition(settings, store, sendgrid(standin), WEEK, clock=clock)
        again = send_edition(settings, store, sendgrid(standin), WEEK, clock=clock)
        assert dict(standin.copies) == {email: 1 for email in everyone}
        assert standin.requests == 1
    assert report.counts["sent"] == 5 and report.paused is None
    assert again.requests == 0 and again.counts["sent"] == 5
    status = store.send_status(KEY)
    assert status is not None and status.finished_at is not None


def test_each_message_carries_signed_links_and_list_headers(
    settings: Settings, store: Store
) -> None:
    (email,) = subscribe(store, 1)
    subscriber = store.find_subscriber(email)
    assert subscriber is not None
    with SendGridStandIn(API_KEY) as standin:
        send_edition(settings, store, sendgrid(standin), WEEK, clock=clock)
        (message,) = standin.messages
    headers = message.headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Only the https one-click link: a mailto: to the From address would be an unsubscribe
    # nobody reads (issue 11). With email.unsubscribe_mailbox set, see the test below.
    https = headers["List-Unsubscribe"].strip(" <>")
    assert https.startswith("https://astro.example.org/unsubscribe?token=")
    assert "mailto:" not in headers["List-Unsubscribe"]
    assert headers["Feedback-ID"] == f"{WEEK}:weekly:astro:astro.example.org:syndicate"
    assert headers["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    tracking = message.content.tracking_settings
    assert tracking["click_tracking"] == {"enable": False, "enable_text": False}
    assert tracking["open_tracking"] == {"enable": False}
    token = parse_qs(urlsplit(https).query)["token"][0]
    assert tokens.verify(token, UNSUBSCRIBE, secret=SECRET, now=NOW) == subscriber.token_id
    assert len(subscriber.token_id) == 22, "random, not the sequential row id"
    with pytest.raises(tokens.TokenError):
        tokens.verify(token, PREFERENCES, secret=SECRET, now=NOW)
    assert "List-Id" in headers and message.custom_args["week"] == KEY
    for part in (message.text, message.html):
        assert https in part.replace("&amp;", "&")
        assert "/preferences?token=" in part
        assert "%%" not in part
    assert "Hi &lt;b&gt;Ann&lt;/b&gt;," in message.html  # the first name, escaped
    assert "<b>" not in message.html.split("<body")[1][:3000]
    assert "Lee" not in message.html


def test_a_processed_unsubscribe_mailbox_adds_a_mailto_and_tracking_can_be_asked_for(
    settings: Settings, store: Store
) -> None:
    settings = settings.model_copy(
        update={
            "email": settings.email.model_copy(
                update={"unsubscribe_mailbox": "leave@astro.example.org"}
            )
        }
    )
    subscribe(store, 1)
    with SendGridStandIn(API_KEY) as standin:
        sender = sendgrid(standin)
        sender.tracking = True
        send_edition(settings, store, sender, WEEK, clock=clock)
        (message,) = standin.messages
    https, mailto = (p.strip(" <>") for p in message.headers["List-Unsubscribe"].split(","))
    assert https.startswith("https://astro.example.org/unsubscribe?token=")
    token = parse_qs(urlsplit(https).query)["token"][0]
    assert mailto == f"mailto:leave@astro.example.org?subject=unsubscribe%20{token}"
    assert message.content.tracking_settings["click_tracking"]["enable"] is True
    assert message.content.tracking_settings["open_tracking"] == {"enable": True}


def test_variants_follow_preferences_and_empty_ones_get_nothing(
    settings: Settings, store: Store
) -> None:
    (all_news,) = subscribe(store, 1)
    (events,) = subscribe(store, 1, frozenset({"events"}))
    (nothing,) = subscribe(store, 1, frozenset({"Sky Guide"}))
    with SendGridStandIn(API_KEY) as standin:
        report = send_edition(settings, store, sendgrid(standin), WEEK, clock=clock)
        by_address = {m.email: m for m in standin.messages}
    assert set(by_address) == {all_news, events}
    assert "Post 2 about Equipment" in by_address[all_news].text
    assert "Post 2 about Equipment" not in by_address[events].text
    assert "Post 1 about Events" in by_address[events].text
    assert nothing not in by_address
    assert sorted(report.variants) == ["Events", "all categories"]


def test_dry_run_shows_variants_and_writes_nothing(settings: Settings, store: Store) -> None:
    subscribe(store, 2)
    subscribe(store, 1, frozenset({"Equipment"}))
    report = plan_send(settings, store, WEEK, now=NOW)
    assert report.variants == {"all categories": 2, "Equipment": 1}
    assert not store.send_started(KEY)


def test_the_dry_run_and_the_send_choose_the_same_readers(
    settings: Settings, database_url: str
) -> None:
    # "STRASSE" chooses "Straße" when folded as the store folds it (casefold); a dry run
    # that lower-cased instead said 0 while the send sent 1.
    with Store(database_url) as store:
        store.upsert_articles([article(1, "Straße"), article(2, "Events")], NOW)
        (street,) = subscribe(store, 1, frozenset({"STRASSE"}))
        (elsewhere,) = subscribe(store, 1, frozenset({"Sky Guide"}))
        (everything,) = subscribe(store, 1)
        plan = plan_send(settings, store, WEEK, now=NOW)
        assert plan.variants == {"all categories": 1, "Straße": 1}
        assert [email for email, _why in plan.left_out] == [elsewhere]
        with SendGridStandIn(API_KEY) as standin:
            sent = send_edition(settings, store, sendgrid(standin), WEEK, clock=clock)
            assert dict(standin.copies) == {street: 1, everything: 1}
        assert sent.variants == plan.variants


def test_unsubscribing_after_the_send_froze_skips_the_reader(
    settings: Settings, store: Store
) -> None:
    first, second = subscribe(store, 2)
    with SendGridStandIn(API_KEY) as standin:
        standin.inject(Fault.status(401))
        paused = send_edition(settings, store, sendgrid(standin), WEEK, clock=clock)
        assert paused.paused is not None and "401" in paused.paused
        assert paused.counts["sent"] == 0 and paused.counts["pending"] == 2
        gone = store.find_subscriber(second)
        assert gone is not None
        store.set_status(gone.id, SubscriberStatus.UNSUBSCRIBED, NOW)
        resumed = send_edition(settings, store, sendgrid(standin), WEEK, clock=clock)
        assert dict(standin.copies) == {first: 1}
    assert resumed.counts["skipped"] == 1 and resumed.counts["sent"] == 1


def test_a_lost_answer_is_uncertain_and_never_resent(settings: Settings, store: Store) -> None:
    readers = subscribe(store, 3)
    with SendGridStandIn(API_KEY) as standin:
        standin.inject(Fault.accept_then_hang(max_seconds=5))
        first = send_edition(settings, store, sendgrid(standin), WEEK, clock=clock)
        second = send_edition(settings, store, sendgrid(standin), WEEK, clock=clock)
        assert dict(standin.copies) == {email: 1 for email in readers}
    assert first.counts["uncertain"] == 3 and second.requests == 0
    assert {d.email for d in store.deliveries(KEY, DeliveryState.UNCERTAIN)} == set(readers)


def test_failing_requests_pause_the_send_and_a_rerun_resumes(
    settings: Settings, store: Store
) -> None:
    readers = subscribe(store, 2)
    with SendGridStandIn(API_KEY) as standin:
        standin.inject(*[Fault.status(500)] * 4)  # two requests x (1 try + 1 retry)
        paused = send_edition(settings, store, sendgrid(standin), WEEK, clock=clock)
        assert paused.paused and "2 failed requests in a row" in paused.paused
        assert paused.counts["pending"] == 2 and not standin.copies
        status = store.send_status(KEY)
        assert status is not None and status.paused_reason == paused.paused
        resumed = send_edition(settings, store, sendgrid(standin), WEEK, clock=clock)
        assert dict(standin.copies) == {email: 1 for email in readers}
    assert resumed.paused is None and resumed.counts["sent"] == 2


def test_a_bad_address_fails_alone(settings: Settings, store: Store) -> None:
    readers = subscribe(store, 4)
    with SendGridStandIn(API_KEY, bad_addresses=[readers[2]]) as standin:
        report = send_edition(settings, store, sendgrid(standin), WEEK, clock=clock)
        assert set(standin.copies) == set(readers) - {readers[2]}
    (failed,) = store.deliveries(KEY, DeliveryState.FAILED)
    assert failed.email == readers[2] and failed.error
    assert report.counts["sent"] == 3


def test_smtp_sends_through_a_real_server(settings: Settings, store: Store) -> None:
    from syndicate.delivery.smtp import SmtpSender

    readers = subscribe(store, 3)
    with smtp_server() as inbox:
        sender = SmtpSender(inbox.host, inbox.port, security="none")
        report = send_edition(settings, store, sender, WEEK, clock=clock)
        sender.close()
    assert sorted(m.recipients[0] for m in inbox.messages) == sorted(readers)
    # one claim of the three (the journal keeps a crash to one message in doubt)
    assert report.requests == 1 and report.counts["sent"] == 3 and sender.connections == 1
    assert not list((settings.root / "var" / "sending").glob("*")), "the journal is gone"
    raw = inbox.messages[0].data
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
    assert b"multipart/alternative" in raw


def test_without_a_secret_key_nothing_is_sent(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syndicate.pipeline.send import SendError

    subscribe(store, 1)
    monkeypatch.delenv("SYNDICATE_SECRET_KEY")
    with pytest.raises(SendError, match="SYNDICATE_SECRET_KEY"):
        send_edition(settings, store, OutboxSender(settings.root), WEEK, clock=clock)
    assert not store.send_started(KEY)


def test_a_batch_outcomes_are_written_in_the_next_claim_transaction(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    readers = subscribe(store, 5)
    claim_rows, finish_groups = store.claim_rows, store.finish_groups
    settled_by_claims: list[list[int]] = []
    finished: list[list[int]] = []

    def claim(*args: object, **kwargs: object) -> object:
        settle = args[5] if len(args) > 5 else kwargs.get("settle")
        assert isinstance(settle, dict)
        settled_by_claims.append(sorted(i for ids in settle.values() for i in ids))
        return claim_rows(*args, **kwargs)  # type: ignore[arg-type]

    def finish(groups: dict[object, list[int]], now: datetime) -> int:
        finished.append(sorted(i for ids in groups.values() for i in ids))
        return finish_groups(groups, now)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "claim_rows", claim)
    monkeypatch.setattr(store, "finish_groups", finish)
    with SendGridStandIn(API_KEY) as standin:
        sender = sendgrid(standin)
        sender.max_batch = 2  # type: ignore[misc]
        report = send_edition(settings, store, sender, WEEK, clock=clock)
        assert dict(standin.copies) == {email: 1 for email in readers}
    ids = sorted(d.id for d in store.deliveries(KEY))
    # Each claim writes the batch before it: one commit a batch; the last claim finds none.
    assert settled_by_claims == [[], ids[0:2], ids[2:4], ids[4:5]]
    assert finished == [] and report.counts["sent"] == 5
