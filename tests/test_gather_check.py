"""`syndicate gather` with nothing changed (pipeline.gather_check, store.sqlite_direct).

When every file of every folder source is as its row says, the command records the runs
through sqlite3 and says what a full gather says; the rows it writes are the rows a full
gather writes. Any change (a file new, edited, touched, gone or failing; a feed source; a
store it cannot read directly) writes nothing there and is gathered in full.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.sites import examples_site

from syndicate.cli import main
from syndicate.config import load_settings
from syndicate.pipeline import gather
from syndicate.pipeline.gather_check import folder_scans, unchanged_gather
from syndicate.store import Store
from syndicate.store.gather_writes import UnitOfWork
from syndicate.store.sqlite_direct import writing

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = examples_site(tmp_path / "site")
    assert "15 new" in run_gather(root)
    return root


def config(root: Path) -> Path:
    return root / "config" / "syndicate.toml"


def run_gather(root: Path, *, now: datetime = NOW) -> str:
    args = ["--config", str(config(root)), "--now", now.isoformat(), "gather"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    return result.output


def runs(root: Path) -> list[tuple[Any, ...]]:
    """The gather runs as stored, oldest first, without their ids."""
    with sqlite3.connect(root / "var" / "syndicate.db") as db:
        rows = db.execute("SELECT * FROM gather_runs ORDER BY id").fetchall()
    return [row[1:] for row in rows]


def check(root: Path, now: datetime = NOW) -> str | None:
    """The quick gather's summary, or None when it left the gather to the full one."""
    settings = load_settings(config(root))
    scans = folder_scans(settings)
    if scans is None:
        return None
    with writing(settings.database_url) as run:
        assert run is not None
        report = unchanged_gather(scans, UnitOfWork(run), now)
    return None if report is None else report.summary()


def test_nothing_changed_says_and_stores_what_a_full_gather_does(
    site: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    shutil.copytree(site, other)
    later = datetime(2026, 11, 22, 7, 30, tzinfo=UTC)
    quick = run_gather(site, now=later)
    settings = load_settings(config(other))
    with Store(settings.database_url) as store:
        full = gather(settings, store, now=later)
    assert quick.strip() == f"gather: {full.summary()}"
    assert full.summary().startswith("0 new, 0 updated, 15 unchanged, 0 removed, 0 failed")
    assert runs(site) == runs(other)
    assert len(runs(site)) == 2


def test_it_finds_nothing_changed_and_records_one_run(site: Path) -> None:
    before = runs(site)
    assert check(site) == "0 new, 0 updated, 15 unchanged, 0 removed, 0 failed"
    assert runs(site) == [*before, runs(site)[-1]]


def _edit(root: Path) -> None:
    article = sorted((root / "articles").glob("*.md"))[-1]
    article.write_text(article.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")


def _touch(root: Path) -> None:
    article = sorted((root / "articles").glob("*.md"))[0]
    stat = article.stat()
    os.utime(article, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def _add(root: Path) -> None:
    (root / "articles" / "new-one.txt").write_text(
        "A new one\n\nNovember 20, 2026\n\nIt is new.\n", encoding="utf-8"
    )


def _remove(root: Path) -> None:
    sorted((root / "articles").glob("*.md"))[0].unlink()


def _break(root: Path) -> None:
    (root / "articles" / "broken.md").write_bytes(b"\xff\xfe not text")


def _feed_source(root: Path) -> None:
    feed = root / "feed.xml"
    feed.write_text('<?xml version="1.0"?><rss version="2.0"><channel><title>P</title>'
                    "<link>https://p.example.org/</link><description>d</description>"
                    "</channel></rss>", encoding="utf-8")  # fmt: skip
    with config(root).open("a", encoding="utf-8") as out:
        out.write(f'\n[[sources]]\nname = "partner"\nkind = "feed"\nurl = "{feed}"\n')


CHANGES = {
    "an edited file": (_edit, "0 new, 1 updated, 14 unchanged"),
    "a touched file": (_touch, "0 new, 0 updated, 15 unchanged"),
    "a new file": (_add, "1 new, 0 updated, 15 unchanged"),
    "a removed file": (_remove, "0 new, 0 updated, 14 unchanged, 1 removed"),
    "a file that fails": (_break, "0 new, 0 updated, 15 unchanged, 0 removed, 1 failed"),
    "a feed source": (_feed_source, "0 new, 0 updated, 15 unchanged"),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_change_writes_nothing_there_and_is_gathered_in_full(site: Path, change: str) -> None:
    make, summary = CHANGES[change]
    make(site)
    before = runs(site)
    assert check(site) is None
    assert runs(site) == before  # nothing written by the quick gather
    assert summary in run_gather(site)
    assert len(runs(site)) > len(before)


def test_a_file_that_failed_before_is_reported_again(site: Path) -> None:
    """A failed file unchanged since is left to the full gather, which reports it again."""
    _break(site)
    assert "1 failed" in run_gather(site)
    assert check(site) is None
    output = run_gather(site)
    assert "1 failed" in output and "broken.md" in output


def test_a_store_at_another_revision_is_left_to_the_store(site: Path) -> None:
    database = site / "var" / "syndicate.db"
    with sqlite3.connect(database) as db:
        db.execute("UPDATE alembic_version SET version_num = 'older'")
    with writing(f"sqlite:///{database}") as run:
        assert run is None
    with writing("sqlite:///:memory:") as run:
        assert run is None


def test_a_failed_write_leaves_the_store_as_it_was(site: Path) -> None:
    """The quick gather's statements are one transaction: a failure rolls back its runs."""
    settings = load_settings(config(site))
    scans = folder_scans(settings)
    assert scans is not None
    before = runs(site)
    with pytest.raises(RuntimeError), writing(settings.database_url) as run:
        assert run is not None
        assert unchanged_gather(scans, UnitOfWork(run), NOW) is not None
        raise RuntimeError("killed after the write")
    assert runs(site) == before
