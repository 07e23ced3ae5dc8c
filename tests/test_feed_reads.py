"""`syndicate feeds` through sqlite3 (store.build_reads, pipeline.publish.unchanged_build).

The reads over a read-only sqlite3 connection answer what the Store's answer (one SQL text:
the Store runs it through SQLAlchemy); and the command says what a build through a Store
says and leaves the output folder as it leaves it — when nothing changed, without building,
and after every kind of change (an article, the clock, the settings, a template, a file on
disk), by building through sqlite3.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.sites import examples_site
from tests.test_status_reads import article

from syndicate import pipeline
from syndicate.cli import main
from syndicate.models import ArticleStatus
from syndicate.pipeline import publish
from syndicate.store import Store, build_reads
from syndicate.store.build_reads import BuildReads, Mark

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
NOW = "2026-11-21T12:00:00+00:00"


WINDOWS = [  # (since, now) of two builds, the clock set back in the last
    (T0 - timedelta(days=30), T0 - timedelta(days=20)),
    (T0, T0 + timedelta(days=2)),  # the scheduled one comes due
    (T0 + timedelta(days=2), T0 + timedelta(days=30)),  # only the draft's date
    (T0 + timedelta(days=2), T0),  # the scheduled one is hidden again
]
LINKS = [f"https://example.com/post-{n:04d}" for n in (0, 1, 10, 11, 99)]


def populate(store: Store) -> None:
    items = [article(n, ("News", "Tech")[n % 2], T0 - timedelta(hours=n + 1)) for n in range(4)]
    items += [
        article(10, "News", T0 + timedelta(days=1)),  # scheduled
        article(11, "Tech", T0 + timedelta(days=3), status=ArticleStatus.DRAFT),
    ]
    store.upsert_articles(items, T0)


def answers(reads: BuildReads) -> dict[str, Any]:
    mark = reads.change_mark()
    return {
        "mark": mark,
        "due": [reads.any_came_due(since, now) for since, now in WINDOWS],
        "due rows": [reads.changed_page_rows(mark, *window, 100) for window in WINDOWS],
        "latest": [reads.latest_articles(10, now) for now in (T0, T0 + timedelta(days=5))],
        "latest in": [reads.latest_articles(2, T0, c) for c in ("News", "Tech", "None")],
        "categories": [reads.categories(now) for now in (None, T0, T0 + timedelta(days=5))],
        "every": reads.page_changes(T0, None, None, 100),
        "since": reads.page_changes(T0 + timedelta(days=2), Mark(1, "urn:test:0000"), T0, 100),
        "owners": reads.page_owners(LINKS, T0 + timedelta(days=2)),
        "by guid": sorted(
            reads.articles_by_guid(["urn:test:0011", "urn:test:0003", "x"]), key=lambda a: a.guid
        ),
    }


def test_the_reads_answer_what_the_store_answers(store: Store, database_url: str) -> None:
    with store.build_reads() as reads:
        assert reads.change_mark() == Mark()  # an empty store
    populate(store)
    with store.build_reads() as reads:
        over_sqlalchemy = answers(reads)
    with build_reads.read_only(database_url) as fast:
        sqlite = database_url.startswith("sqlite")
        assert (fast is not None) == sqlite  # PostgreSQL keeps the SQLAlchemy way
        assert fast is None or answers(fast) == over_sqlalchemy
    found = over_sqlalchemy
    assert found["due"] == [False, True, False, True]  # the windows tell the cases apart
    assert found["due"][:3] == [store.articles_came_due(*window) > 0 for window in WINDOWS[:3]]
    assert [bool(rows) for rows in found["due rows"]] == found["due"]
    assert [[a.title for a in latest] for latest in found["latest"]] == [
        ["Post 0", "Post 1", "Post 2", "Post 3"],
        ["Post 10", "Post 0", "Post 1", "Post 2", "Post 3"],  # the draft is never shown
    ]
    assert [[a.title for a in latest] for latest in found["latest in"]] == [
        ["Post 0", "Post 2"], ["Post 1", "Post 3"], []
    ]  # fmt: skip
    assert found["categories"] == [
        [("News", 3), ("Tech", 2)], [("News", 2), ("Tech", 2)], [("News", 3), ("Tech", 2)]
    ]  # fmt: skip
    assert found["every"].every and len(found["every"].rows) == 4
    assert not found["since"].every  # all written in one change: only the one that came due
    assert [row.guid for row in found["since"].rows] == ["urn:test:0010"]
    assert sorted(found["owners"]) == LINKS[:3]  # the draft and an unknown link own nothing
    (third, draft) = found["by guid"]
    assert (third.title, third.published, draft.status) == ("Post 3", T0 - timedelta(hours=4),
                                                             ArticleStatus.DRAFT)  # fmt: skip
    assert third.published.tzinfo is not None and third.first_seen == T0


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


@contextmanager
def no_sqlite3(url: str) -> Iterator[None]:
    yield None


def feeds_both_ways(
    site: Path, monkeypatch: pytest.MonkeyPatch, now: str = NOW
) -> tuple[str, bool]:
    """`feeds` run as it runs (through sqlite3) and, on a copy of the site as it was, by a
    full build through a Store: the same output and the same files (mtimes too); its
    output, and whether it built."""
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
    with monkeypatch.context() as patch:  # the copy is built through a Store
        patch.setattr(build_reads, "read_only", no_sqlite3)
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
