"""A gather through sqlite3 (store.sqlite_gather.SqliteGather) stores what a gather through a
Store stores, row for row, over a history of edits, removals, duplicates and failures; and
`syndicate gather` takes it for a site of folders on a SQLite store at the head revision.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.sites import examples_site

from syndicate.cli import main
from syndicate.config import load_settings
from syndicate.pipeline import gather
from syndicate.store import Store, StoreError
from syndicate.store.gather_writes import (
    _CONTENT,
    _FEED_STATE,
    _FILE_COLUMNS,
    _OBSERVED,
    UnitOfWork,
)
from syndicate.store.schema import articles, feed_state, files, observations
from syndicate.store.sqlite_gather import SqliteGather

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TABLES = ("articles", "observations", "files", "gather_runs")


def config(root: Path) -> Path:
    return root / "config" / "syndicate.toml"


def rows(root: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every gathered table as stored, in a stable order (the files without their mtimes:
    the two sites' edits are made one after the other)."""
    with sqlite3.connect(root / "var" / "syndicate.db") as db:
        found = {table: sorted(db.execute(f"SELECT * FROM {table}").fetchall()) for table in TABLES}
    found["files"] = [row[:3] + row[4:] for row in found["files"]]
    return found


def edits(root: Path, step: int) -> None:
    """One step of a site's history: an edit, a new file, a duplicate title, a removal, a
    file that fails to parse, then that file mended."""
    folder = root / "articles"
    names = sorted(p.name for p in folder.glob("*.md"))
    if step == 0:
        page = folder / names[0]
        page.write_text(page.read_text(encoding="utf-8") + "\nEdited once.\n", encoding="utf-8")
        (folder / "zz-new.md").write_text(
            "---\ntitle: A new one\ndate: 2026-11-20T10:00:00+00:00\n---\nNew.\n", "utf-8"
        )
    elif step == 1:
        (folder / "zz-twin.md").write_text(
            "---\ntitle: A new one\ndate: 2026-11-20T11:00:00+00:00\n---\nTwin.\n", "utf-8"
        )
        (folder / names[1]).unlink()
    elif step == 2:
        (folder / "zz-broken.md").write_text("---\ntitle: [unclosed\n---\nx\n", "utf-8")
    else:
        mended = "---\ntitle: Mended\ndate: 2026-11-20T12:00:00+00:00\n---\nFine.\n"
        (folder / "zz-broken.md").write_text(mended, "utf-8")


def test_a_history_stores_the_same_rows_both_ways(tmp_path: Path) -> None:
    through_store = examples_site(tmp_path / "store")
    through_sqlite = tmp_path / "sqlite3"
    shutil.copytree(through_store, through_sqlite)
    for root in (through_store, through_sqlite):
        Store(load_settings(config(root)).database_url).close()  # empty, at the head revision
    summaries = []
    for step in range(-1, 4):
        now = NOW + timedelta(hours=step + 1)
        reports = []
        for root in (through_store, through_sqlite):
            if step >= 0:
                edits(root, step)
            settings = load_settings(config(root))
            if root is through_store:
                with Store(settings.database_url) as store:
                    reports.append(gather(settings, store, now=now).summary())
            else:
                reports.append(gather(settings, SqliteGather(settings.database_url), now=now))
                reports[-1] = reports[-1].summary()
        assert reports[0] == reports[1], step
        assert rows(through_store) == rows(through_sqlite), step
        summaries.append(reports[0])
    assert summaries[0].startswith("15 new") and "1 removed" in summaries[2]
    assert [s.endswith(", 1 failed") for s in summaries] == [False, False, False, True, False]


def test_the_command_gathers_a_site_of_folders_through_sqlite3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = examples_site(tmp_path / "site")
    args = ["--config", str(config(root)), "--now", NOW.isoformat(), "gather"]
    assert "15 new" in CliRunner().invoke(main, args).output  # the first: a Store creates it
    edits(root, 0)

    def no_store(*_: object) -> None:
        raise AssertionError("a site of folders on a SQLite store is gathered through sqlite3")

    monkeypatch.setattr(Store, "__init__", no_store)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "gather: 1 new, 1 updated, 14 unchanged, 0 removed, 0 failed" in result.output


def test_a_store_gone_in_between_is_one_line_and_nothing_stored(tmp_path: Path) -> None:
    root = examples_site(tmp_path / "site")
    settings = load_settings(config(root))
    database = root / "var" / "syndicate.db"
    Store(settings.database_url).close()
    writes = SqliteGather(settings.database_url)
    database.unlink()
    with pytest.raises(StoreError, match="no longer a SQLite store at the head revision"):
        writes.file_states("articles")
    errors: list[str] = []
    Store(settings.database_url).close()
    report = gather(settings, _vanishing(writes, database), now=NOW, on_error=errors.append)
    assert report.failed == 1 and len(errors) == 1, errors
    assert "nothing stored" in errors[0] and "\n" not in errors[0]


class _vanishing(SqliteGather):
    """Reads the file states, then the store is gone before the unit of work."""

    def __init__(self, inner: SqliteGather, database: Path) -> None:
        super().__init__(inner._url)
        self._database = database

    def file_states(self, source: str) -> Any:
        states = super().file_states(source)
        self._database.unlink()
        return states


@pytest.mark.parametrize(
    ("names", "table"),
    [
        ((*_CONTENT, "first_seen", "updated", "changed_seq", "id"), articles),
        ((*_OBSERVED, "id", "source", "path", "position"), observations),
        (_FILE_COLUMNS, files),
        (_FEED_STATE, feed_state),
    ],
    ids=["articles", "observations", "files", "feed_state"],
)
def test_the_sql_names_every_column_of_its_table(names: tuple[str, ...], table: Any) -> None:
    assert sorted(names) == sorted(column.name for column in table.columns)


def test_mark_removed_counts_only_the_rows_it_changed(store: Store) -> None:
    from tests.test_status_reads import article

    store.upsert_articles([article(n, "News", NOW) for n in range(3)], NOW)
    with store.transaction() as uow:
        assert isinstance(uow, UnitOfWork)
        keys = ["post-0000", "post-0001", "no-such-key"]
        assert uow.mark_removed("blog", keys, NOW) == 2
        assert uow.mark_removed("blog", keys, NOW) == 0  # removed already
        assert uow.source_article_count("blog") == 1


def locked(root: Path, monkeypatch: pytest.MonkeyPatch) -> sqlite3.Connection:
    """Another writer holding the site's store, and a busy timeout of 50 ms (not 5 s)."""
    from syndicate.store import sqlite_direct

    quick = tuple(
        "PRAGMA busy_timeout=50" if p == sqlite_direct.BUSY_TIMEOUT else p
        for p in sqlite_direct.SQLITE_PRAGMAS
    )
    monkeypatch.setattr(sqlite_direct, "SQLITE_PRAGMAS", quick)
    holder = sqlite3.connect(root / "var" / "syndicate.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_store_locked_past_the_busy_timeout_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = examples_site(tmp_path / "site")
    settings = load_settings(config(root))
    Store(settings.database_url).close()
    holder = locked(root, monkeypatch)
    try:
        errors: list[str] = []
        report = gather(settings, SqliteGather(settings.database_url), now=NOW,
                        on_error=errors.append)  # fmt: skip
    finally:
        holder.close()
    assert report.failed == 1 and len(errors) == 1, errors
    assert errors[0].endswith("nothing stored: " + settings.database_url + ": database is locked")


def test_the_command_on_a_locked_store_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = examples_site(tmp_path / "site")
    args = ["--config", str(config(root)), "--now", NOW.isoformat(), "gather"]
    assert "15 new" in CliRunner().invoke(main, args).output
    holder = locked(root, monkeypatch)
    try:
        result = CliRunner().invoke(main, args)
    finally:
        holder.close()
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    (line,) = result.output.splitlines()
    assert line.startswith("Error: storage.url: sqlite:///") and line.endswith("database is locked")
