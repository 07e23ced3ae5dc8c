"""The gather job over a real folder and a real database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndicate import pipeline
from syndicate.config import Settings
from syndicate.pipeline import gathering
from syndicate.store import Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

FULL = """Winter seeing at the ridge

November 12, 2026

Cold nights bring steady air. The planets looked sharp through the whole session.

Written by
Jo Reporter
"""

TEASING = """Another report

November 14, 2026

A short body.

Continue reading
November 12, 2026
Observing Reports
Winter seeing at the ridge
Why cold nights are the steadiest.
Read article
"""


def make_settings(tmp: Path, database_url: str) -> Settings:
    return Settings.model_validate(
        {
            "site": {"url": "https://astro.example.org/", "timezone": "America/New_York"},
            "storage": {"url": database_url},
            "sources": [{"name": "main", "path": "articles", "category": "Misc"}],
            "categories": {"Equipment": ["telescope"]},
            "root": tmp,
        }
    )


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Iterator[tuple[Settings, Store]]:
    (tmp_path / "articles").mkdir()
    settings = make_settings(tmp_path, database_url)
    store = Store(database_url)
    yield settings, store
    store.close()


def write(folder: Path, name: str, text: str, *, mtime: int | None = None) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, ns=(mtime, mtime))
    return path


def test_teaser_and_full_text_are_one_article_in_either_order(
    site: tuple[Settings, Store],
) -> None:
    settings, store = site
    articles = settings.root / "articles"
    write(articles, "full.txt", FULL)
    first = pipeline.gather(settings, store, now=NOW)
    assert (first.new, first.updated) == (1, 0)
    (article,) = store.latest_articles(10, NOW)
    assert article.category == "Misc"  # no teaser yet, no rule matches: the default

    write(articles, "teasing.txt", TEASING)
    second = pipeline.gather(settings, store, now=NOW + timedelta(hours=1))
    # teasing.txt is an article of its own, and its card completes the first one
    assert (second.new, second.updated, second.unchanged) == (1, 1, 0)
    by_title = {a.title: a for a in store.latest_articles(10, NOW)}
    merged = by_title["Winter seeing at the ridge"]
    assert merged.category == "Observing Reports"
    assert merged.summary == "Why cold nights are the steadiest."
    assert "steady air" in merged.content and merged.guid == article.guid
    assert merged.first_seen == article.first_seen


def test_renaming_a_file_keeps_the_guid_and_a_changed_file_updates(
    site: tuple[Settings, Store],
) -> None:
    settings, store = site
    articles = settings.root / "articles"
    path = write(articles, "a.txt", FULL)
    pipeline.gather(settings, store, now=NOW)
    (before,) = store.latest_articles(1, NOW)
    path.rename(articles / "renamed.txt")
    report = pipeline.gather(settings, store, now=NOW)
    (after,) = store.latest_articles(1, NOW)
    assert after.guid == before.guid and store.article_count() == 1
    assert (report.new, report.updated, report.removed, report.unchanged) == (0, 0, 0, 1)

    write(articles, "renamed.txt", FULL.replace("steady air", "a new telescope"))
    report = pipeline.gather(settings, store, now=NOW + timedelta(days=1))
    assert (report.new, report.updated) == (0, 1)
    (changed,) = store.latest_articles(1, NOW)
    assert "a new telescope" in changed.content
    assert changed.category == "Equipment"  # a keyword rule now matches


def test_unchanged_files_are_not_read_again(
    site: tuple[Settings, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, store = site
    write(settings.root / "articles", "a.txt", FULL, mtime=1_700_000_000_000_000_000)
    pipeline.gather(settings, store, now=NOW)

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed an unchanged file")

    monkeypatch.setattr(gathering, "parse_file", boom)
    report = pipeline.gather(settings, store, now=NOW)
    assert (report.unchanged, report.new, report.updated) == (1, 0, 0)
    # Touched but the same bytes: read and hashed, not parsed.
    os.utime(settings.root / "articles" / "a.txt", ns=(1_800_000_000_000_000_000,) * 2)
    report = pipeline.gather(settings, store, now=NOW)
    assert report.unchanged == 1


def test_a_failed_file_is_reported_on_every_run_until_fixed(
    site: tuple[Settings, Store],
) -> None:
    settings, store = site
    articles = settings.root / "articles"
    write(articles, "good.txt", FULL)
    write(articles, "bad.txt", "Title only\n\nnot a date\n\nBody\n")
    errors: list[str] = []
    report = pipeline.gather(settings, store, now=NOW, on_error=errors.append)
    assert (report.new, report.failed) == (1, 1)
    assert len(errors) == 1 and "bad.txt" in errors[0] and "line 3: unreadable date" in errors[0]
    assert "not a date" not in errors[0]  # the file's own text is never quoted
    again = pipeline.gather(settings, store, now=NOW, on_error=errors.append)
    assert (again.unchanged, again.failed) == (1, 1) and len(errors) == 2
    write(articles, "bad.txt", "Title only\n\nNovember 1, 2026\n\nBody\n")
    fixed = pipeline.gather(settings, store, now=NOW)
    assert (fixed.new, fixed.updated, fixed.failed) == (1, 0, 0)
    assert store.article_count() == 2


def test_a_missing_source_folder_is_an_error_and_other_work_goes_on(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url)
    errors: list[str] = []
    with Store(database_url) as store:
        report = pipeline.gather(settings, store, now=NOW, on_error=errors.append)
    assert report.failed == 1 and len(errors) == 1
    assert "sources[main].path: folder not found" in errors[0]


def test_many_files_are_parsed_in_parallel_with_the_same_results(
    site: tuple[Settings, Store],
) -> None:
    settings, store = site
    articles = settings.root / "articles"
    count = gathering.PARALLEL_FROM + 20
    for i in range(count):
        write(articles, f"{i:04d}.txt", FULL.replace("Winter seeing", f"Night {i} seeing"))
    write(articles, "zz-bad.txt", "")
    errors: list[str] = []
    report = pipeline.gather(settings, store, now=NOW, on_error=errors.append)
    assert (report.new, report.failed) == (count, 1)
    assert len(errors) == 1 and "zz-bad.txt" in errors[0]
    assert store.article_count() == count
