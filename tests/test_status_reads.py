"""`syndicate status`'s reads (store.status_reads): one SQL text, two connections.

On SQLite and PostgreSQL, the reads over a Store's SQLAlchemy connection answer what the
Store's own queries answer (what `status` showed before); on SQLite, the read-only sqlite3
connection answers the same again, and the command's output is byte-identical either way.
A store the sqlite3 way cannot read as it is (missing, older, newer) goes the Store's way,
with the Store's messages.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from syndicate.cli import main
from syndicate.config import load_settings
from syndicate.models import Article, ArticleStatus, DeliveryState, SubscriberStatus
from syndicate.store import JobOutcome, JobRun, Store, StoreError
from syndicate.store import core as store_core
from syndicate.store import sqlite_direct as sqlite_module
from syndicate.store.status_reads import StatusReads, read_only

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
NOW = T0 + timedelta(days=1, hours=2)
WEEKS = ("weekly:2026-W08", "weekly:2026-W09", "weekly:2026-W10")
WINDOWS = [
    (T0 - timedelta(days=3), T0 + timedelta(days=9)),
    (T0 - timedelta(days=30), T0 - timedelta(days=20)),
    (T0 + timedelta(days=2), T0 + timedelta(days=5)),  # only the scheduled one: not visible
]


def article(n: int, category: str, published: datetime, **kw: Any) -> Article:
    return Article(
        guid=f"urn:test:{n:04d}",
        slug=f"post-{n:04d}",
        title=f"Post {n}",
        link=f"https://example.com/post-{n:04d}",
        published=published,
        category=category,
        summary="s",
        content="<p>b</p>",
        author="Ann",
        source="blog",
        tags=(),
        content_hash=f"h{n}",
        **kw,
    )


def populate(store: Store) -> None:
    """A store with something in every table status reads."""
    items = [article(n, ("News", "Tech", "Zeta")[n % 3], T0 - timedelta(hours=n)) for n in range(7)]
    items += [
        article(20, "News", T0 + timedelta(days=3)),  # scheduled: counted, not visible
        article(21, "Tech", T0 - timedelta(hours=2), status=ArticleStatus.DRAFT),
    ]
    store.upsert_articles(items, T0)
    with store.transaction() as uow:
        uow.record_gather_run("blog", T0, T0 + timedelta(seconds=3), (9, 0, 0, 0, 0))
        uow.record_gather_run("blog", T0 + timedelta(hours=1), NOW - timedelta(minutes=7), (0,) * 5)
    for email, status in [
        ("a@example.com", SubscriberStatus.ACTIVE),
        ("b@example.com", SubscriberStatus.ACTIVE),
        ("c@example.com", SubscriberStatus.UNSUBSCRIBED),
        ("d@example.com", SubscriberStatus.BOUNCED),
    ]:
        store.add_subscriber(email, email[0].upper(), (), status, T0)
    for i, week in enumerate(WEEKS):
        guids = [a.guid for a in items[i : i + 3]]
        store.create_edition(week, T0 + timedelta(minutes=i), f"Digest {week}", guids)
    store.freeze_recipients(WEEKS[0], T0, frozenset({"News"}), everyone=True)
    (first, _), *_ = store.claim_batch(WEEKS[0], "", 1, T0)
    store.finish_batch([(first.id, DeliveryState.FAILED, "550 no")], T0)
    store.mark_send_finished(WEEKS[0], T0 + timedelta(minutes=5))
    store.freeze_recipients(WEEKS[1], T0, frozenset({"News"}), everyone=True)
    store.mark_send_paused(WEEKS[1], "provider refused", "retried", T0 + timedelta(minutes=9))
    outcomes: tuple[JobOutcome, ...] = ("ok", "failed", "ok", "skipped")
    for n, outcome in enumerate(outcomes):
        job, started = ("gather", "digest")[n % 2], T0 + timedelta(minutes=10 * n)
        finished = started + timedelta(seconds=n, microseconds=250_000)
        store.record_job_run(JobRun(job, started, finished, outcome, f"d{n}", f"host-{n}"))
    store.record_first_run(T0 - timedelta(days=1))


def every_read(reads: StatusReads) -> dict[str, Any]:
    return {
        "last_gather": reads.last_gather(),
        "editions": reads.editions(10),
        "sends": [reads.send_status(week) for week in (*WEEKS, "weekly:2030-W01")],
        "counts": [reads.delivery_counts(week) for week in WEEKS],
        "article_count": reads.article_count(),
        "categories": reads.categories(),
        "unlisted": reads.unlisted_articles(NOW),
        "periods": [reads.period_has_articles(start, end, NOW) for start, end in WINDOWS],
        "subscribers": reads.subscriber_counts(),
        "last_runs": reads.last_job_runs(3),
        "last_success": [reads.last_success(job) for job in ("gather", "digest", "never")],
        "first_run": reads.first_run(),
    }


def store_answers(store: Store) -> dict[str, Any]:
    """What the Store's own queries say (what `syndicate status` read before)."""
    return {
        "last_gather": store.last_gather(),
        "editions": store.editions()[:10],
        "sends": [store.send_status(week) for week in (*WEEKS, "weekly:2030-W01")],
        "counts": [store.delivery_counts(week) for week in WEEKS],
        "article_count": store.article_count(),
        "categories": store.categories(),
        "unlisted": [
            (a.status.value, a.title, a.source, a.published) for a in store.unlisted_articles(NOW)
        ],
        "periods": [bool(store.period_articles(s, e, NOW, 1)[0]) for s, e in WINDOWS],
        "subscribers": store.subscriber_counts(),
        "last_runs": store.last_job_runs(3),
        "last_success": [store.last_success(job) for job in ("gather", "digest", "never")],
        "first_run": store.first_run(),
    }


@pytest.fixture
def populated(store: Store) -> Store:
    populate(store)
    return store


def test_the_reads_answer_what_the_store_queries_answer(populated: Store) -> None:
    expected = store_answers(populated)
    assert expected["unlisted"] and expected["last_runs"] and expected["sends"][1]  # populated
    with populated.status_reads() as reads:
        assert every_read(reads) == expected


def test_the_sqlite3_reads_answer_what_the_store_connection_does(
    populated: Store, database_url: str
) -> None:
    with populated.status_reads() as reads:
        expected = every_read(reads)
    with read_only(database_url) as fast:
        if not database_url.startswith("sqlite"):
            assert fast is None  # PostgreSQL keeps the SQLAlchemy way
            return
        assert fast is not None
        assert every_read(fast) == expected


def test_the_sqlite3_connection_cannot_write(populated: Store, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the sqlite3 way is SQLite's")
    with read_only(database_url) as fast:
        assert fast is not None
        with pytest.raises(StoreError, match="readonly"):
            fast._rows("DELETE FROM articles")
    assert populated.article_count() == 9


@pytest.mark.parametrize("revision", ["0012", "9999"])
def test_a_store_at_another_revision_is_left_to_the_store(tmp_path: Path, revision: str) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    Store(url).close()
    with read_only(url) as fast:
        assert fast is not None  # at head: the sqlite3 way
    with sqlite3.connect(tmp_path / "db.sqlite") as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    with read_only(url) as fast:
        assert fast is None


@pytest.mark.parametrize("folder", ["with space", "café"])
def test_the_sqlite3_way_opens_paths_a_uri_must_quote(tmp_path: Path, folder: str) -> None:
    url = f"sqlite:///{tmp_path / folder / 'db.sqlite'}"
    with Store(url) as store:
        populate(store)
    with read_only(url) as fast:
        assert fast is not None and fast.article_count() == 9


@pytest.mark.parametrize("name", ["missing.db", "not-a-database.db"])
def test_a_file_sqlite3_cannot_read_is_left_to_the_store(tmp_path: Path, name: str) -> None:
    if name == "not-a-database.db":
        (tmp_path / name).write_bytes(b"plain text, not SQLite" * 100)
    with read_only(f"sqlite:///{tmp_path / name}") as fast:
        assert fast is None
    assert (tmp_path / name).exists() == (name != "missing.db")  # nothing created


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:x.db?mode=ro&uri=true"]
)
def test_other_sqlite_urls_are_left_to_the_store(url: str) -> None:
    with read_only(url) as fast:
        assert fast is None


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    yield tmp_path / "site"


def status(site: Path, *args: str) -> tuple[int, str, str]:
    config = str(site / "config" / "syndicate.toml")
    result = CliRunner().invoke(main, ["--config", config, "--now", NOW.isoformat(), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def both_ways(site: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[str, str]:
    """The command's output the sqlite3 way (the Store never opened) and the Store's way."""

    def no_store(*_: object) -> None:
        raise AssertionError("the sqlite3 way opens no Store")

    with monkeypatch.context() as patch:
        patch.setattr(store_core.Store, "__init__", no_store)
        code, fast, err = status(site, *args)
        assert code == 0, err
    with monkeypatch.context() as patch:
        patch.setattr(sqlite_module, "_connect", lambda url: None)
        code, slow, err = status(site, *args)
        assert code == 0, err
    return fast, slow


@pytest.mark.parametrize("args", [("status",), ("status", "--json")], ids=" ".join)
def test_status_prints_the_same_bytes_either_way(
    site: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    url = load_settings(site / "config" / "syndicate.toml").database_url
    with Store(url) as store:
        populate(store)
    fast, slow = both_ways(site, monkeypatch, *args)
    assert fast == slow
    assert "provider refused" in fast and "Post 20" in fast and "d3" in fast


def test_status_of_a_missing_store_creates_it_as_before(site: Path) -> None:
    url = load_settings(site / "config" / "syndicate.toml").database_url
    path = Path(url.removeprefix("sqlite:///"))
    assert not path.exists()
    code, out, err = status(site, "status")
    assert code == 0, err
    assert out.startswith("articles: 0\n") and path.exists()


def test_status_of_a_newer_store_says_so_as_before(site: Path) -> None:
    url = load_settings(site / "config" / "syndicate.toml").database_url
    Store(url).close()
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    code, _, err = status(site, "status")
    assert code == 1
    assert "storage.url:" in err and "9999" in err and "upgrade syndicate" in err


def test_a_damaged_store_is_one_line_not_a_traceback(site: Path) -> None:
    url = load_settings(site / "config" / "syndicate.toml").database_url
    Store(url).close()
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute("DROP TABLE articles")  # at the head revision, but a table is gone
    code, out, err = status(site, "status")
    assert code == 1 and out == ""
    (line,) = err.splitlines()
    assert line.startswith("Error: storage.url: ") and "articles" in line
