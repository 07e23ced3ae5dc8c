"""The table definitions: one MetaData for SQLite and PostgreSQL, which Alembic's migrations
follow. The types and index rules they are made of, portable across both: store.columns."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    literal_column,
)

from syndicate.store.columns import FILLFACTOR, NAMING, on_postgresql, only_on
from syndicate.store.columns import UTCDateTime as UTCDateTime  # the tables' users import it here

# The version mark of the schema from before Alembic, kept in meta.schema_version; retired:
# alembic_version says where a database is (see store.migrate), this stays 1.
SCHEMA_VERSION = 1

metadata = MetaData(naming_convention=NAMING)

# An edition's key: an ISO week today, or a one-off announcement's
# "announcement:<YYYY-MM-DD>-<slug>" (revision 0009 widened it from 16).
WEEK_LENGTH = 64
OWNER_LENGTH = 32  # a sender's instance id (32 hex digits)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guid", String, nullable=False),
    Column("slug", String, nullable=False),
    Column("title", Text, nullable=False),
    Column("link", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("category", String, nullable=False),
    Column("summary", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("author", Text, nullable=False),
    Column("source", String, nullable=False),
    Column("tags", Text, nullable=False),  # a JSON list of strings
    Column("first_seen", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("content_hash", String, nullable=False),
    # The article's identity within its source (see models.Observation.key).
    Column("key", String, nullable=False),
    Column("status", String(16), nullable=False),  # models.ArticleStatus
    # A JSON list of [url, type, length] (models.Enclosure); "" for none.
    Column("enclosures", Text, nullable=False, server_default=""),
    # The store's change counter when the row last changed (articles.next_change): a build
    # reads only the rows past the mark it built last.
    Column("changed_seq", BigInteger, nullable=False, server_default="0"),
    UniqueConstraint("guid"),
    UniqueConstraint("source", "key"),
)
# Newest-first listings walk these indexes and stop after LIMIT rows, whatever the archive's
# size; guid is in both so the tie-break order needs no sort either.
Index("ix_articles_published_guid", articles.c.published.desc(), articles.c.guid)
# The category list with its counts (every feed build) read from the index, not the rows.
Index(
    "ix_articles_status_published_category",
    articles.c.status,
    articles.c.published,
    articles.c.category,
)
Index("ix_articles_changed_seq", articles.c.changed_seq)
# Who owns an article page's path (the first visible article with that link). A hash index on
# PostgreSQL: a B-tree refuses entries over ~2.7 kB, and a link from a feed may be longer.
on_postgresql(Index("ix_articles_link", articles.c.link), using="hash")
Index(
    "ix_articles_category_published",
    articles.c.category,
    articles.c.published.desc(),
    articles.c.guid,
)

files = Table(
    "files",
    metadata,
    Column("source", String, nullable=False),
    Column("path", String, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("error", Text, nullable=True),
    Column("gathered_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("source", "path"),
)

observations = Table(
    "observations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String, nullable=False),
    Column("path", String, nullable=False),
    Column("position", Integer, nullable=False),  # order within the file
    Column("slug", String, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("category", String, nullable=False),
    Column("summary", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("author", Text, nullable=False),
    Column("link", Text, nullable=False),
    Column("tags", Text, nullable=False),  # a JSON list of strings
    Column("key", String, nullable=False),  # the article's key within the source
    Column("draft", Boolean, nullable=False),
    Column("enclosures", Text, nullable=False, server_default=""),  # as articles.enclosures
)
# A merge reads a source's observations by key and by title slug (teasers find their text).
Index("ix_observations_source_key", observations.c.source, observations.c.key)
Index("ix_observations_source_slug", observations.c.source, observations.c.slug)
Index("ix_observations_source_path", observations.c.source, observations.c.path)

gather_runs = Table(
    "gather_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started", UTCDateTime, nullable=False),
    Column("finished", UTCDateTime, nullable=False),
    Column("source", String, nullable=False),
    Column("new", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("removed", Integer, nullable=False),
)

# An edition is a period of a cadence. ``week`` holds its key (``weekly:2026-W47``,
# ``daily:2026-11-23``, ``monthly:2026-11``; the column kept its name when cadences came, in
# this table and in those that point at it). A row is written when the edition's send starts:
# until then an edition is computed when asked for. ``more`` counts the period's articles left
# out by digest.max_items; ``note`` is the editor's note as it was when the send started.
editions = Table(
    "editions",
    metadata,
    Column("week", String(WEEK_LENGTH), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("subject", Text, nullable=False),
    Column("cadence", String(16), nullable=False, server_default="weekly"),
    Column("period", String(16), nullable=False, server_default=""),
    Column("more", Integer, nullable=False, server_default="0"),
    Column("note", Text, nullable=False, server_default=""),
)

edition_articles = Table(
    "edition_articles",
    metadata,
    Column("week", String(WEEK_LENGTH), ForeignKey("editions.week"), nullable=False),
    Column("guid", String, ForeignKey("articles.guid"), nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("week", "guid"),
)
# "In no edition" looks articles up by guid.
Index("ix_edition_articles_guid", edition_articles.c.guid)

# sqlite_autoincrement: SQLite would otherwise hand a removed subscriber's id (if it was the
# highest) to the next one, and the ledger, which keeps removed subscribers' ids, would then
# point at a stranger. PostgreSQL's sequences never reuse an id.
subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String, nullable=False),  # as given
    Column("email_key", String, nullable=False),  # lower-cased: unique regardless of case
    Column("name", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    # Issue 13: links name a subscriber by this random id, never by the sequential row id;
    # a confirmation link must carry the nonce of the subscribe request still pending.
    Column("token_id", String(32), nullable=True),
    Column("confirm_nonce", String(32), nullable=True),
    Column("cadence", String(16), nullable=False, server_default="weekly"),
    UniqueConstraint("email_key"),
    sqlite_autoincrement=True,
)
Index("ix_subscribers_token_id", subscribers.c.token_id, unique=True)

# No rows for a subscriber = every category.
subscriber_categories = Table(
    "subscriber_categories",
    metadata,
    Column(
        "subscriber_id",
        Integer,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("category", String, nullable=False),
    PrimaryKeyConstraint("subscriber_id", "category"),
)

# The ledger: one row per edition x subscriber. No foreign key to subscribers: a removed
# subscriber's rows stay, with the address and name they were sent to.
#
# The foreign key to editions is SQLite's only. Rows are written by the freeze alone, in the
# transaction that writes the edition's edition_sends row, whose own foreign key keeps the
# edition (and an edition with a send is never deleted): the ledger's edition is there
# either way. On PostgreSQL the key is a trigger run per row, ~35 % of a freeze's server
# CPU (1.0 of 2.35 s at 300,000 rows); on SQLite an index lookup, ~0.13 s a million.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("week", String(WEEK_LENGTH), nullable=False),
    Column("subscriber_id", Integer, nullable=True),
    Column("email", String, nullable=False),
    Column("name", Text, nullable=False),
    Column("variant", Text, nullable=False),  # sorted categories joined by \x1f; "" = all
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The sender (senders.id) that claimed the row; NULL before its first claim. A
    # submitting row whose owner is dead may have gone out: it becomes uncertain.
    Column("owner", String(OWNER_LENGTH), nullable=True),
    UniqueConstraint("week", "subscriber_id"),
    only_on("sqlite", ForeignKeyConstraint(["week"], ["editions.week"])),
)
# The ledger's access paths differ by dialect: each row is updated twice in a send (claimed,
# settled), and the cheapest way to find the next pending rows differs.
#
# SQLite: no index names the state. The freeze writes each variant's rows together and keeps
# their id range in delivery_ranges; a claim walks that range by id (the table itself, in
# order) from where the last claim ended (ledger.claim_rows), so claiming and settling a row
# touch no index at all. Revision 0017 dropped ix_deliveries_pending (week, variant, id) WHERE
# pending: each claimed row left it, and with it a claim's mark cost 2.5x, the freeze's insert
# 1.25x (raw sqlite3, a million rows). No index holds the rows in flight either (revision 0016):
# a sender looks for them only when the ledger's counts, read as the send ends, show some, or
# as it starts when it did not freeze the edition itself (pipeline.delivering), with a scan of
# the edition's rows.
#
# PostgreSQL: no index names a column a send changes (state, owner, also in a partial
# index's WHERE), and the table's pages are filled half (fillfactor 50, see below): each
# update is then a HOT update, a new version of the row on its own page with no new index
# entry. Claims walk ix_deliveries_week_variant_id from where the last one ended (see
# ledger.claim_rows); rows in flight are found by a scan of the edition's rows, which needs
# no lock there. Measured, 300k rows claimed and settled by batches of 1000: 7.1 s of
# server CPU with the partial indexes, 3.7 s so (bench/bench_send.py for the whole send).
PENDING_ONLY = deliveries.c.state == literal_column("'pending'")
SUBMITTING_ONLY = deliveries.c.state == literal_column("'submitting'")
only_on("postgresql", Index(None, deliveries.c.week, deliveries.c.variant, deliveries.c.id))
deliveries.info[FILLFACTOR] = 50

# Where each variant's ledger rows of an edition lie: every row of (week, variant) has an id in
# first_id..last_id (other rows may too, on PostgreSQL, where other writers take ids between).
# Written by the freeze; revision 0017 gave the ledgers frozen before it their variants' bounds.
delivery_ranges = Table(
    "delivery_ranges",
    metadata,
    Column("week", String(WEEK_LENGTH), nullable=False),
    Column("variant", Text, nullable=False),
    Column("first_id", Integer, nullable=False),
    Column("last_id", Integer, nullable=False),
    PrimaryKeyConstraint("week", "variant"),
)

edition_sends = Table(
    "edition_sends",
    metadata,
    Column("week", String(WEEK_LENGTH), ForeignKey("editions.week"), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("paused_reason", Text, nullable=True),
    # Revision 0009: what kind of pause (see pipeline.send: failures, refused, stopped),
    # since when, and how many times the service retried it on its own since.
    Column("pause_kind", String(16), nullable=True),
    Column("paused_at", UTCDateTime, nullable=True),
    Column("retries", Integer, nullable=False, server_default="0"),
)

# The processes sending now (pipeline.owners): one row each while it sends, its heartbeat
# renewed every few seconds. host names the machine and its process namespace, so a sender
# on the same machine can tell at once that a killed one's pid is gone.
senders = Table(
    "senders",
    metadata,
    Column("id", String(OWNER_LENGTH), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("week", String(WEEK_LENGTH), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
)

# Issue 10: a one-off announcement is an edition (key "announcement:<date>-<slug>", no
# articles) with its message: the Markdown's sanitized HTML and plain text, the preheader,
# and the categories it went to (a JSON list; [] = every active subscriber).
announcements = Table(
    "announcements",
    metadata,
    Column("week", String(WEEK_LENGTH), ForeignKey("editions.week"), primary_key=True),
    Column("preheader", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("categories", Text, nullable=False),
    Column("source_hash", String(64), nullable=False),  # sha256 of the file as announced
)

# Facts about the site's life, one row each: "first_run" is when `syndicate run` first
# started on this database (a send scheduled before it is never caught up on its own).
site_state = Table(
    "site_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
)

# One row per run of a `syndicate run` job (gather, digest): for `syndicate status`, /healthz
# and /metrics. outcome is ok, failed or skipped.
job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job", String(64), nullable=False),
    Column("started", UTCDateTime, nullable=False),
    Column("finished", UTCDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Column("instance", String(255), nullable=False),
)
Index("ix_job_runs_job_outcome_finished", job_runs.c.job, job_runs.c.outcome, job_runs.c.finished)
Index("ix_job_runs_finished", job_runs.c.finished)

# Provider events (the SendGrid Event Webhook, the bounce mailbox), recorded once each by
# (provider, provider_event_id): SendGrid retries, and a replayed post carries the same
# sg_event_id. event is the neutral kind, bounce "hard"/"soft" for a bounce. delivery_id
# and week come back from the send's custom_args (or the bounced message's Message-ID);
# action is what the event did (e.g. "bounced", "settled", "none").
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider_event_id", String(255), nullable=False),
    Column("event", String(32), nullable=False),
    Column("email", String, nullable=False),
    Column("delivery_id", Integer, nullable=True),
    Column("week", String(WEEK_LENGTH), nullable=False),
    Column("timestamp", UTCDateTime, nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("action", String(32), nullable=False),
    Column("raw", Text, nullable=False),
    Column("provider", String(32), nullable=False),
    Column("bounce", String(8), nullable=False),
    UniqueConstraint("provider", "provider_event_id"),
)
Index("ix_webhook_events_received_at", webhook_events.c.received_at)

# One row per feed source: what its last fetch said, for the next run's conditional GET
# (etag, last_modified) and to skip a body already parsed (sha256). fetched_at is the last
# fetch that worked (200 or 304), checked_at the last attempt, error its failure (or NULL).
feed_state = Table(
    "feed_state",
    metadata,
    Column("source", String, primary_key=True),
    Column("url", Text, nullable=False),
    Column("etag", Text, nullable=False),
    Column("last_modified", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("fetched_at", UTCDateTime, nullable=True),
    Column("checked_at", UTCDateTime, nullable=False),
    Column("error", Text, nullable=True),
)
