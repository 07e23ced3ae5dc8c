"""A first gather saves in chunks: its memory does not grow with the number of files
(issue 14, item 5), and chunking changes nothing that is stored.

bench/bench_pipeline.py measures the peak RSS of a real first gather of 10,000 and 100,000
files; here tracemalloc counts what the gathering process allocates, on a smaller scale
with smaller chunks.
"""

from __future__ import annotations

import gc
import tracemalloc
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.test_pipeline_gather import make_settings

from syndicate import pipeline
from syndicate.config import Settings
from syndicate.pipeline import gathered, gathering, spool
from syndicate.store import FileRecord, Store, schema

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
BODY = " ".join(f"Sentence {n} of a long and ordinary observing report." for n in range(80))


def write_folder(folder: Path, count: int) -> None:
    """Text articles, every third with a teaser card naming the next one (a merge across
    files, and across chunk borders), and Markdown; two files define one article."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        date = f"November {1 + i % 28}, 2026"
        if i % 3 == 2:
            text = f"---\ntitle: Markdown {i}\ndate: 2026-11-{1 + i % 28:02d}\n---\n\n{BODY}\n"
            (folder / f"{i:05d}.md").write_text(text, encoding="utf-8")
            continue
        text = f"Article {i}\n\n{date}\n\n{BODY} {i}\n"
        if i % 3 == 0:
            text += (
                f"\nContinue reading\n{date}\nNews\nArticle {i + 1}\nWhat {i + 1} says.\n"
                "Read article\n"
            )
        (folder / f"{i:05d}.txt").write_text(text, encoding="utf-8")
    (folder / "zz-twin.txt").write_text(f"Article 1\n\nNovember 2, 2026\n\n{BODY}\n", "utf-8")


def small_chunks(monkeypatch: pytest.MonkeyPatch, save: int, merge: int) -> None:
    monkeypatch.setattr(spool, "SAVE_CHUNK", save)
    monkeypatch.setattr(gathered, "MERGE_CHUNK", merge)


def first_gather_peak(root: Path, count: int) -> int:
    """Bytes allocated at the peak of a first gather of ``count`` files (this process)."""
    write_folder(root / "articles", count)
    settings = make_settings(root, f"sqlite:///{root / 'db.sqlite'}")
    with Store(settings.database_url) as store:
        gc.collect()
        tracemalloc.start()
        try:
            report = pipeline.gather(settings, store, now=NOW)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert report.failed == 0 and report.new > count // 2, report.summary()
    return peak


@pytest.mark.slow
def test_first_gather_memory_does_not_grow_with_the_number_of_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_chunks(monkeypatch, save=100, merge=100)
    count = gathering.PARALLEL_FROM + 50  # both on the parsing processes
    small = first_gather_peak(tmp_path / "small", count)
    large = first_gather_peak(tmp_path / "large", 6 * count)
    # Holding every record until the save, six times the files took about six times the
    # memory; in chunks, the records held at once are the same few hundred.
    assert large < 2 * small, (small, large)


def stored(store: Store) -> list[tuple[Any, ...]]:
    articles = schema.articles
    # id and changed_seq number the writes (one per chunk), not what is stored.
    keep = [c for c in articles.columns if c.name not in {"id", "changed_seq"}]
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(*keep).order_by(articles.c.key))]


def gather_twice(settings: Settings, removed: list[str]) -> tuple[list[Any], list[str]]:
    """A first gather, then one after ``removed`` files went: what is stored, what was said."""
    lines: list[str] = []
    with Store(settings.database_url) as store:
        first = pipeline.gather(settings, store, now=NOW, on_error=lines.append)
        for name in removed:
            (settings.root / "articles" / name).unlink()
        later = NOW + timedelta(hours=1)
        second = pipeline.gather(settings, store, now=later, on_error=lines.append)
        return [stored(store), first.summary(), second.summary()], lines


def test_chunks_store_exactly_what_one_save_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    removed = ["00001.txt", "00003.txt", "00011.md"]
    results = []
    for name, chunks in (("whole", (100_000, 100_000)), ("chunked", (7, 3))):
        root = tmp_path / name
        write_folder(root / "articles", 60)
        settings = make_settings(root, f"sqlite:///{root / 'db.sqlite'}")
        with monkeypatch.context() as patch:
            small_chunks(patch, *chunks)
            results.append(gather_twice(settings, removed))
    (whole, whole_lines), (chunked, chunked_lines) = results
    assert whole == chunked
    assert [line.replace("/whole/", "/") for line in whole_lines] == [
        line.replace("/chunked/", "/") for line in chunked_lines
    ]
    assert any("define the same article" in line for line in whole_lines)
    assert "removed" in whole[2] and " 0 removed" not in whole[2]


def test_the_collector_stays_on_during_a_gather(tmp_path: Path) -> None:
    write_folder(tmp_path / "articles", 5)
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}")
    seen: list[bool] = []
    with Store(settings.database_url) as store:
        pipeline.gather(settings, store, now=NOW, progress=lambda *_: seen.append(gc.isenabled()))
    assert seen and all(seen)


def record(n: int) -> FileRecord:
    return FileRecord(f"{n:03d}.txt", n, n * 1000, f"sha{n}")


def test_the_spool_gives_back_every_record_in_order_a_chunk_at_a_time() -> None:
    with closing(spool.RecordSpool(chunk=3)) as records:
        for n in range(7):
            records.add(record(n))
        assert records.count == 7
        first = [[r.path for r in chunk] for chunk in records.chunks()]
        again = [[r.path for r in chunk] for chunk in records.chunks()]
    assert first == again == [["000.txt", "001.txt", "002.txt"],
                              ["003.txt", "004.txt", "005.txt"], ["006.txt"]]  # fmt: skip
    assert list(records.chunks()) == []  # closed: nothing is kept


@pytest.mark.slow
def test_a_failure_between_chunks_stores_nothing_and_the_next_gather_converges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunks are steps of one transaction: a failure after any of them, in the save or
    in the merge, leaves the store empty, and the next gather stores what a clean one does."""
    from tests.test_gather_crash import failing_after

    small_chunks(monkeypatch, save=5, merge=4)
    write_folder(tmp_path / "articles", 30)
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}")
    with Store(settings.database_url) as store:
        steps: list[str] = []
        with monkeypatch.context() as patch:
            failing_after(patch, steps, None)
            pipeline.gather(settings, store, now=NOW)
        clean = stored(store)
    assert steps.count("save_files") > 2 and steps.count("upsert_articles") > 2
    for fail_at, name in enumerate(steps):
        database = f"sqlite:///{tmp_path / f'db-{fail_at}.sqlite'}"
        settings = make_settings(tmp_path, database)
        with Store(database) as store:
            calls: list[str] = []
            with monkeypatch.context() as patch:
                failing_after(patch, calls, fail_at)
                report = pipeline.gather(settings, store, now=NOW)
            assert report.failed == 1 and stored(store) == [], name
            pipeline.gather(settings, store, now=NOW)
            assert stored(store) == clean, f"did not converge after a failure in {name}"
