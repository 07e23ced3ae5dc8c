"""The whole example site: gather examples/, build every feed, preview the digest, and compare
every output with the committed copies under tests/golden/site/ (Pelican's functional test).

After a deliberate change: SYNDICATE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_site.py
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from tests.feedcheck import check_atom, check_json_feed, check_rss

from syndicate.config import Settings, load_settings
from syndicate.pipeline import build_all_feeds, gather, preview_edition
from syndicate.pipeline.edition import latest_complete
from syndicate.store import Store

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden" / "site"
# The scheduled Monday: mon 08:00 in America/New_York. Its digest covers the week that just
# ended (issue 10: it was named after the week it is sent in and held older articles).
NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
UPDATE = os.environ.get("SYNDICATE_UPDATE_GOLDEN") == "1"


def example_settings(tmp: Path) -> Settings:
    env = {
        "SYNDICATE_STORAGE__URL": f"sqlite:///{tmp / 'site.db'}",
        "SYNDICATE_FEEDS__OUTPUT_DIR": str(tmp / "public"),
        "SYNDICATE_DELIVERY__OUTBOX_DIR": str(tmp / "outbox"),
    }
    return load_settings(REPO / "config" / "syndicate.toml", env=env)


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("site")
    settings = example_settings(tmp)
    with Store(settings.database_url) as store:
        report = gather(settings, store, now=NOW)
        assert report.failed == 0, report.errors
        build_all_feeds(settings, store, NOW)
        period = latest_complete(settings, "weekly", NOW)  # what the Monday send covers
        assert period.name == "2026-W47"
        preview = preview_edition(settings, store, period, now=NOW)
        assert preview is not None
    return tmp


def outputs(root: Path) -> dict[str, bytes]:
    files = {
        f"public/{p.relative_to(root / 'public').as_posix()}": p.read_bytes()
        for p in sorted((root / "public").rglob("*"))
        if p.is_file()
    }
    for name in ("digest.html", "digest.txt"):
        files[f"outbox/{name}"] = (root / "outbox" / name).read_bytes()
    return files


def test_whole_site_matches_committed_output(built_site: Path) -> None:
    produced = outputs(built_site)
    if UPDATE:
        for name, data in produced.items():
            target = GOLDEN / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    committed = {
        p.relative_to(GOLDEN).as_posix(): p.read_bytes() for p in GOLDEN.rglob("*") if p.is_file()
    }
    assert sorted(produced) == sorted(committed)
    for name, data in produced.items():
        assert data == committed[name], f"{name} differs from tests/golden/site/{name}"


def test_every_feed_of_the_site_is_valid(built_site: Path) -> None:
    public = built_site / "public"
    checked = 0
    for path in public.rglob("*"):
        checker = {"rss.xml": check_rss, "atom.xml": check_atom, "feed.json": check_json_feed}.get(
            path.name
        )
        if checker is not None:
            checker(path.read_bytes())
            checked += 1
    assert checked >= 3 * 6  # site + at least five categories, three formats each


def test_the_monday_digest_covers_the_week_that_just_ended(built_site: Path) -> None:
    text = (built_site / "outbox" / "digest.txt").read_text(encoding="utf-8")
    assert "Week 47 · November 16 – 22, 2026" in text and "Week 48" not in text
    published = re.findall(r"^(\w+ \d+, \d{4})$", text, flags=re.MULTILINE)
    days = [datetime.strptime(day, "%B %d, %Y").date() for day in published]
    assert days and all(date(2026, 11, 16) <= day <= date(2026, 11, 22) for day in days)
    count = re.search(r"Here (?:is|are) (\d+) new", text)
    assert count is not None and int(count[1]) == len(days)


def test_preview_eml_is_a_complete_message(built_site: Path) -> None:
    message = message_from_bytes(
        (built_site / "outbox" / "digest.eml").read_bytes(), policy=policy.default
    )
    assert message.get_content_type() == "multipart/alternative"
    for header in ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "List-Id"):
        assert message[header], header
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    html = message.get_body(("html",))
    assert html is not None and "Millbrook" in html.get_content()


def test_feeds_are_left_untouched_when_nothing_changed(built_site: Path) -> None:
    settings = example_settings(built_site)
    before = {p: p.stat().st_mtime_ns for p in (built_site / "public").rglob("*") if p.is_file()}
    with Store(settings.database_url) as store:
        report = gather(settings, store, now=NOW)
        assert report.new == report.updated == report.failed == 0
        feeds = build_all_feeds(settings, store, NOW)
    assert feeds.written == []
    after = {p: p.stat().st_mtime_ns for p in (built_site / "public").rglob("*") if p.is_file()}
    assert after == before


def test_preparing_the_same_week_again_shows_the_same_articles(built_site: Path) -> None:
    settings = example_settings(built_site)
    first = (built_site / "outbox" / "digest.html").read_bytes()
    with Store(settings.database_url) as store:
        again = preview_edition(settings, store, "2026-W47", now=NOW.replace(hour=18))
    assert again is not None
    assert (built_site / "outbox" / "digest.html").read_bytes() == first
