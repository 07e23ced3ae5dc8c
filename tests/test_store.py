"""The store on a real SQLite file and (when configured) a real PostgreSQL schema."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from syndicate.models import Article, ArticleStatus, Observation
from syndicate.store import (
    FileRecord,
    FileState,
    Store,
    StoreError,
    build_reads,
)
from syndicate.store import schema as tables
from syndicate.store.moments import moment_param

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LATER = datetime(2200, 1, 1, tzinfo=UTC)  # every stored article is due by then
PLUS2 = timezone(timedelta(hours=2))


def article(n: int, *, category: str = "News", hours: int | None = None, **kw: object) -> Article:
    base = Article(
        guid=f"urn:test:{n:06d}",
        slug=f"post-{n:06d}",
        title=f"Post {n}",
        link=f"https://example.com/post-{n:06d}",
        published=T0 - timedelta(hours=n if hours is None else hours),
        category=category,
        summary=f"Summary {n}",
        content=f"<p>Body {n}</p>",
        author="Ann",
        source="blog",
        tags=("a", "b"),
        content_hash=f"hash-{n}",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def obs(slug: str, kind: str = "full", **kw: object) -> Observation:
    base = Observation(slug=slug, title=slug.title(), published=T0, kind=kind)
    return replace(base, **kw)  # type: ignore[arg-type]


def record(path: str, *observations: Observation, error: str | None = None) -> FileRecord:
    return FileRecord(path, 10, 1_700_000_000_000_000_000, "ab" * 32, observations, error)


def save_files(
    store: Store, source: str, records: list[FileRecord], removed: list[str], now: datetime
) -> set[str]:
    """One unit of work that saves files and nothing else."""
    with store.transaction() as uow:
        return uow.save_files(source, records, removed, now)


def observations_for(
    store: Store, names: Iterable[str]
) -> dict[str, list[tuple[str, Observation]]]:
    """slug → [("blog", observation)] of the blog source's observations named by ``names``."""
    found: dict[str, list[tuple[str, Observation]]] = {}
    with store.transaction() as uow:
        for _, observation in uow.observations_named("blog", names):
            found.setdefault(observation.slug, []).append(("blog", observation))
    return found


def snapshot(store: Store, source: str, slugs: list[str]) -> tuple[object, ...]:
    return store.file_states(source), observations_for(store, slugs)


# --- opening ---------------------------------------------------------------------------


def test_sqlite_file_gets_folder_and_connection_settings(tmp_path: Path) -> None:
    path = tmp_path / "var" / "deep" / "s.db"
    with Store(f"sqlite:///{path}") as store, store.engine.connect() as conn:
        assert path.exists()
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "busy_timeout": 5000,
        "foreign_keys": 1,
        "synchronous": 1,
    }


def test_a_new_sqlite_file_has_16_kib_pages_and_an_older_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    new, old = tmp_path / "new.db", tmp_path / "old.db"
    with closing(sqlite3.connect(old)) as made_before:  # with SQLite's default pages
        made_before.execute("CREATE TABLE t (x)")
        made_before.commit()
    for path in (new, old):
        with Store(f"sqlite:///{path}") as store:
            store.upsert_articles([article(1)], T0)
    sizes = {}
    for path in (new, old):
        with closing(sqlite3.connect(path)) as conn:
            sizes[path.name] = conn.execute("PRAGMA page_size").fetchone()[0]
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert sizes == {"new.db": 16384, "old.db": 4096}
    with Store(f"sqlite:///{old}") as store:  # opened again, as it was
        assert store.article_count() == 1


def test_schema_version_is_recorded_and_data_survives_reopening(database_url: str) -> None:
    with Store(database_url) as store:
        store.upsert_articles([article(1)], T0)
        with store.engine.connect() as conn:
            version = conn.scalar(
                select(tables.meta.c.value).where(tables.meta.c.key == "schema_version")
            )
    assert version == "2"  # set by revision 0005 (see the migrations package)
    with Store(database_url) as again:
        assert again.article_count() == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL"),
        ("nosuchdb://u:secret@h/x", r"nosuchdb://u:\*\*\*@h/x: cannot use this database"),
    ],
)
def test_unusable_urls_give_one_line_errors(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as caught:
        Store(url)
    assert "\n" not in str(caught.value) and "secret" not in str(caught.value)


def test_failed_sqlite_transaction_rolls_back_ddl_too(tmp_path: Path) -> None:
    # SQLAlchemy, not the sqlite3 module, emits BEGIN: DDL is transactional as well.
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        with pytest.raises(RuntimeError), store.engine.begin() as conn:
            conn.execute(text("CREATE TABLE scratch (x INTEGER)"))
            raise RuntimeError("boom")
        with store.engine.connect() as conn:
            found = conn.execute(text("SELECT name FROM sqlite_master WHERE name = 'scratch'"))
            assert found.first() is None


# --- articles --------------------------------------------------------------------------


def test_article_round_trip_keeps_the_instant_in_utc(store: Store) -> None:
    local = article(1, published=datetime(2026, 3, 1, 23, 30, tzinfo=PLUS2))
    now = datetime(2026, 3, 2, 12, 0, tzinfo=PLUS2)
    store.upsert_articles([local], now)
    (back,) = store.latest_articles(10, LATER)
    assert back == replace(local, first_seen=now, updated=local.published)  # unchanged since
    for moment in (back.published, back.first_seen, back.updated):
        assert moment is not None and moment.tzinfo is not None
        assert moment.utcoffset() == timedelta(0)
    assert back.published.hour == 21 and back.tags == ("a", "b")


def test_naive_datetimes_are_refused(store: Store) -> None:
    naive = article(1, published=datetime(2026, 3, 1, 12, 0))
    with pytest.raises(Exception, match="timezone-aware"):
        store.upsert_articles([naive], T0)
    assert store.article_count() == 0


def test_upsert_counts_new_and_changed_and_keeps_first_seen(store: Store) -> None:
    batch = [article(n) for n in range(3)]
    assert store.upsert_articles(batch, T0) == (3, 0)
    later = T0 + timedelta(days=1)
    assert store.upsert_articles(batch, later) == (0, 0)
    changed = replace(batch[1], title="Retitled", content_hash="hash-new")
    assert store.upsert_articles([batch[0], changed, article(3)], later) == (1, 1)
    by_slug = {a.slug: a for a in store.latest_articles(10, LATER)}
    assert by_slug[changed.slug].title == "Retitled"
    assert by_slug[changed.slug].first_seen == T0 and by_slug[changed.slug].updated == later
    assert by_slug[batch[0].slug].updated == T0
    assert by_slug[article(3).slug].first_seen == later


def test_upsert_refuses_a_slug_twice(store: Store) -> None:
    with pytest.raises(ValueError, match="post-000001"):
        store.upsert_articles([article(1), article(1)], T0)


@pytest.mark.slow
def test_bulk_upsert_of_ten_thousand(store: Store) -> None:
    batch = [article(n) for n in range(10_000)]
    assert store.upsert_articles(batch, T0) == (10_000, 0)
    edited = [replace(a, content_hash="x") if n % 10 == 0 else a for n, a in enumerate(batch)]
    assert store.upsert_articles(edited, T0) == (0, 1_000)
    assert store.article_count() == 10_000


def test_latest_is_newest_first_with_guid_tiebreak_and_category(store: Store) -> None:
    same_time = [article(n, hours=5) for n in (7, 3, 5)]
    store.upsert_articles([*same_time, article(1, category="Tech"), article(9)], T0)
    order = [a.slug for a in store.latest_articles(10, LATER)]
    assert order == ["post-000001", "post-000003", "post-000005", "post-000007", "post-000009"]
    assert [a.slug for a in store.latest_articles(2, LATER)] == order[:2]
    assert [a.slug for a in store.latest_articles(10, LATER, "Tech")] == ["post-000001"]
    assert store.latest_articles(10, LATER, "Nope") == []


def test_categories_and_count(store: Store) -> None:
    assert store.categories() == [] and store.article_count() == 0
    store.upsert_articles([article(1, category="Tech"), article(2), article(3)], T0)
    assert store.categories() == [("News", 2), ("Tech", 1)]
    assert store.article_count() == 3


# --- files and observations ------------------------------------------------------------


def test_save_files_round_trip_and_affected_slugs(store: Store) -> None:
    first = record("a.txt", obs("alpha"), obs("beta", "teaser", category="Tech", tags=("x",)))
    affected = save_files(store, "blog", [first, record("b.txt", obs("beta"))], [], T0)
    assert affected == {"alpha", "beta"}
    states = store.file_states("blog")
    assert states["a.txt"] == FileState("a.txt", 10, 1_700_000_000_000_000_000, "ab" * 32, None)
    assert store.file_states("other") == {}
    found = observations_for(store, ["beta", "alpha", "missing"])
    assert found["alpha"] == [("blog", obs("alpha"))]
    assert found["beta"] == [("blog", first.observations[1]), ("blog", obs("beta"))]
    assert found["beta"][0][1].published.tzinfo is not None and "missing" not in found

    # a.txt now says only gamma; b.txt is gone: old and new slugs are both affected
    affected = save_files(store, "blog", [record("a.txt", obs("gamma"))], ["b.txt"], T0)
    assert affected == {"alpha", "beta", "gamma"}
    assert set(store.file_states("blog")) == {"a.txt"}
    assert observations_for(store, ["alpha", "beta", "gamma"]) == {
        "gamma": [("blog", obs("gamma"))]
    }


def test_errored_file_keeps_no_observations(store: Store) -> None:
    save_files(store, "blog", [record("a.txt", obs("alpha"))], [], T0)
    affected = save_files(store, "blog", [record("a.txt", error="not UTF-8")], [], T0)
    assert affected == {"alpha"}
    assert store.file_states("blog")["a.txt"].error == "not UTF-8"
    assert observations_for(store, ["alpha"]) == {}
    with pytest.raises(ValueError, match=r"a\.txt: a file with an error"):
        record("a.txt", obs("alpha"), error="bad")


def test_save_files_is_all_or_nothing(store: Store) -> None:
    save_files(store, "blog", [record("a.txt", obs("alpha")), record("b.txt", obs("beta"))], [], T0)
    before = snapshot(store, "blog", ["alpha", "beta", "gamma"])
    broken = obs("delta", published=datetime(2026, 1, 1))  # naive: fails at its insert
    batch = [record("a.txt", obs("gamma")), record("c.txt", broken)]
    with pytest.raises(Exception, match="timezone-aware"):
        save_files(store, "blog", batch, ["b.txt"], T0)
    assert snapshot(store, "blog", ["alpha", "beta", "gamma"]) == before


def test_save_files_refuses_a_path_twice(store: Store) -> None:
    with pytest.raises(ValueError, match=r"'a\.txt' given twice"):
        save_files(store, "blog", [record("a.txt")], ["a.txt"], T0)


def test_touch_files_updates_size_and_mtime_only(store: Store) -> None:
    save_files(store, "blog", [record("a.txt", obs("alpha")), record("b.txt")], [], T0)
    with store.transaction() as uow:
        uow.touch_files("blog", [("a.txt", 99, 123)])
    states = store.file_states("blog")
    assert states["a.txt"] == FileState("a.txt", 99, 123, "ab" * 32, None)
    assert states["b.txt"].size == 10
    assert observations_for(store, ["alpha"])["alpha"] == [("blog", obs("alpha"))]


def test_observations_for_more_slugs_than_one_in_list(store: Store) -> None:
    many = [obs(f"s{n:05d}") for n in range(2_500)]
    save_files(store, "blog", [record("big.txt", *many)], [], T0)
    found = observations_for(store, [o.slug for o in many])
    assert len(found) == 2_500 and found["s02499"] == [("blog", many[-1])]


def test_gather_runs(store: Store) -> None:
    assert store.last_gather() is None
    with store.transaction() as uow:
        uow.record_gather_run("blog", T0, T0 + timedelta(seconds=3), (1, 2, 3, 0, 0))
        uow.record_gather_run(
            "feed", T0 - timedelta(hours=1), T0 - timedelta(minutes=59), (0, 0, 0, 1, 1)
        )
    assert store.last_gather() == T0 + timedelta(seconds=3)
    assert store.last_gather_counts() == {
        "new": 1,
        "updated": 2,
        "unchanged": 3,
        "removed": 1,
        "failed": 1,
    }


# --- editions --------------------------------------------------------------------------


def test_create_and_get_edition_in_stored_order(store: Store) -> None:
    store.upsert_articles([article(n) for n in range(4)], T0)
    guids = [article(2).guid, article(0).guid, article(3).guid]
    made = store.create_edition("2026-W10", T0, "Week 10", guids)
    assert [a.guid for a in made.articles] == guids
    assert store.get_edition("2026-W10") == made
    assert made.created_at == T0 and made.subject == "Week 10"
    assert store.get_edition("2026-W11") is None


def test_create_edition_is_idempotent(store: Store) -> None:
    store.upsert_articles([article(n) for n in range(3)], T0)
    first = store.create_edition("2026-W10", T0, "First", [article(0).guid])
    again = store.create_edition("2026-W10", T0 + timedelta(hours=1), "Second", [article(1).guid])
    assert again == first
    assert store.editions() == [("2026-W10", T0, 1)]


def test_create_edition_under_a_race_returns_one_edition(database_url: str) -> None:
    stores = [Store(database_url) for _ in range(6)]
    stores[0].upsert_articles([article(n) for n in range(6)], T0)
    barrier = threading.Barrier(len(stores))
    results: list[object] = []

    def run(n: int) -> None:
        barrier.wait()
        results.append(stores[n].create_edition("2026-W10", T0, f"by {n}", [article(n).guid]))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in stores:
        opened.close()
    assert len(results) == len(stores) and all(r == results[0] for r in results)
    with Store(database_url) as store:
        assert [count for _, _, count in store.editions()] == [1]


def test_create_edition_with_unknown_guid_writes_nothing(store: Store) -> None:
    store.upsert_articles([article(1)], T0)
    with pytest.raises(ValueError, match="unknown article guid 'urn:nope'"):
        store.create_edition("2026-W10", T0, "", [article(1).guid, "urn:nope"])
    assert store.editions() == [] and store.get_edition("2026-W10") is None


def test_period_articles_are_those_published_in_it_visible_now_newest_first(
    store: Store,
) -> None:
    # Issue 10: an edition holds the articles published in its period, not "in no earlier
    # edition": an old article never comes back as new, and other cadences share articles.
    store.upsert_articles([article(n) for n in range(6)], T0)
    store.upsert_articles([article(6, status=ArticleStatus.DRAFT)], T0)
    store.create_edition("weekly:2026-W09", T0, "", [article(1).guid, article(4).guid])
    start, end = article(5).published, article(0).published  # [5, 0): 0 is not in it
    found, total = store.period_articles(start, end, T0, 10)
    assert [a.slug for a in found] == [article(n).slug for n in (1, 2, 3, 4, 5)]
    assert total == 5
    capped, total = store.period_articles(start, end, T0, 2)
    assert [a.slug for a in capped] == [article(1).slug, article(2).slug] and total == 5
    not_due, total = store.period_articles(start, end, article(3).published, 10)
    assert [a.slug for a in not_due] == [article(n).slug for n in (3, 4, 5)] and total == 3


# --- the newest-first listing uses its index -------------------------------------------


# Filled by SQL, not by Python rows: 100,000 rows in a fraction of a second. Article n is
# published n % 50,000 minutes before T0, in category n % 4.
_FILL = {
    "sqlite": """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :count - 1)
        INSERT INTO articles (guid, slug, title, link, published, category, summary, content,
                              author, source, tags, first_seen, updated, content_hash, key,
                              status)
        SELECT printf('g%07d', i), printf('s%07d', i), 't', 'l',
               strftime('%Y-%m-%d %H:%M:%f000', :t0, printf('-%d minutes', i % 50000)),
               CASE i % 4 WHEN 0 THEN 'News' WHEN 1 THEN 'Tech' WHEN 2 THEN 'Life'
                          ELSE 'Sport' END,
               '', '', '', 'blog', '[]', :t0, :t0, '', printf('s%07d', i), 'published'
        FROM n
    """,
    "postgresql": """
        INSERT INTO articles (guid, slug, title, link, published, category, summary, content,
                              author, source, tags, first_seen, updated, content_hash, key,
                              status)
        SELECT 'g' || lpad(i::text, 7, '0'), 's' || lpad(i::text, 7, '0'), 't', 'l',
               CAST(:t0 AS timestamptz) - (i % 50000) * interval '1 minute',
               (ARRAY['News', 'Tech', 'Life', 'Sport'])[i % 4 + 1],
               '', '', '', 'blog', '[]', CAST(:t0 AS timestamptz), CAST(:t0 AS timestamptz), '',
               's' || lpad(i::text, 7, '0'), 'published'
        FROM generate_series(0, :count - 1) AS i
    """,
}


def _fill(store: Store, count: int) -> None:
    with store.engine.begin() as conn:
        dialect = conn.dialect.name
        t0 = T0.strftime("%Y-%m-%d %H:%M:%S") + ("+00:00" if dialect == "postgresql" else "")
        conn.execute(text(_FILL[dialect]), {"count": count, "t0": t0})
        conn.exec_driver_sql("ANALYZE articles" if dialect == "postgresql" else "ANALYZE")


def _plan(store: Store, category: str | None) -> str:
    """The plan of store.build_reads' query of the newest articles, as the Store runs it."""
    with store.engine.connect() as conn:
        dialect = conn.dialect.name
        params: dict[str, object] = {"now": moment_param(LATER, dialect), "limit": 50}
        sql = build_reads.LATEST if category is None else build_reads.LATEST_IN
        if category is not None:
            params["category"] = category
        explain = "EXPLAIN " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
        rows = conn.execute(text(explain + sql), params)
        return "\n".join(str(r[0] if dialect == "postgresql" else r[-1]) for r in rows)


@pytest.mark.slow
def test_latest_articles_walks_the_index_on_a_large_archive(store: Store) -> None:
    _fill(store, 100_000)
    plain, by_category = _plan(store, None), _plan(store, "Tech")
    assert "ix_articles_published_guid" in plain, plain
    assert "ix_articles_category_published" in by_category, by_category
    for plan in (plain, by_category):
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
    newest = store.latest_articles(3, LATER, "Tech")
    assert [a.guid for a in newest] == ["g0000001", "g0050001", "g0000005"]
