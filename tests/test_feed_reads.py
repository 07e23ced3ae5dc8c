"""`syndicate feeds` with nothing changed (store.sqlite_direct, pipeline.publish.unchanged_build).

The reads over a read-only sqlite3 connection answer what the Store's answer (one SQL text:
store.page_rows runs it through SQLAlchemy); and the command says what a full build says and
leaves the output folder as a full build leaves it — when nothing changed, without building,
and after every kind of change (an article, the clock, the settings, a template, a file on
disk), by building.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from tests.sites import examples_site
from tests.test_status_reads import article

from syndicate import pipeline
from syndicate.cli import main
from syndicate.models import ArticleStatus
from syndicate.pipeline import publish
from syndicate.store import Store, sqlite_direct
from syndicate.store import page_rows as pages
from syndicate.store.sqlite_direct import FeedReads, feed_reads

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
NOW = "2026-11-21T12:00:00+00:00"


WINDOWS = [  # (since, now) of two builds, the clock set back in the last
    (T0 - timedelta(days=30), T0 - timedelta(days=20)),
    (T0, T0 + timedelta(days=2)),  # the scheduled one comes due
    (T0 + timedelta(days=2), T0 + timedelta(days=30)),  # only the draft's date
    (T0 + timedelta(days=2), T0),  # the scheduled one is hidden again
]


def populate(store: Store) -> None:
    items = [article(n, ("News", "Tech")[n % 2], T0 - timedelta(hours=n + 1)) for n in range(4)]
    items += [
        article(10, "News", T0 + timedelta(days=1)),  # scheduled
        article(11, "Tech", T0 + timedelta(days=3), status=ArticleStatus.DRAFT),
    ]
    store.upsert_articles(items, T0)


def answers(reads: FeedReads) -> dict[str, Any]:
    return {
        "mark": reads.change_mark(),
        "due": [reads.any_came_due(since, now) for since, now in WINDOWS],
    }


def test_the_reads_answer_what_the_store_answers(store: Store, database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert pages.change_mark(conn) == sqlite_direct.Mark()  # an empty store
    populate(store)
    with engine.connect() as conn:

        def run(sql: str, params: Mapping[str, object]) -> list[tuple[Any, ...]]:
            return [tuple(row) for row in conn.execute(text(sql), dict(params))]

        over_sqlalchemy = answers(FeedReads(run, conn.dialect.name))
        mark = pages.change_mark(conn)
        due = [bool(pages.changed_page_rows(conn, mark, since, now, 100)) for since, now in WINDOWS]
    engine.dispose()
    assert over_sqlalchemy == {"mark": mark, "due": due}
    assert due == [False, True, False, True]  # the windows tell the cases apart
    assert due[:3] == [store.articles_came_due(*window) > 0 for window in WINDOWS[:3]]
    with feed_reads(database_url) as fast:
        sqlite = database_url.startswith("sqlite")
        assert (fast is not None) == sqlite  # PostgreSQL keeps the SQLAlchemy way
        assert fast is None or answers(fast) == over_sqlalchemy


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = examples_site(tmp_path / "site")
    assert command(root, "gather")[0] == 0
    assert command(root, "feeds")[0] == 0
    return root


def command(site: Path, *args: str, now: str = NOW) -> tuple[int, str]:
    config = str(site / "config" / "syndicate.toml")
    result = CliRunner().invoke(main, ["--config", config, "--now", now, *args])
    return result.exit_code, result.output


def snapshot(site: Path) -> dict[str, tuple[bytes, int]]:
    """The output folder: path -> (bytes, mtime)."""
    public = site / "var" / "public"
    return {
        str(p.relative_to(public)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(public.rglob("*"))
        if p.is_file()
    }


def touched(
    before: Mapping[str, tuple[bytes, int]], after: Mapping[str, tuple[bytes, int]]
) -> set[str]:
    """The files written, made or removed in between."""
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def feeds_both_ways(
    site: Path, monkeypatch: pytest.MonkeyPatch, now: str = NOW
) -> tuple[str, bool]:
    """`feeds` run as it runs and, on a copy of the site as it was, by a full build: the
    same output and the same files (mtimes too); its output, and whether it built."""
    copy = site.parent / "copy"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(site, copy, symlinks=True)  # copy2: the mtimes stay
    before = snapshot(site)
    assert snapshot(copy) == before
    built: list[bool] = []
    real = publish.build_all_feeds

    def counted(*args: Any) -> publish.FeedsReport:
        built.append(True)
        return real(*args)

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "build_all_feeds", counted)
        code, fast = command(site, "feeds", now=now)
    assert code == 0, fast
    with monkeypatch.context() as patch:
        patch.setattr(publish, "unchanged_build", lambda *_: None)
        code, full = command(copy, "feeds", now=now)
    assert code == 0, full
    assert fast.replace(str(site), "SITE") == full.replace(str(copy), "SITE")
    fast_files, full_files = snapshot(site), snapshot(copy)
    assert {p: b for p, (b, _) in fast_files.items()} == {p: b for p, (b, _) in full_files.items()}
    assert touched(before, fast_files) == touched(before, full_files)
    return fast, bool(built)


def test_nothing_changed_reads_no_article_and_writes_nothing(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(site)

    def no_store(*_: object) -> None:
        raise AssertionError("an unchanged build opens no Store")

    with monkeypatch.context() as patch:
        patch.setattr(Store, "__init__", no_store)
        code, output = command(site, "feeds")
    assert code == 0, output
    assert "feeds: 0 written, 5 unchanged, 0 removed" in output
    assert snapshot(site) == before
    output, built = feeds_both_ways(site, monkeypatch)
    assert not built


def edit_article(site: Path) -> None:
    path = sorted((site / "articles").glob("*.md"))[-1]
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    assert "1 updated" in command(site, "gather")[1]


def edit_template(site: Path) -> None:
    pages_dir = site / "templates" / "pages"
    pages_dir.mkdir(parents=True, exist_ok=True)
    (pages_dir / "extra.txt").write_text("a file of the look\n", encoding="utf-8")


def edit_settings(site: Path) -> None:
    config = site / "config" / "syndicate.toml"
    text_ = config.read_text(encoding="utf-8")
    assert "[feeds]" in text_
    assert "items = 50" in text_
    config.write_text(text_.replace("items = 50", "items = 3", 1), encoding="utf-8")


def edit_output(site: Path) -> None:
    (site / "var" / "public" / "rss.xml").write_bytes(b"<rss/>")


def remove_category_feed(site: Path) -> None:
    feed = next((site / "var" / "public" / "category").rglob("atom.xml"))
    feed.unlink()


def remove_record(site: Path) -> None:
    (site / "var" / "public" / ".feeds.stamps").unlink()


CHANGES: dict[str, Callable[[Path], None]] = {
    "an article": edit_article,
    "a template": edit_template,
    "the settings": edit_settings,
    "a file on disk": edit_output,
    "a category's feed gone": remove_category_feed,
    "the feed record gone": remove_record,
}


@pytest.mark.parametrize("change", CHANGES, ids=str)
def test_after_a_change_feeds_builds_as_a_full_build_does(
    site: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    CHANGES[change](site)
    output, built = feeds_both_ways(site, monkeypatch)
    assert built
    output, built = feeds_both_ways(site, monkeypatch)  # and next time nothing changed
    assert not built
    assert "0 written" in output


def test_an_article_that_came_due_is_built(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = site / "articles"
    (folder / "later.md").write_text(
        "---\ntitle: Later\ndate: 2026-11-25T10:00:00+00:00\ncategory: Events\n---\nSoon.\n",
        encoding="utf-8",
    )
    assert "1 new" in command(site, "gather")[1]
    feeds_both_ways(site, monkeypatch)  # before its date: the pages read it once
    _, built = feeds_both_ways(site, monkeypatch, now="2026-11-22T12:00:00+00:00")
    assert not built  # not yet due
    output, built = feeds_both_ways(site, monkeypatch, now="2026-11-26T12:00:00+00:00")
    assert built and "0 written" not in output
