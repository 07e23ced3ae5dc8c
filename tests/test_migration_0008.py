"""Revision 0008 (issue 10) upgrades a database written at 0006 in place: its weekly
editions keep their weeks (now ``weekly:2026-W47``) and archive URLs, their ledger rows and
events follow, subscribers become weekly readers, and a site that `syndicate run` used gets
its first start from its oldest job run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import column, insert, table
from tests.test_migrations import alembic

from syndicate.config import Settings
from syndicate.pipeline.archive import archive_entries, archived_edition
from syndicate.store import Store
from syndicate.store.engine import make_engine

# These tests make their schemas themselves, from empty.
pytestmark = pytest.mark.empty_database

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def rows(name: str, *names: str) -> object:
    return table(name, *[column(n) for n in names])


def write_0006_store(url: str) -> None:
    engine = make_engine(url)
    alembic(engine, "upgrade", "0006")
    articles = rows(
        "articles", "guid", "slug", "title", "link", "published", "category", "summary",
        "content", "author", "source", "tags", "first_seen", "updated", "content_hash", "key",
        "status",
    )  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(articles).values(
            guid="urn:a", slug="a", title="Meteors", link="https://s.example.org/a",
            published=T0 - timedelta(days=5), category="News", summary="", content="<p>x</p>",
            author="", source="blog", tags="[]", first_seen=T0, updated=T0, content_hash="h",
            key="a", status="published"))  # fmt: skip
        conn.execute(insert(rows("subscribers", "email", "email_key", "name", "status",
            "created_at", "updated_at", "token_id")).values(
            email="ann@example.org", email_key="ann@example.org", name="Ann", status="active",
            created_at=T0, updated_at=T0, token_id="t" * 22))  # fmt: skip
        for week, sent in (("2026-W46", True), ("2026-W47", True), ("2026-W48", False)):
            conn.execute(insert(rows("editions", "week", "created_at", "subject")).values(
                week=week, created_at=T0, subject=f"Site — week {week}"))  # fmt: skip
            conn.execute(insert(rows("edition_articles", "week", "guid", "position")).values(
                week=week, guid="urn:a", position=0))  # fmt: skip
            if sent:
                conn.execute(insert(rows("edition_sends", "week", "started_at")).values(
                    week=week, started_at=T0))  # fmt: skip
                conn.execute(insert(rows("deliveries", "week", "subscriber_id", "email", "name",
                    "variant", "state", "attempts", "error", "message_id", "created_at",
                    "updated_at")).values(week=week, subscriber_id=1, email="ann@example.org",
                    name="Ann", variant="", state="sent", attempts=1, error="",
                    message_id=f"<{week}.1.1@s>", created_at=T0, updated_at=T0))  # fmt: skip
        conn.execute(insert(rows("webhook_events", "sg_event_id", "event", "email",
            "delivery_id", "week", "timestamp", "received_at", "action", "raw")).values(
            sg_event_id="e1", event="delivered", email="ann@example.org", delivery_id=1,
            week="2026-W47", timestamp=T0, received_at=T0, action="none", raw="{}"))  # fmt: skip
        job_runs = rows("job_runs", "job", "started", "finished", "outcome", "detail", "instance")
        for started, instance in ((T0 - timedelta(days=30), "host:1"), (T0 - timedelta(days=90),
                                  "cli:host:2"), (T0, "host:1")):  # fmt: skip
            conn.execute(insert(job_runs).values(
                job="gather", started=started, finished=started, outcome="ok", detail="",
                instance=instance))  # fmt: skip
    engine.dispose()


def test_a_0006_store_upgrades_keeping_its_weeks_and_archive_urls(
    tmp_path: Path, database_url: str
) -> None:
    write_0006_store(database_url)
    settings = Settings.model_validate(
        {"site": {"url": "https://s.example.org/"}, "storage": {"url": database_url},
         "root": tmp_path}
    )  # fmt: skip
    with Store(database_url) as store:
        edition = store.get_edition("weekly:2026-W47")
        assert edition is not None and edition.frozen
        assert (edition.cadence, edition.period, [a.guid for a in edition.articles]) == (
            "weekly",
            "2026-W47",
            ["urn:a"],
        )
        assert store.get_edition("2026-W47") is None  # no row under the old key is left
        (delivery,) = store.deliveries("weekly:2026-W47")
        assert (delivery.state, delivery.message_id) == ("sent", "<2026-W47.1.1@s>")
        assert store.send_started("weekly:2026-W46")
        unsent = store.get_edition("weekly:2026-W48")
        assert unsent is not None and not unsent.frozen  # prepared only: live again
        (event, _, _) = store.webhook_events(1)[0]
        assert event.week == "weekly:2026-W47"
        ann = store.find_subscriber("ann@example.org")
        assert ann is not None and ann.cadence == "weekly"
        # The oldest run of `syndicate run` (not of the CLI) is the first start.
        assert store.first_run() == T0 - timedelta(days=30)
        entries = archive_entries(settings, store)
        assert [e.path for e in entries] == ["2026-W47", "2026-W46"]  # the sent ones
        assert all(e.url.endswith(f"/archive/{e.path}/") for e in entries)
        archived = archived_edition(settings, store, "2026-W47")
        assert archived is not None and archived.subject == "Site — week 2026-W47"
        assert archived_edition(settings, store, "2026-W48") is None
