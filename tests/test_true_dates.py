"""Issue 9, item 1: an article's ``updated`` is when its content changed, never the gather
time of an unchanged article; a rebuilt store gives byte-identical feeds."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lxml import etree
from tests.feedcheck import ATOM, check_atom
from tests.test_site import REPO, example_settings

from syndicate.pipeline import build_all_feeds, gather
from syndicate.store import Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _build(tmp: Path, now: datetime) -> dict[str, bytes]:
    settings = example_settings(tmp)
    with Store(settings.database_url) as store:
        assert gather(settings, store, now=now).failed == 0
        build_all_feeds(settings, store, now)
    public = tmp / "public"
    return {p.relative_to(public).as_posix(): p.read_bytes() for p in public.rglob("*.*")}


def test_a_fresh_store_gives_every_entry_its_own_updated(tmp_path: Path) -> None:
    files = _build(tmp_path, NOW)
    atom_feeds = [name for name in files if name.endswith("atom.xml")]
    assert len(atom_feeds) >= 7
    for name in atom_feeds:
        root = check_atom(files[name])  # DuplicateUpdated is one of its rules
        updated = [e.findtext(f"{ATOM}updated") for e in root.iter(f"{ATOM}entry")]
        published = [e.findtext(f"{ATOM}published") for e in root.iter(f"{ATOM}entry")]
        assert updated == published, name  # nothing was edited: updated is the published date
        assert root.findtext(f"{ATOM}updated") == max(updated), name  # the newest entry's


def test_rebuilding_the_database_gives_byte_identical_feeds(tmp_path: Path) -> None:
    first = _build(tmp_path / "a", NOW)
    again = _build(tmp_path / "b", NOW + timedelta(days=3, hours=5))
    assert first.keys() == again.keys()
    # The page manifest records the build against its database (the change mark), so it is the
    # one file that differs when the database is new; everything published is the same.
    differ = [name for name in first if first[name] != again[name]]
    assert differ == [".pages.stamps"]


def test_an_edited_article_is_updated_when_the_change_was_seen(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(REPO / "examples" / "articles", articles)
    settings = example_settings(tmp_path)
    settings = settings.model_copy(
        update={
            "sources": [
                settings.sources[0].model_copy(update={"path": str(articles)}),
            ]
        }
    )
    later = NOW + timedelta(days=1)
    with Store(settings.database_url) as store:
        gather(settings, store, now=NOW)
        build_all_feeds(settings, store, NOW)
        page = articles / "2026-11-19-leonids-2026-reservoir.txt"
        page.write_text(page.read_text().replace("rarely generous", "rarely kind", 1))
        report = gather(settings, store, now=later)
        assert report.updated == 1
        build_all_feeds(settings, store, later)
    root = etree.fromstring((tmp_path / "public" / "atom.xml").read_bytes())
    updated = {
        e.findtext(f"{ATOM}title"): e.findtext(f"{ATOM}updated") for e in root.iter(f"{ATOM}entry")
    }
    assert sorted(updated.values())[-1] == later.isoformat()
    assert list(updated.values()).count(later.isoformat()) == 1
    assert root.findtext(f"{ATOM}updated") == later.isoformat()
