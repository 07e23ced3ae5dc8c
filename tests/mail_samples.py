"""Every kind of message the project sends, really sent (through the outbox sender) from
the example site: a digest, the test copy, the confirmation and the welcome mail. For the
SpamAssassin, browser and MIME checks of issue 11."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from syndicate.config import Settings, load_settings
from syndicate.delivery.outbox import OutboxSender
from syndicate.models import SubscriberStatus
from syndicate.pipeline import gather
from syndicate.pipeline.send import send_edition, send_test
from syndicate.pipeline.subscriptions import send_welcome, subscribe
from syndicate.store import Store

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
WEEK = "2026-W47"
SECRET = "bLeEpZTeRI_olaP6y-ssWUjp5s3bRZGecGxgJ_W5Klc"


@dataclass(frozen=True)
class SentMail:
    digest: Path
    test_copy: Path
    confirmation: Path
    welcome: Path

    def all(self) -> dict[str, Path]:
        return {
            "digest": self.digest,
            "test copy": self.test_copy,
            "confirmation": self.confirmation,
            "welcome": self.welcome,
        }


def example_settings(tmp: Path, **env: str) -> Settings:
    return load_settings(
        REPO / "config" / "syndicate.toml",
        env={
            "SYNDICATE_STORAGE__URL": f"sqlite:///{tmp / 'site.db'}",
            "SYNDICATE_FEEDS__OUTPUT_DIR": str(tmp / "public"),
            "SYNDICATE_DELIVERY__OUTBOX_DIR": str(tmp / "outbox"),
            **env,
        },
    )


def send_every_kind(tmp: Path) -> SentMail:
    """The example site's digest to one subscriber, a test copy and a confirmation mail;
    the caller sets SYNDICATE_SECRET_KEY."""
    settings = example_settings(tmp)

    def clock() -> datetime:
        return NOW

    with Store(settings.database_url) as store:
        assert gather(settings, store, now=NOW).failed == 0
        store.add_subscriber(
            "bob@example.org", "Bob Müller", frozenset(), SubscriberStatus.ACTIVE, NOW
        )
        sent = tmp / "sent"
        sender = OutboxSender(sent, clock=clock)
        report = send_edition(settings, store, sender, WEEK, clock=clock)
        assert report.counts.get("sent") == 1, report.summary()
        (digest,) = sent.glob(f"*{WEEK}*.eml")
        tests = tmp / "test-copy"
        outcome = send_test(
            settings, store, OutboxSender(tests, clock=clock), WEEK, "editor@example.org", now=NOW
        )
        assert outcome.state == "sent", outcome.error
        (test_copy,) = tests.glob("*.eml")
        confirms = tmp / "confirm"
        result = subscribe(
            settings,
            store,
            OutboxSender(confirms, clock=clock),
            email="carol@example.org",
            name="Carol",
            categories=(),
            now=NOW,
        )
        assert result.outcome is not None and result.outcome.state == "sent"
        (confirmation,) = confirms.glob("*.eml")
        carol = store.find_subscriber("carol@example.org")
        assert carol is not None
        welcomes = tmp / "welcome"
        welcomed = send_welcome(settings, OutboxSender(welcomes, clock=clock), carol, now=NOW)
        assert welcomed is not None and welcomed.state == "sent"
        (welcome,) = welcomes.glob("*.eml")
    return SentMail(digest, test_copy, confirmation, welcome)
