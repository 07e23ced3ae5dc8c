"""Feeds: golden files, structure, the W3C validator's rules on hostile text, and speed.

After a deliberate change to the output: SYNDICATE_UPDATE_GOLDEN=1 .venv/bin/pytest
tests/test_feeds.py
"""

from __future__ import annotations

import html
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.feed_samples import (
    ARTICLES,
    CHECKERS,
    OPTIONS,
    SCRIPT,
    article,
    atom_entries,
    parse_all,
    rss_items,
)
from tests.feedcheck import ATOM, DC, check_atom

from syndicate.feeds import build_feeds, feed_paths

GOLDEN = Path(__file__).resolve().parent / "golden" / "feeds"
UPDATE = os.environ.get("SYNDICATE_UPDATE_GOLDEN") == "1"


# --- golden files --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_output_matches_golden_file(name: str) -> None:
    produced = build_feeds(ARTICLES, OPTIONS)[name]
    golden = GOLDEN / name
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(produced)
    assert golden.exists(), f"{golden} missing: run with SYNDICATE_UPDATE_GOLDEN=1"
    assert produced.decode() == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_golden_files_pass_the_checker(name: str) -> None:
    CHECKERS[name]((GOLDEN / name).read_bytes())


def test_output_is_deterministic_and_dated_by_the_newest_change() -> None:
    assert build_feeds(ARTICLES, OPTIONS) == build_feeds(list(ARTICLES), OPTIONS)
    parsed = parse_all(build_feeds(ARTICLES, OPTIONS))
    # Article 1 was updated on Feb 28 at 07:15 in Vienna (06:15 UTC).
    assert parsed["rss"].findtext("channel/lastBuildDate") == "Sat, 28 Feb 2026 07:15:00 +0100"
    assert parsed["atom"].findtext(f"{ATOM}updated") == "2026-02-28T07:15:00+01:00"


def test_feed_updated_is_the_latest_change_even_of_an_older_article() -> None:
    late = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    articles = [ARTICLES[0], replace(ARTICLES[1], updated=late)]
    atom = check_atom(build_feeds(articles, OPTIONS)["atom.xml"])
    assert atom.findtext(f"{ATOM}updated") == "2026-03-05T12:00:00+00:00"


def test_empty_feed_is_valid_and_dated_at_the_epoch() -> None:
    parsed = parse_all(build_feeds([], OPTIONS))
    assert parsed["rss"].findtext("channel/lastBuildDate") == "Thu, 01 Jan 1970 00:00:00 +0000"
    assert parsed["atom"].findtext(f"{ATOM}updated") == "1970-01-01T00:00:00+00:00"
    assert parsed["json"]["items"] == []


# --- structure -----------------------------------------------------------------------------


def test_feed_paths() -> None:
    assert feed_paths(None) == {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
    assert feed_paths("garden") == {
        "rss": "category/garden/rss.xml",
        "atom": "category/garden/atom.xml",
        "json": "category/garden/feed.json",
    }


@pytest.mark.parametrize("slug", ["", "../x", "a/b", ".hidden", "a..b", "a b", "a\\b", "é"])
def test_feed_paths_reject_unsafe_slugs(slug: str) -> None:
    with pytest.raises(ValueError, match="category slug"):
        feed_paths(slug)


def test_category_feed_has_its_own_paths_title_and_self_links() -> None:
    files = build_feeds(ARTICLES[:1], OPTIONS, title_suffix="Garden", category_slug="garden")
    assert sorted(files) == [
        "category/garden/atom.xml",
        "category/garden/feed.json",
        "category/garden/rss.xml",
    ]
    parsed = parse_all(files, "category/garden/")
    base = "https://notes.example/category/garden/"
    rss_self = parsed["rss"].find(f"channel/{ATOM}link[@rel='self']")
    assert rss_self.get("href") == base + "rss.xml"
    assert rss_self.get("type") == "application/rss+xml"
    atom_self = parsed["atom"].find(f"{ATOM}link[@rel='self']")
    assert atom_self.get("href") == base + "atom.xml"
    assert atom_self.get("type") == "application/atom+xml"
    assert parsed["atom"].findtext(f"{ATOM}id") == base + "atom.xml"
    assert parsed["json"]["feed_url"] == base + "feed.json"
    assert parsed["rss"].findtext("channel/title") == "Field Notes: Garden"
    assert parsed["atom"].findtext(f"{ATOM}title") == "Field Notes: Garden"
    assert parsed["json"]["title"] == "Field Notes: Garden"


def test_feed_base_url_moves_self_links_but_not_article_links() -> None:
    options = replace(OPTIONS, feed_base_url="https://cdn.example/feeds/")
    parsed = parse_all(build_feeds(ARTICLES[:1], options))
    assert parsed["json"]["feed_url"] == "https://cdn.example/feeds/feed.json"
    assert parsed["json"]["home_page_url"] == "https://notes.example/"
    assert parsed["json"]["items"][0]["url"] == "https://notes.example/note-1"


def test_only_the_requested_formats_are_built() -> None:
    assert list(build_feeds(ARTICLES, replace(OPTIONS, formats=("json",)))) == ["feed.json"]
    files = build_feeds(ARTICLES, replace(OPTIONS, formats=("atom", "rss")))
    assert list(files) == ["atom.xml", "rss.xml"]


def test_items_are_those_given_newest_first_and_unique_by_guid() -> None:
    """The build cuts nothing: ``items`` is the query's limit (tests/test_feed_items.py),
    applied once where the rows are read; a repeated guid keeps its first (newest) item."""
    duplicate = replace(ARTICLES[2], title="An older copy")
    articles = [ARTICLES[0], ARTICLES[1], duplicate, ARTICLES[2], ARTICLES[3]]
    parsed = parse_all(build_feeds(articles, replace(OPTIONS, items=3)))
    titles = [i["title"] for i in parsed["json"]["items"]]
    assert titles == [ARTICLES[0].title, ARTICLES[1].title, "An older copy", ARTICLES[3].title]
    assert len(rss_items(parsed["rss"])) == len(atom_entries(parsed["atom"])) == 4


def test_items_carry_guid_links_dates_author_and_category() -> None:
    parsed = parse_all(build_feeds(ARTICLES[:1], OPTIONS))
    item = rss_items(parsed["rss"])[0]
    guid = item.find("guid")
    assert guid.text == ARTICLES[0].guid
    assert guid.get("isPermaLink") == "false"
    assert item.findtext("link") == "https://notes.example/note-1"
    assert item.findtext("pubDate") == "Fri, 27 Feb 2026 18:30:00 +0100"
    assert item.findtext(f"{DC}creator") == "Mira Holt"
    assert item.findtext("category") == "Garden"
    entry = atom_entries(parsed["atom"])[0]
    assert entry.findtext(f"{ATOM}id") == ARTICLES[0].guid
    assert entry.findtext(f"{ATOM}published") == "2026-02-27T18:30:00+01:00"
    assert entry.findtext(f"{ATOM}updated") == "2026-02-28T07:15:00+01:00"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Mira Holt"
    assert entry.find(f"{ATOM}category").get("term") == "Garden"
    assert entry.find(f"{ATOM}link").get("href") == "https://notes.example/note-1"
    json_item = parsed["json"]["items"][0]
    assert json_item["date_published"] == "2026-02-27T18:30:00+01:00"
    assert json_item["date_modified"] == "2026-02-28T07:15:00+01:00"
    assert json_item["authors"] == [{"name": "Mira Holt"}]
    assert json_item["tags"] == ["Garden"]


def test_full_content_and_summary() -> None:
    parsed = parse_all(build_feeds(ARTICLES[:1], OPTIONS))
    item = rss_items(parsed["rss"])[0]
    assert item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") == (
        ARTICLES[0].content
    )
    assert html.unescape(item.findtext("description")) == ARTICLES[0].summary
    entry = atom_entries(parsed["atom"])[0]
    assert entry.find(f"{ATOM}content").get("type") == "html"
    assert entry.findtext(f"{ATOM}content") == ARTICLES[0].content
    assert html.unescape(entry.findtext(f"{ATOM}summary")) == ARTICLES[0].summary
    assert parsed["json"]["items"][0]["content_html"] == ARTICLES[0].content
    assert parsed["json"]["items"][0]["summary"] == ARTICLES[0].summary


@pytest.mark.parametrize("case", ["teaser", "summary option"])
def test_teasers_and_summary_feeds_carry_only_the_summary(case: str) -> None:
    if case == "teaser":
        files = build_feeds([ARTICLES[2]], OPTIONS)
        expected = ARTICLES[2].summary
    else:
        files = build_feeds([ARTICLES[0]], replace(OPTIONS, content="summary"))
        expected = ARTICLES[0].summary
    parsed = parse_all(files)
    assert b"content:encoded" not in files["rss.xml"]
    assert html.unescape(rss_items(parsed["rss"])[0].findtext("description")) == expected
    entry = atom_entries(parsed["atom"])[0]
    assert entry.find(f"{ATOM}content") is None
    assert html.unescape(entry.findtext(f"{ATOM}summary")) == expected
    json_item = parsed["json"]["items"][0]
    assert "content_html" not in json_item
    assert json_item["content_text"] == expected


def test_feed_level_metadata() -> None:
    parsed = parse_all(build_feeds(ARTICLES, OPTIONS))
    channel = parsed["rss"].find("channel")
    assert channel.findtext("link") == "https://notes.example/"
    assert channel.findtext("description") == OPTIONS.description
    assert channel.findtext("language") == "en"
    atom = parsed["atom"]
    assert atom.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert atom.findtext(f"{ATOM}author/{ATOM}name") == OPTIONS.author
    assert atom.find(f"{ATOM}link[@rel='alternate']").get("href") == "https://notes.example/"
    assert parsed["json"]["authors"] == [{"name": OPTIONS.author}]
    assert parsed["json"]["language"] == "en"


def test_without_a_site_author_the_site_title_stands_in() -> None:
    atom = check_atom(build_feeds(ARTICLES[2:3], replace(OPTIONS, author=""))["atom.xml"])
    assert atom.findtext(f"{ATOM}author/{ATOM}name") == "Field Notes"


def test_hub_is_announced_in_every_format_only_when_set() -> None:
    hub = "https://hub.example/websub"
    parsed = parse_all(build_feeds(ARTICLES, replace(OPTIONS, hub=hub)))
    assert parsed["rss"].find(f"channel/{ATOM}link[@rel='hub']").get("href") == hub
    assert parsed["atom"].find(f"{ATOM}link[@rel='hub']").get("href") == hub
    assert parsed["json"]["hubs"] == [{"type": "WebSub", "url": hub}]
    for data in build_feeds(ARTICLES, OPTIONS).values():
        assert b"hub" not in data


def test_relative_and_unsafe_links_become_absolute_site_links() -> None:
    articles = [
        article(1, link="/archive/note one"),
        article(2, link="javascript:alert(1)"),
        article(3, link=""),
    ]
    parsed = parse_all(build_feeds(articles, OPTIONS))
    urls = [i["url"] for i in parsed["json"]["items"]]
    assert urls == [
        "https://notes.example/archive/note%20one",
        "https://notes.example/note-2",
        "https://notes.example/note-3",
    ]


def test_dates_with_odd_offsets_are_stated_in_utc() -> None:
    lmt = datetime(2026, 2, 1, 12, 0, tzinfo=timezone(timedelta(minutes=53, seconds=28)))
    parsed = parse_all(build_feeds([article(1, published=lmt)], OPTIONS))
    assert parsed["json"]["items"][0]["date_published"] == "2026-02-01T11:06:32+00:00"
    assert rss_items(parsed["rss"])[0].findtext("pubDate") == "Sun, 01 Feb 2026 11:06:32 +0000"


def test_a_date_without_time_zone_is_a_clear_error() -> None:
    naive = article(7, published=datetime(2026, 2, 1, 12, 0))
    with pytest.raises(ValueError, match=r"urn:uuid:.*-000000000007.*no time zone"):
        build_feeds([naive], OPTIONS)


# --- hostile input -------------------------------------------------------------------------


def test_markup_in_titles_and_summaries_stays_text() -> None:
    hostile = article(1, title=f"Hi {SCRIPT} & bye", summary=f"Sum {SCRIPT} &amp; more")
    files = build_feeds([hostile], OPTIONS)
    parsed = parse_all(files)
    item = rss_items(parsed["rss"])[0]
    assert item.findtext("title") == hostile.title
    # description is HTML: the summary is escaped once more so a reader shows it as text.
    assert "<script" not in item.findtext("description")
    assert html.unescape(item.findtext("description")) == hostile.summary
    entry = atom_entries(parsed["atom"])[0]
    assert entry.findtext(f"{ATOM}title") == hostile.title
    assert entry.find(f"{ATOM}title").get("type", "text") == "text"
    assert "<script" not in entry.findtext(f"{ATOM}summary")
    assert parsed["json"]["items"][0]["title"] == hostile.title
    assert parsed["json"]["items"][0]["summary"] == hostile.summary
    for data in files.values():
        assert b"<script" not in data


def test_control_characters_are_stripped_everywhere() -> None:
    dirty = article(
        1,
        title="Bell\x07 and\x00 null",
        summary="Form\x0cfeed \x1b[31mred\x85",
        content="<p>Tab\tok\x08 back\ufffe</p>",
        author="Ann\x01",
        category="Gar\x02den",
    )
    files = build_feeds([dirty], OPTIONS, title_suffix="Cat\x03")
    parsed = parse_all(files)
    item = parsed["json"]["items"][0]
    assert item["title"] == "Bell and null"
    assert item["summary"] == "Formfeed [31mred"
    assert item["content_html"] == "<p>Tab\tok back</p>"
    assert item["authors"] == [{"name": "Ann"}]
    assert item["tags"] == ["Garden"]
    assert parsed["json"]["title"] == "Field Notes: Cat"


def test_ampersands_emoji_cdata_ends_and_empty_categories() -> None:
    odd = article(
        1,
        title="Fish & chips 🐟 & more",
        summary="A & B ]]> C",
        content="<p>]]> is how CDATA ends; &amp; 👍</p>",
        category="",
    )
    parsed = parse_all(build_feeds([odd], OPTIONS))
    item = rss_items(parsed["rss"])[0]
    assert item.findtext("title") == odd.title
    assert item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") == odd.content
    assert item.find("category") is None
    assert atom_entries(parsed["atom"])[0].find(f"{ATOM}category") is None
    assert "tags" not in parsed["json"]["items"][0]


def test_blank_titles_get_a_placeholder() -> None:
    parsed = parse_all(build_feeds([article(1, title=" \x00\n ")], OPTIONS))
    assert parsed["json"]["items"][0]["title"] == "Untitled"
    assert atom_entries(parsed["atom"])[0].findtext(f"{ATOM}title") == "Untitled"


def test_a_one_megabyte_body_passes() -> None:
    body = "<p>" + "All work and no play. " * 48_000 + "</p>"
    assert len(body) > 1_000_000
    files = build_feeds([article(1, content=body)], OPTIONS)
    parsed = parse_all(files)
    assert parsed["json"]["items"][0]["content_html"] == body
    assert atom_entries(parsed["atom"])[0].findtext(f"{ATOM}content") == body


# The summary and title fields may hold any text at all; st.text() includes controls,
# non-characters and astral characters (surrogates are excluded: Python str can hold them
# but no UTF-8 source can produce them; strip_control removes them anyway).
any_text = st.text(max_size=200)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=any_text,
    summary=any_text,
    content=any_text,
    author=any_text,
    category=any_text,
    suffix=any_text,
    site_title=any_text.filter(lambda t: t.strip() != ""),
)
def test_any_text_yields_valid_feeds(
    title: str, summary: str, content: str, author: str, category: str, suffix: str,
    site_title: str,
) -> None:  # fmt: skip
    articles = [
        article(1, title=title, summary=summary, content=content, author=author),
        article(2, title=summary, summary=title, content="", category=category),
    ]
    options = replace(OPTIONS, site_title=site_title, description=summary, author=author)
    parse_all(build_feeds(articles, options, title_suffix=suffix, category_slug="c"), "category/c/")
