"""A gather of one source is one unit of work: a failure after any store call, or a SIGKILL
at any moment, leaves the store as before, and the next gather converges to a clean run."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate import pipeline
from syndicate.config import load_settings
from syndicate.store import Store, StoreError, UnitOfWork
from syndicate.store.sqlite_gather import GatherStore, SqliteGather

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>
<link>https://f.example/</link><description>d</description>{items}</channel></rss>"""
ITEM = (
    "<item><title>Entry {n}</title><guid>urn:f:{n}</guid><link>https://f.example/{n}</link>"
    "<pubDate>1{n} Nov 2026 09:00:00 +0000</pubDate><description>Body {n}</description></item>"
)


def article(n: int, teaser: bool) -> str:
    text = f"Article {n}\n\nNovember {1 + n % 28}, 2026\n\nThe body of article {n}.\n"
    if teaser:
        text += (
            f"\nContinue reading\nNovember 1, 2026\nNews\nTeased {n}\n"
            f"A summary of teased {n}.\nRead article\n"
        )
    return text


def write_site(root: Path, files: int, database_url: str, *, feed: bool = True) -> Path:
    """A site of ``files`` articles and, with ``feed``, a feed source of 5 entries (a site of
    folders alone is gathered through sqlite3 by the command: store.gather_writes)."""
    folder = root / "articles"
    folder.mkdir(parents=True)
    for n in range(files):
        (folder / f"{n:05d}.txt").write_text(article(n, n % 4 == 0), encoding="utf-8")
    (root / "feed.xml").write_text(
        RSS.format(items="".join(ITEM.format(n=n) for n in range(5))), encoding="utf-8"
    )
    config = root / "config" / "syndicate.toml"
    config.parent.mkdir()
    config.write_text(
        f"""
[site]
url = "https://crash.example.org/"

[storage]
url = "{database_url}"

[[sources]]
name = "articles"
path = "articles"

{FEED_SOURCE if feed else ""}""",
        encoding="utf-8",
    )
    return config


FEED_SOURCE = """
[[sources]]
name = "feed"
kind = "feed"
url = "feed.xml"
"""


def snapshot(store: Store) -> list[tuple[Any, ...]]:
    return sorted(
        (a.source, a.key, a.guid, a.title, a.content_hash, a.status)
        for a in store.latest_articles(100_000, NOW + timedelta(days=3650))
    )


UNIT_STEPS = [name for name in vars(UnitOfWork) if not name.startswith("_")]


def failing_after(monkeypatch: pytest.MonkeyPatch, calls: list[str], fail_at: int | None) -> None:
    """Count every UnitOfWork step; the one numbered ``fail_at`` fails after doing its work."""
    for name in UNIT_STEPS:
        real: Callable[..., Any] = getattr(UnitOfWork, name)

        def step(self: UnitOfWork, *args: Any, _real: Any = real, _name: str = name) -> Any:
            result = _real(self, *args)
            calls.append(_name)
            if fail_at is not None and len(calls) == fail_at + 1:
                raise StoreError(f"injected failure after {_name}")
            return result

        monkeypatch.setattr(UnitOfWork, name, step)


def gather_stores(database_url: str) -> list[str]:
    """The ways a gather writes this store: a Store's, and on SQLite sqlite3's."""
    return ["Store", "sqlite3"] if database_url.startswith("sqlite") else ["Store"]


@pytest.mark.slow
@pytest.mark.parametrize("way", ["Store", "sqlite3"])
def test_a_failure_after_any_store_call_is_undone_and_the_next_gather_converges(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    if way not in gather_stores(database_url):
        pytest.skip("sqlite3 writes a SQLite store only")
    config = write_site(tmp_path / "site", 12, database_url, feed=way == "Store")
    entries = 5 if way == "Store" else 0
    settings = load_settings(config, env={})
    with Store(database_url) as store:
        writes: GatherStore = store if way == "Store" else SqliteGather(database_url)
        calls: list[str] = []
        with monkeypatch.context() as patch:
            failing_after(patch, calls, None)
            pipeline.gather(settings, writes, now=NOW)
        clean = snapshot(store)
        steps = list(calls)
    assert len(clean) == 12 + 3 + entries  # 12 files, 3 teaser-only cards, 5 entries
    assert {"save_files", "upsert_articles", "record_gather_run"} <= set(steps)
    for fail_at, name in enumerate(steps):
        with Store(database_url) as store:
            writes = store if way == "Store" else SqliteGather(database_url)
            _reset(store)
            calls = []
            errors: list[str] = []
            with monkeypatch.context() as patch:
                failing_after(patch, calls, fail_at)
                report = pipeline.gather(settings, writes, now=NOW, on_error=errors.append)
            assert any("injected failure after " + name in line for line in errors), (name, errors)
            assert report.failed >= 1
            half = snapshot(store)
            # The failing source stored nothing; the other one everything.
            assert {row[0] for row in half} <= {"articles", "feed"}
            assert len(half) in {0, 12 + 3, entries}
            pipeline.gather(settings, writes, now=NOW + timedelta(minutes=1))
            assert snapshot(store) == clean, f"did not converge after a failure in {name}"


def _reset(store: Store) -> None:
    from sqlalchemy import delete

    from syndicate.store import schema

    with store.engine.begin() as conn:
        for table in (schema.articles, schema.observations, schema.files, schema.feed_state,
                      schema.gather_runs):  # fmt: skip
            conn.execute(delete(table))


def files_saved(database: Path) -> int:
    """Source files a gather has saved so far (read with sqlite3, no Store opened)."""
    with closing(sqlite3.connect(database)) as conn:
        return int(conn.execute("SELECT count(*) FROM files").fetchone()[0])


def gather_process(config: Path) -> subprocess.Popen[bytes]:
    code = "from syndicate.cli import main; main()"
    args = [sys.executable, "-c", code, "--config", str(config), "gather"]
    env = {**os.environ, "SYNDICATE_NOW": NOW.isoformat()}
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )


@pytest.mark.slow
@pytest.mark.parametrize("feed", [True, False], ids=["with a feed: Store", "folders: sqlite3"])
def test_ten_sigkills_during_a_first_gather_of_5000_files_lose_nothing(
    tmp_path: Path, feed: bool
) -> None:
    """With a feed source the command gathers through a Store; with folders alone through
    sqlite3 (the store exists, empty, at the head revision)."""
    files = 5_000
    database_url = f"sqlite:///{tmp_path / 'killed.db'}"
    clean_url = f"sqlite:///{tmp_path / 'clean.db'}"
    clean_config = write_site(tmp_path / "clean", files, clean_url, feed=feed)
    config = write_site(tmp_path / "killed", files, database_url, feed=feed)
    for url in (clean_url, database_url):  # empty stores at the head revision
        Store(url).close()
    clean = gather_process(clean_config)
    started = time.monotonic()
    clean_out, clean_err = clean.communicate(timeout=300)
    took = time.monotonic() - started  # the kills land within a whole gather's time
    assert clean.returncode == 0, clean_err.decode()
    rng = random.Random(8)
    kills = 0
    for _ in range(10):
        # Each killed gather keeps what it saved, so the next has less to do: the kill lands
        # within the share of a whole gather's time still left (under load, kills timed on
        # the whole gather came after the third run had finished it).
        left = max(0.1, 1 - files_saved(tmp_path / "killed.db") / files)
        process = gather_process(config)
        time.sleep(rng.uniform(0.05, 0.9) * took * left)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the parser pool's children too
            kills += 1
        process.wait(timeout=120)
    final = gather_process(config)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()
    assert kills >= 3, "the gathers finished before most kills; kill sooner"
    with Store(database_url) as store:
        killed = snapshot(store)
    with Store(load_settings(clean_config, env={}).database_url) as store:
        reference = snapshot(store)
    expected = files + files // 4 + (5 if feed else 0)
    assert len(reference) == expected
    assert [row[1:] for row in killed] == [row[1:] for row in reference]
    assert len({(row[0], row[1]) for row in killed}) == expected  # every article once
    assert b"0 failed" in out and b"0 failed" in clean_out
