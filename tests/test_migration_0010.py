"""Revision 0010 (neutral provider events) upgrades a database written at 0006 in place:
its SendGrid events keep their ids, become provider "sendgrid", and their kinds the
neutral ones; a blocked bounce becomes a soft one. Downgrading gives the old table back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import column, insert, select, table
from tests.test_migrations import alembic

from syndicate.store import Store
from syndicate.store.engine import make_engine

# These tests make their schemas themselves, from empty.
pytestmark = pytest.mark.empty_database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
_COLUMNS = ("sg_event_id", "event", "email", "delivery_id", "week", "timestamp", "received_at",
            "action", "raw")  # fmt: skip
_old = table("webhook_events", *[column(c) for c in _COLUMNS])


def _row(event_id: str, event: str, **raw: str) -> dict[str, object]:
    body = json.dumps({"sg_event_id": event_id, "event": event, **raw}, separators=(",", ":"))
    return {
        "sg_event_id": event_id, "event": event, "email": "ann@example.org", "delivery_id": None,
        "week": "2026-W47", "timestamp": None, "received_at": NOW, "action": "none", "raw": body,
    }  # fmt: skip


def test_events_recorded_at_0006_survive_the_upgrade(database_url: str) -> None:
    engine = make_engine(database_url)
    alembic(engine, "upgrade", "0006")
    with engine.begin() as conn:
        conn.execute(
            insert(_old),
            [
                _row("e1", "bounce", type="bounce"),
                _row("e2", "bounce", type="blocked"),
                _row("e3", "spamreport"),
                _row("e4", "processed"),
            ],
        )
    alembic(engine, "upgrade", "head")
    with Store(database_url) as store:
        rows = {e.provider_event_id: e for e, _, _ in store.webhook_events()}
    assert {k: (e.provider, e.event, e.bounce) for k, e in rows.items()} == {
        "e1": ("sendgrid", "bounce", "hard"),
        "e2": ("sendgrid", "bounce", "soft"),
        "e3": ("sendgrid", "complaint", ""),
        "e4": ("sendgrid", "accepted", ""),
    }
    alembic(engine, "downgrade", "0006")
    with engine.connect() as conn:
        back = dict(conn.execute(select(_old.c.sg_event_id, _old.c.event)).all())
    assert back == {"e1": "bounce", "e2": "bounce", "e3": "spamreport", "e4": "processed"}
    engine.dispose()
