"""Issue 8's reproductions: article identity, hostile folders, deletes, drafts and scheduled
posts, counted in articles — over real folders, feed files and a real database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syndicate import pipeline
from syndicate.config import Settings
from syndicate.models import ArticleStatus
from syndicate.store import Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def article_text(title: str, day: int = 12, body: str = "A body of text.") -> str:
    return f"{title}\n\nNovember {day}, 2026\n\n{body}\n"


def markdown(title: str, date: str = "2026-11-12", **meta: str) -> str:
    extra = "".join(f"{key}: {value}\n" for key, value in meta.items())
    return f"---\ntitle: {title}\ndate: {date}\n{extra}---\n\nThe body of {title}.\n"


def weekly_links_rss() -> str:
    items = "".join(
        f"<item><title>Weekly links</title><guid>urn:weekly:{n}</guid>"
        f"<link>https://links.example/{n}</link>"
        f"<pubDate>{d} Nov 2026 09:00:00 +0000</pubDate>"
        f"<category>Links</category><description>Links of week {n}</description></item>"
        for n, d in ((1, "02"), (2, "09"), (3, "16"), (4, "19"))
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Links</title>'
        f"<link>https://links.example/</link><description>d</description>{items}"
        "</channel></rss>"
    )


def make_settings(
    root: Path, database_url: str, sources: list[dict[str, Any]], **more: Any
) -> Settings:
    return Settings.model_validate(
        {
            "site": {"url": "https://site.example.org/", "timezone": "Asia/Tokyo"},
            "storage": {"url": database_url},
            "sources": sources,
            "root": root,
            **more,
        }
    )


FOLDER = {"name": "blog", "path": "articles", "category": "Blog"}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "articles"
    path.mkdir()
    return path


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with Store(database_url) as opened:
        yield opened


def gather(settings: Settings, store: Store, now: datetime = NOW) -> tuple[Any, list[str]]:
    errors: list[str] = []
    report = pipeline.gather(settings, store, now=now, on_error=errors.append)
    return report, errors


def visible(store: Store, now: datetime = NOW) -> list[Any]:
    return store.latest_articles(1000, now)


# --- identity ----------------------------------------------------------------------------


def test_four_feed_entries_of_one_title_are_four_articles(
    store: Store, tmp_path: Path, database_url: str
) -> None:
    (tmp_path / "links.xml").write_text(weekly_links_rss(), encoding="utf-8")
    settings = make_settings(
        tmp_path, database_url, [{"name": "links", "kind": "feed", "url": "links.xml"}]
    )
    report, errors = gather(settings, store)
    assert errors == [] and (report.new, report.failed) == (4, 0)
    found = visible(store)
    assert sorted(a.link for a in found) == [f"https://links.example/{n}" for n in (1, 2, 3, 4)]
    assert len({a.guid for a in found}) == 4
    assert {a.summary for a in found} == {f"Links of week {n}" for n in (1, 2, 3, 4)}
    again, _ = gather(settings, store, NOW + timedelta(hours=1))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 4)


def test_a_feed_entry_of_a_folder_articles_title_replaces_nothing(
    store: Store, folder: Path, tmp_path: Path, database_url: str
) -> None:
    (folder / "w.txt").write_text(article_text("Weekly links", body="Our own words."), "utf-8")
    (tmp_path / "links.xml").write_text(weekly_links_rss(), encoding="utf-8")
    sources = [FOLDER, {"name": "links", "kind": "feed", "url": "links.xml"}]
    settings = make_settings(tmp_path, database_url, sources)
    report, _ = gather(settings, store)
    assert report.new == 5
    ours = [a for a in visible(store) if a.source == "blog"]
    assert len(ours) == 1
    (own,) = ours
    assert "Our own words." in own.content and own.category == "Blog"
    assert own.link == "https://site.example.org/weekly-links/"  # its page (pages.enabled)


def test_fill_from_lets_another_source_fill_only_what_is_missing(
    store: Store, folder: Path, tmp_path: Path, database_url: str
) -> None:
    (folder / "w.txt").write_text(article_text("Weekly links", body="Our own words."), "utf-8")
    (tmp_path / "links.xml").write_text(weekly_links_rss(), encoding="utf-8")
    sources = [
        {**FOLDER, "category": "", "fill_from": ["links"]},
        {"name": "links", "kind": "feed", "url": "links.xml"},
    ]
    settings = make_settings(tmp_path, database_url, sources)
    gather(settings, store)
    (own,) = [a for a in visible(store) if a.source == "blog"]
    assert "Our own words." in own.content  # the body, link and date stay its own
    assert own.link == "https://site.example.org/weekly-links/"  # its page (pages.enabled)
    assert own.category == "Links"  # it had none: filled from the feed
    assert own.summary == "Our own words."  # the entries have no summary: its own excerpt
    assert own.author == "" and own.tags == ()


def test_a_front_matter_slug_is_the_key_so_a_new_title_is_the_same_article(
    store: Store, folder: Path, tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, [FOLDER])
    (folder / "a.md").write_text(markdown("First title", slug="my-post"), "utf-8")
    gather(settings, store)
    (before,) = visible(store)
    (folder / "a.md").write_text(markdown("A better title", slug="my-post"), "utf-8")
    report, _ = gather(settings, store, NOW + timedelta(hours=1))
    (after,) = visible(store)
    assert (report.new, report.updated, report.removed) == (0, 1, 0)
    assert after.guid == before.guid and after.title == "A better title"
    assert after.link == "https://site.example.org/my-post/"  # its page (pages.enabled)


def test_two_files_of_one_article_are_one_article_and_a_warning(
    store: Store, folder: Path, tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, [FOLDER])
    (folder / "a.md").write_text(markdown("Old", "2026-11-01", slug="same"), "utf-8")
    (folder / "b.md").write_text(markdown("New", "2026-11-05", slug="same"), "utf-8")
    report, errors = gather(settings, store)
    assert report.new == 1 and report.failed == 0
    (line,) = errors
    assert line.startswith("warning:") and "a.md and b.md" in line and "b.md is used" in line
    assert [a.title for a in visible(store)] == ["New"]


# --- hostile folders ---------------------------------------------------------------------


def test_links_out_of_the_folder_loops_and_special_files_are_one_line_each(
    store: Store, folder: Path, tmp_path: Path, database_url: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(markdown("Secret"), "utf-8")
    (outside / "notes.txt").write_text("root:x:0:0:root:/root:/bin/bash\n", "utf-8")
    (folder / "passwd.txt").symlink_to(outside / "notes.txt")
    (folder / "secret.md").symlink_to(outside / "secret.md")
    (folder / "elsewhere").symlink_to(outside, target_is_directory=True)
    (folder / "loop-a.txt").symlink_to(folder / "loop-b.txt")
    (folder / "loop-b.txt").symlink_to(folder / "loop-a.txt")
    (folder / "again").symlink_to(folder, target_is_directory=True)
    os.mkfifo(folder / "pipe.txt")
    (folder / "good.txt").write_text(article_text("Good"), "utf-8")
    (folder / "inner.txt").symlink_to(folder / "good.txt")  # inside: followed
    settings = make_settings(tmp_path, database_url, [FOLDER])
    report, errors = gather(settings, store)
    assert [a.title for a in visible(store)] == ["Good"]
    assert report.new == 1
    problems = [line for line in errors if not line.startswith("warning:")]
    assert report.failed == len(problems) == 7
    (warning,) = set(errors) - set(problems)  # inner.txt is good.txt again
    assert "good.txt and inner.txt define the same article" in warning
    assert not any("root:" in line or "Secret" in line for line in errors)
    named = {Path(line.split(":")[0]).name for line in problems}
    assert named == {"passwd.txt", "secret.md", "elsewhere", "loop-a.txt", "loop-b.txt",
                     "again", "pipe.txt"}  # fmt: skip
    assert sum("outside the source folder" in line for line in errors) == 3


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("year1.txt", article_text("Year one").replace("November 12, 2026", "January 1, 0001")),
        ("far.md", markdown("Far", "'9999-12-31T23:59:59-12:00'")),
        (
            "teaser.txt",
            article_text("T") + "\nContinue reading\nJanuary 1, 0001\nNews\nX\nS\nRead article\n",
        ),
    ],
)
def test_a_date_out_of_range_fails_its_file_only(
    store: Store, folder: Path, tmp_path: Path, database_url: str, name: str, text: str
) -> None:
    (folder / name).write_text(text, "utf-8")
    (folder / "good.txt").write_text(article_text("Good"), "utf-8")
    settings = make_settings(tmp_path, database_url, [FOLDER])  # Asia/Tokyo: east of UTC
    report, errors = gather(settings, store)
    (line,) = errors
    assert name in line and "date out of range" in line
    assert (report.new, report.failed) == (1, 1)
    assert [a.title for a in visible(store)] == ["Good"]


def test_an_unreadable_file_and_an_unlistable_folder_are_lines_not_stops(
    store: Store, folder: Path, tmp_path: Path, database_url: str
) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file whatever its mode")
    (folder / "locked.txt").write_text(article_text("Locked"), "utf-8")
    (folder / "locked.txt").chmod(0)
    (folder / "good.txt").write_text(article_text("Good"), "utf-8")
    report, errors = gather(make_settings(tmp_path, database_url, [FOLDER]), store)
    assert report.failed == 1 and "locked.txt" in errors[0]


def test_a_name_too_long_for_the_file_system_is_one_line(
    store: Store, folder: Path, tmp_path: Path, database_url: str
) -> None:
    deep = folder
    for _ in range(40):  # a path far past PATH_MAX, each part a legal name
        deep = deep / ("d" * 120)
        try:
            deep.mkdir()
        except OSError:
            break
    (folder / "good.txt").write_text(article_text("Good"), "utf-8")
    report, errors = gather(make_settings(tmp_path, database_url, [FOLDER]), store)
    assert [a.title for a in visible(store)] == ["Good"]
    assert report.failed == len(errors)


# --- deletes, drafts, scheduled posts ----------------------------------------------------


EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # editions' periods, as wide as need be
FAR = datetime(2100, 1, 1, tzinfo=UTC)


def test_a_deleted_file_removes_its_article_from_feeds_and_later_editions(
    store: Store, folder: Path, tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, [FOLDER])
    (folder / "keep.txt").write_text(article_text("Keep", 10), "utf-8")
    (folder / "gone.txt").write_text(article_text("Gone", 11), "utf-8")
    gather(settings, store)
    past, _ = store.period_articles(EPOCH, NOW, NOW, 10)
    store.create_edition("2026-W46", NOW, "s", [a.guid for a in past])
    (folder / "gone.txt").unlink()
    report, _ = gather(settings, store, NOW + timedelta(hours=1))
    assert (report.new, report.updated, report.unchanged, report.removed) == (0, 0, 1, 1)
    assert "0 new, 0 updated, 1 unchanged, 1 removed, 0 failed" in report.summary()
    assert [a.title for a in visible(store)] == ["Keep"]
    later = NOW + timedelta(days=9)
    assert [a.title for a in store.period_articles(EPOCH, later, later, 10)[0]] == ["Keep"]
    edition = store.get_edition("2026-W46")
    assert edition is not None and {a.title for a in edition.articles} == {"Keep", "Gone"}
    # The file comes back: the same article (and guid) is published again.
    (folder / "gone.txt").write_text(article_text("Gone", 11), "utf-8")
    back, _ = gather(settings, store, NOW + timedelta(hours=2))
    assert (back.new, back.updated) == (0, 1)
    assert sorted(a.title for a in visible(store)) == ["Gone", "Keep"]


def test_drafts_stay_out_and_scheduled_posts_appear_when_due(
    store: Store, folder: Path, tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(tmp_path, database_url, [FOLDER])
    (folder / "draft.md").write_text(markdown("Draft", draft="true"), "utf-8")
    (folder / "later.md").write_text(markdown("Later", "'2026-11-24T09:00:00+09:00'"), "utf-8")
    (folder / "now.md").write_text(markdown("Now"), "utf-8")
    report, _ = gather(settings, store)
    assert report.new == 3
    assert [a.title for a in visible(store)] == ["Now"]
    assert [a.title for a in store.period_articles(EPOCH, FAR, NOW, 10)[0]] == ["Now"]
    unlisted = {a.title: a.status for a in store.unlisted_articles(NOW)}
    assert unlisted == {"Draft": ArticleStatus.DRAFT, "Later": ArticleStatus.PUBLISHED}
    due = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert store.articles_came_due(NOW, due - timedelta(seconds=1)) == 0
    assert store.articles_came_due(NOW, due) == 1
    assert sorted(a.title for a in visible(store, due)) == ["Later", "Now"]
    built = pipeline.build_all_feeds(settings, store, NOW)
    assert b"Later" not in (built.output_dir / "atom.xml").read_bytes()
    pipeline.build_all_feeds(settings, store, due)
    assert b"Later" in (built.output_dir / "atom.xml").read_bytes()
    assert b"Draft" not in (built.output_dir / "atom.xml").read_bytes()
