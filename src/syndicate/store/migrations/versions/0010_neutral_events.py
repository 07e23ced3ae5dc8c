"""Issue 11: provider events in one neutral model. webhook_events gets the provider's name
(``provider``, "sendgrid" for the rows so far) and its id (``provider_event_id``, was
``sg_event_id``), unique together; ``event`` holds the neutral kind (bounce, complaint,
unsubscribe, delivered, ...) and ``bounce`` "hard" or "soft" for a bounce.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UNIQUE = "uq_webhook_events_provider_provider_event_id"
# SendGrid's event names as the neutral kinds (sendgrid_events.py maps new events so).
_KINDS = {
    "spamreport": "complaint",
    "group_unsubscribe": "unsubscribe",
    "processed": "accepted",
    "deferred": "deferred",
    "open": "opened",
    "click": "clicked",
    "group_resubscribe": "resubscribe",
}


def upgrade() -> None:
    op.add_column("webhook_events", sa.Column("provider", sa.String(32), nullable=True))
    op.add_column("webhook_events", sa.Column("bounce", sa.String(8), nullable=True))
    table = sa.table(
        "webhook_events",
        sa.column("event", sa.String),
        sa.column("provider", sa.String),
        sa.column("bounce", sa.String),
    )
    op.execute(sa.update(table).values(provider="sendgrid", bounce=""))
    with op.batch_alter_table("webhook_events") as batch:
        batch.alter_column("provider", existing_type=sa.String(32), nullable=False)
        batch.alter_column("bounce", existing_type=sa.String(8), nullable=False)
        batch.alter_column(
            "sg_event_id", new_column_name="provider_event_id", existing_type=sa.String(255)
        )
        batch.drop_constraint("uq_webhook_events_sg_event_id", type_="unique")
    with op.batch_alter_table("webhook_events") as batch:  # after the rename, on SQLite
        batch.create_unique_constraint(UNIQUE, ["provider", "provider_event_id"])
    for old, new in _KINDS.items():
        op.execute(sa.update(table).where(table.c.event == old).values(event=new))
    # SendGrid's "blocked" bounces were never suppressions: soft ones, in the neutral model.
    op.execute(
        sa.text(
            'UPDATE webhook_events SET bounce = CASE WHEN raw LIKE \'%"type":"blocked"%\' '
            "THEN 'soft' ELSE 'hard' END WHERE event = 'bounce'"
        )
    )


def downgrade() -> None:
    table = sa.table("webhook_events", sa.column("event", sa.String))
    for old, new in _KINDS.items():
        op.execute(sa.update(table).where(table.c.event == new).values(event=old))
    op.execute(sa.text("DELETE FROM webhook_events WHERE provider <> 'sendgrid'"))
    with op.batch_alter_table("webhook_events") as batch:
        batch.drop_constraint(UNIQUE, type_="unique")
        batch.alter_column(
            "provider_event_id", new_column_name="sg_event_id", existing_type=sa.String(255)
        )
    with op.batch_alter_table("webhook_events") as batch:
        batch.create_unique_constraint("uq_webhook_events_sg_event_id", ["sg_event_id"])
        batch.drop_column("bounce")
        batch.drop_column("provider")
