"""Revision 0009 (issue 10: send owners, pause kinds, announcements) upgrades a database
written at 0006 in place: a send interrupted before the upgrade (its rows submitting, owned
by nobody) is recovered as uncertain, its pause keeps its reason, and an edition key of an
announcement's length fits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import column, insert, table, text
from tests.test_migrations import alembic

from syndicate.models import Announcement, DeliveryState
from syndicate.store import Store
from syndicate.store.engine import make_engine

# These tests make their schemas themselves, from empty.
pytestmark = pytest.mark.empty_database

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WEEK = "2026-W48"
KEY = f"weekly:{WEEK}"  # what revision 0008 makes of a week
_editions = table("editions", column("week"), column("created_at"), column("subject"))
_sends = table(
    "edition_sends", column("week"), column("started_at"), column("finished_at"),
    column("paused_reason"),
)  # fmt: skip
_deliveries = table("deliveries", *[column(c) for c in (
    "week", "subscriber_id", "email", "name", "variant", "state", "attempts", "error",
    "message_id", "created_at", "updated_at")])  # fmt: skip


def write_0006_store(url: str) -> None:
    engine = make_engine(url)
    alembic(engine, "upgrade", "0006")
    with engine.begin() as conn:
        conn.execute(insert(_editions).values(week=WEEK, created_at=T0, subject="Week 48"))
        conn.execute(
            insert(_sends).values(week=WEEK, started_at=T0, finished_at=None, paused_reason="x")
        )
        for n, state in enumerate(("sent", "submitting", "pending")):
            conn.execute(insert(_deliveries).values(
                week=WEEK, subscriber_id=n + 1, email=f"r{n}@example.com", name="", variant="",
                state=state, attempts=1, error="", message_id="", created_at=T0,
                updated_at=T0))  # fmt: skip
    engine.dispose()


def test_a_store_at_0006_upgrades_and_keeps_its_send(database_url: str) -> None:
    write_0006_store(database_url)
    with Store(database_url) as store:  # opening migrates to head
        status = store.send_status(KEY)
        assert status is not None and status.paused_reason == "x"
        assert status.retries == 0 and status.pause_kind is None
        assert store.senders() == []
        assert store.recover_interrupted(KEY, T0) == 1, "a row owned by nobody: a crash's"
        found = {d.email: d.state for d in store.deliveries(KEY)}
        assert found["r1@example.com"] is DeliveryState.UNCERTAIN
        key = "announcement:2026-11-23-" + "a" * 40
        item = Announcement(key, "Hi", "", "<p>Hi</p>", "Hi", (), T0, "0" * 64)
        assert store.create_announcement(item) == item
        assert store.get_announcement(key) == item
        if store.engine.dialect.name == "sqlite":
            with store.engine.connect() as conn:
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
