"""Issue 9: the store's change mark. Every write of an article that changes it (new, content,
status, removed) takes a number past every stored one; a build reads the rows past the mark
it held, and those the clock made due; on PostgreSQL writers take their numbers one after
another (a sequence would let a slower transaction commit a number below a mark read)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from tests.test_migrations import create_legacy
from tests.test_store import T0, article

from syndicate.models import ArticleStatus
from syndicate.store import Store
from syndicate.store.build_reads import Mark
from syndicate.store.engine import make_engine, writer
from syndicate.store.gather_writes import UnitOfWork
from syndicate.store.schema import articles
from syndicate.store.text_sql import text_sql


def seqs(store: Store) -> dict[str, int]:
    with store._engine.connect() as conn:
        query = select(articles.c.guid, articles.c.changed_seq)
        return {guid: int(seq) for guid, seq in conn.execute(query)}


def test_every_change_of_an_article_takes_a_later_number(store: Store) -> None:
    one, two = article(1), article(2)
    store.upsert_articles([one, two], T0)
    first = seqs(store)
    assert first[one.guid] == first[two.guid] >= 1  # one write, one number
    store.upsert_articles([one, two], T0)  # unchanged: no number
    assert seqs(store) == first
    steps = [
        replace(one, content="<p>edited</p>", content_hash="edited"),
        replace(one, content="<p>edited</p>", content_hash="edited", status=ArticleStatus.DRAFT),
    ]
    last = first[one.guid]
    for step in steps:
        store.upsert_articles([step], T0)
        now = seqs(store)
        assert now[one.guid] > last and now[two.guid] == first[two.guid]
        last = now[one.guid]
    with store.transaction() as uow:
        assert uow.mark_removed("blog", [two.key], T0) == 1
    assert seqs(store)[two.guid] > last


def test_a_build_reads_the_rows_past_its_mark_and_those_that_came_due(store: Store) -> None:
    shown, later = article(1), article(2, hours=-48)  # dated two days after T0
    store.upsert_articles([shown, later], T0)
    changes = store.page_changes(T0, None, None, 100)
    assert changes.every and [r.guid for r in changes.rows] == [shown.guid]
    mark = changes.mark
    assert mark.seq == seqs(store)[shown.guid]
    assert store.page_changes(T0, mark, T0, 100).rows == []
    due = store.page_changes(T0 + timedelta(days=3), mark, T0, 100)
    assert [(r.guid, r.shown) for r in due.rows] == [(later.guid, True)]
    back = store.page_changes(T0, mark, T0 + timedelta(days=3), 100)  # the clock set back
    assert [(r.guid, r.shown) for r in back.rows] == [(later.guid, False)]
    store.upsert_articles([replace(shown, status=ArticleStatus.DRAFT)], T0)
    (drafted,) = store.page_changes(T0, mark, T0, 100).rows
    assert (drafted.guid, drafted.shown) == (shown.guid, False)
    assert store.page_changes(T0, mark, T0, 0).every  # past the limit: every visible one


def test_a_mark_of_another_or_an_older_store_is_not_used(store: Store) -> None:
    store.upsert_articles([article(1)], T0)
    mark = store.page_changes(T0, None, None, 100).mark
    for other in (Mark(mark.seq, "urn:elsewhere"), Mark(mark.seq + 1, mark.guid)):
        assert store.page_changes(T0, other, T0, 100).every
    assert not store.page_changes(T0, mark, T0, 100).every


@pytest.mark.empty_database
def test_a_database_created_at_head_and_one_migrated_mark_alike(database_url: str) -> None:
    engine = make_engine(database_url)
    create_legacy(engine, with_rows=True)
    with Store(database_url) as store:
        (old,) = store.latest_articles(10, T0 + timedelta(days=999))
        with engine.connect() as conn:
            held = conn.execute(select(articles.c.id, articles.c.changed_seq)).one()
        assert held.changed_seq == held.id  # migrated: each row its id
        store.upsert_articles([article(5)], T0)
        assert seqs(store)[article(5).guid] == held.changed_seq + 1
        assert store.page_changes(T0, store.page_changes(T0, None, None, 9).mark, T0, 9).rows == []
    engine.dispose()
    assert old.guid == "urn:test:1"


def test_postgresql_writers_take_their_numbers_one_after_another(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's write transaction holds the database's one lock")
    with Store(database_url):
        pass  # migrated
    engine = writer(make_engine(database_url))
    try:
        with engine.begin() as first:
            assert UnitOfWork(text_sql(first)).next_change() == 1
            with engine.connect() as second, pytest.raises(DBAPIError, match="lock timeout"):
                second.execute(text("SET lock_timeout = '50ms'"))
                UnitOfWork(text_sql(second)).next_change()  # waits for the first to end
        with engine.begin() as second:
            assert UnitOfWork(text_sql(second)).next_change() == 1  # the first wrote nothing
    finally:
        engine.dispose()
