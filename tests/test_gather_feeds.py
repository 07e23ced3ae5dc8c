"""Feed sources gathered end to end: real servers on loopback, a real store, built feeds."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.feed_documents import (
    ATOM,
    BILLION_LAUGHS,
    BROKEN_XML,
    HTML_PAGE,
    JSON_FEED,
    RSS,
    rss_items,
    slow_to_parse,
)
from tests.feed_servers import FeedServer, huge, never_answer, redirect, static

from syndicate import pipeline
from syndicate.cli import main
from syndicate.config import Settings
from syndicate.pipeline import feed_gathering
from syndicate.store import Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
MB = 1_000_000
FOLDER_ARTICLE = """Counting teal on the lagoon

November 15, 2026

The same title as the RSS entry: the two merge into one article.
"""


# Generous limits: a loaded CI machine must not turn a good feed into a timeout. The test of
# hostile sources sets the short ones it is about.
ROOMY_LIMITS = {"connect_timeout": 10, "read_timeout": 10, "total_timeout": 60, "parse_timeout": 30}
# Short enough for the silent server and the slow parse (60k attributes: over 20 s of
# feedparser) to be cut off, long enough for a loaded machine to read and check the rest.
HOSTILE_LIMITS = {"connect_timeout": 5, "read_timeout": 2, "total_timeout": 30, "parse_timeout": 6}


def make_settings(
    root: Path,
    database_url: str,
    sources: list[dict[str, Any]],
    limits: dict[str, float] = ROOMY_LIMITS,
) -> Settings:
    return Settings.model_validate(
        {
            "site": {"url": "https://hub.example/", "timezone": "America/New_York"},
            "storage": {"url": database_url},
            "sources": sources,
            "categories": {"Equipment": ["telescope"]},
            "fetch": {
                "allow_private": True,
                **limits,
                "max_bytes": MB,
            },
            "feeds": {"output_dir": "public"},
            "root": root,
        }
    )


def feed(name: str, url: str, category: str = "Elsewhere") -> dict[str, Any]:
    return {"name": name, "kind": "feed", "url": url, "category": category}


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with Store(database_url) as opened:
        yield opened


def articles(store: Store) -> dict[str, Any]:
    return {article.title: article for article in store.latest_articles(1000, NOW)}


def test_rss_atom_and_json_feed_sources_reach_the_store_and_the_built_feeds(
    server: FeedServer, store: Store, tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(
        tmp_path,
        database_url,
        [
            feed("birds", server.add("/rss.xml", static(RSS))),
            feed("shop", server.add("/atom.xml", static(ATOM, "application/atom+xml"))),
            feed("kitchen", server.add("/feed.json", static(JSON_FEED, "application/feed+json"))),
        ],
    )
    errors: list[str] = []
    report = pipeline.gather(settings, store, now=NOW, on_error=errors.append)
    # 3 + 2 + 3 entries kept (2 of them without a date); a duplicate in each (not counted),
    # 1 bad item.
    assert (report.new, report.updated, report.unchanged, report.failed) == (8, 0, 0, 1)
    assert (report.feeds_fetched, report.feeds_unchanged, report.feeds_failed) == (3, 0, 0)
    assert errors == [
        f"sources[kitchen]: {server.url('/feed.json')}: entry 4: not a JSON object: skipped",
    ]
    stored = articles(store)
    # An entry without a date is dated when it was first seen, and keeps that date.
    assert stored["A note with no date"].published == NOW
    assert stored["No date here"].published == NOW
    bitterns = stored["Bitterns booming at dawn"]
    assert (bitterns.source, bitterns.category, bitterns.author) == (
        "birds",
        "Field Reports",
        "Mo Heron",
    )
    assert bitterns.link == f"http://127.0.0.1:{server.port}/2026/bitterns"
    assert "<script" not in bitterns.content and "<b>called</b>" in bitterns.content
    # No category of its own: the keyword rules ("telescope"), then the source's default.
    assert stored["Counting teal on the lagoon"].category == "Equipment"
    assert stored["Gluing up a table top"].category == "Elsewhere"
    assert stored["Sharpening & honing chisels"].category == "Tools"
    # Relative links resolve against where the document came from.
    assert stored["A slower sourdough"].link == server.url("/sourdough")
    assert stored["Stock from scraps"].published == datetime(2026, 11, 12, 23, 0, tzinfo=UTC)

    built = pipeline.build_all_feeds(settings, store, NOW)
    output = built.output_dir
    rss = (output / "rss.xml").read_text(encoding="utf-8")
    atom = (output / "atom.xml").read_text(encoding="utf-8")
    json_feed = json.loads((output / "feed.json").read_text(encoding="utf-8"))
    for title in ("Bitterns booming at dawn", "Gluing up a table top", "A slower sourdough"):
        assert title in rss and title in atom
        assert title in [item["title"] for item in json_feed["items"]]
    assert (output / "category/tools/rss.xml").exists()


def test_a_second_gather_asks_conditionally_and_parses_nothing(
    server: FeedServer,
    store: Store,
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    by_etag = static(RSS, etag='"rss-1"')
    by_date = static(ATOM, last_modified="Wed, 18 Nov 2026 19:00:00 GMT")
    no_validators = static(JSON_FEED)
    settings = make_settings(
        tmp_path,
        database_url,
        [
            feed("birds", server.add("/rss", by_etag)),
            feed("shop", server.add("/atom", by_date)),
            feed("kitchen", server.add("/json", no_validators)),
        ],
    )
    pipeline.gather(settings, store, now=NOW)
    parsed: list[str] = []
    real = feed_gathering.read_newest

    def counting(data: bytes, **kwargs: Any) -> Any:
        parsed.append(kwargs["source_url"])
        return real(data, **kwargs)

    monkeypatch.setattr(feed_gathering, "read_newest", counting)
    second = pipeline.gather(settings, store, now=NOW + timedelta(minutes=15))
    assert server.seen("/rss")[1].headers["if-none-match"] == '"rss-1"'
    assert server.seen("/atom")[1].headers["if-modified-since"] == "Wed, 18 Nov 2026 19:00:00 GMT"
    assert "if-none-match" not in server.seen("/json")[1].headers
    assert (by_etag.not_modified, by_date.not_modified, no_validators.served) == (1, 1, 2)
    # The JSON Feed came again, byte for byte: recognised by its hash, not parsed either.
    assert parsed == []
    assert (second.feeds_fetched, second.feeds_unchanged, second.feeds_failed) == (0, 3, 0)
    assert (second.new, second.updated, second.removed) == (0, 0, 0)
    assert not second.changed and second.errors == []
    state = store.feed_state("birds")
    assert state is not None
    assert (state.etag, state.error, state.fetched_at) == (
        '"rss-1"',
        None,
        NOW + timedelta(minutes=15),
    )


def test_a_changed_entry_updates_its_article_and_a_gone_one_stays(
    server: FeedServer, store: Store, tmp_path: Path, database_url: str
) -> None:
    document = static(rss_items(3), etag='"1"')
    settings = make_settings(tmp_path, database_url, [feed("many", server.add("/rss", document))])
    pipeline.gather(settings, store, now=NOW)
    document.body = rss_items(2).replace(b"Body of item 1,", b"A rewritten body of item 1,")
    document.etag = '"2"'
    report = pipeline.gather(settings, store, now=NOW + timedelta(hours=1))
    assert (report.new, report.updated, report.unchanged, report.removed) == (0, 1, 2, 0)
    stored = articles(store)
    assert "A rewritten body" in stored["item number 1"].content
    assert "item number 2" in stored  # it left the feed's window; the article stays


def test_a_feed_entry_never_overwrites_a_folder_article_of_its_title(
    server: FeedServer, store: Store, tmp_path: Path, database_url: str
) -> None:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "teal.txt").write_text(FOLDER_ARTICLE, encoding="utf-8")
    settings = make_settings(
        tmp_path,
        database_url,
        [
            {"name": "local", "path": "articles", "category": "Home"},
            feed("birds", server.add("/rss", static(RSS))),
        ],
    )
    report = pipeline.gather(settings, store, now=NOW)
    assert report.failed == 0
    teals = [a for a in store.latest_articles(100, NOW) if a.title == "Counting teal on the lagoon"]
    by_source = {a.source: a for a in teals}
    assert sorted(by_source) == ["birds", "local"]  # two articles, one per source
    assert by_source["birds"].link == "https://birds.example/2026/teal"
    local = by_source["local"]
    assert local.link.startswith(settings.site.url) and local.category == "Home"
    assert by_source["birds"].guid != local.guid


def test_a_feed_file_is_a_source_too(store: Store, tmp_path: Path, database_url: str) -> None:
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "kitchen.json").write_bytes(JSON_FEED)
    settings = make_settings(tmp_path, database_url, [feed("kitchen", "feeds/kitchen.json")])
    first = pipeline.gather(settings, store, now=NOW)
    assert (first.new, first.feeds_fetched) == (3, 1)
    again = pipeline.gather(settings, store, now=NOW + timedelta(hours=1))
    assert (again.feeds_unchanged, again.new) == (1, 0)
    (tmp_path / "feeds" / "kitchen.json").unlink()
    gone = pipeline.gather(settings, store, now=NOW + timedelta(hours=2))
    assert gone.errors == [
        f"sources[kitchen]: feeds/kitchen.json: file not found: {tmp_path / 'feeds/kitchen.json'}"
    ]


@pytest.mark.slow
def test_hostile_sources_fail_one_line_each_and_the_others_still_gather(
    server: FeedServer, store: Store, tmp_path: Path, database_url: str
) -> None:
    hostile = {
        "silent": server.add("/silent", never_answer()),
        "huge": server.add("/huge", huge(50 * MB, declare_length=False)),
        "bomb": server.add("/bomb", static(BILLION_LAUGHS)),
        "metadata": server.add("/meta", redirect("http://169.254.169.254/latest/meta-data/")),
        "loop": server.add("/loop", redirect("/loop2")),
        "broken": server.add("/broken", static(BROKEN_XML)),
        "html": server.add("/html", static(HTML_PAGE, "text/html")),
        "missing": server.add("/missing", redirect("/nowhere")),
        "slow-parse": server.add("/slow-parse", static(slow_to_parse(60_000))),
    }
    server.add("/loop2", redirect("/loop"))
    sources = [feed(name, url) for name, url in hostile.items()]
    sources.insert(4, feed("good", server.add("/good", static(ATOM))))
    settings = make_settings(tmp_path, database_url, sources, HOSTILE_LIMITS)
    errors: list[str] = []
    # Each hostile source is ended by its own limit: the lines below name which.
    report = pipeline.gather(settings, store, now=NOW, on_error=errors.append)
    expected = {
        "silent": "no answer for 2s (fetch.read_timeout)",
        "huge": "too large: over the 1000000-byte cap (fetch.max_bytes); download stopped",
        "bomb": "refused: the XML declares entities",
        "metadata": "refused: 169.254.169.254 is a link-local address (never allowed)",
        "loop": f"redirect loop: {server.url('/loop2')} redirects back to {hostile['loop']}",
        "html": "not a feed: an HTML page",
        "missing": "HTTP 404 Not Found",
        "slow-parse": "took longer than 6s to parse (fetch.parse_timeout)",
    }
    # A feed that is not well-formed XML is read leniently (issue 9): one warning, its entries.
    (warning,) = [line for line in errors if line.startswith("warning:")]
    assert warning.startswith("warning: sources[broken]: not well-formed XML at line 5")
    errors.remove(warning)
    assert len(errors) == len(expected), errors
    by_source = {line.split("]", 1)[0].removeprefix("sources["): line for line in errors}
    for name, problem in expected.items():  # in the order their fetches finished
        line = by_source[name]
        assert line.startswith(f"sources[{name}]: {hostile[name]}: {problem}"), line
        assert "\n" not in line
    assert (report.feeds_fetched, report.feeds_failed, report.failed) == (2, 8, 8)
    assert sorted(articles(store)) == [
        "Fine so far", "Gluing up a table top", "Sharpening & honing chisels",
        "Then a mismatched tag",
    ]  # fmt: skip
    assert server.bytes_sent["/huge"] < 10 * MB
    for name, problem in expected.items():
        state = store.feed_state(name)
        assert state is not None and state.error is not None and problem in state.error
        assert state.fetched_at is None


def test_feed_sources_on_loopback_are_refused_unless_allowed(
    server: FeedServer, store: Store, tmp_path: Path, database_url: str
) -> None:
    url = server.add("/rss", static(RSS))
    settings = make_settings(tmp_path, database_url, [feed("birds", url)])
    settings = settings.model_copy(
        update={"fetch": settings.fetch.model_copy(update={"allow_private": False})}
    )
    report = pipeline.gather(settings, store, now=NOW)
    assert report.errors == [
        f"sources[birds]: {url}: refused: 127.0.0.1 is a loopback address "
        "(allowed only with fetch.allow_private)"
    ]
    assert server.requests == []


def test_a_password_in_a_source_url_is_not_in_its_error_line(
    server: FeedServer, store: Store, tmp_path: Path, database_url: str
) -> None:
    url = server.add("/private", static(HTML_PAGE, "text/html"))
    secret = url.replace("http://", "http://reader:s3cret@")
    settings = make_settings(tmp_path, database_url, [feed("members", secret)])
    report = pipeline.gather(settings, store, now=NOW)
    shown = url.replace("http://", "http://reader:***@")
    assert report.errors == [
        f"sources[members]: {shown}: not a feed: an HTML page (no RSS, Atom or JSON Feed)"
    ]
    assert server.seen("/private")[0].headers["authorization"].startswith("Basic ")


def test_a_failure_keeps_the_last_good_validators(
    server: FeedServer, store: Store, tmp_path: Path, database_url: str
) -> None:
    document = static(RSS, etag='"good"')
    settings = make_settings(tmp_path, database_url, [feed("birds", server.add("/rss", document))])
    pipeline.gather(settings, store, now=NOW)
    document.body, document.etag = b"<p>not a feed at all</p>", '"broken"'
    failed = pipeline.gather(settings, store, now=NOW + timedelta(hours=1))
    assert failed.feeds_failed == 1
    state = store.feed_state("birds")
    assert state is not None and state.etag == '"good"' and state.error is not None
    # The publisher puts the good document back: "not modified" against what we hold.
    document.body, document.etag = RSS, '"good"'
    back = pipeline.gather(settings, store, now=NOW + timedelta(hours=2))
    assert (back.feeds_unchanged, back.errors) == (1, [])
    state = store.feed_state("birds")
    assert state is not None and state.error is None


def test_a_new_url_starts_afresh(
    server: FeedServer, store: Store, tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(
        tmp_path, database_url, [feed("birds", server.add("/old", static(RSS, etag='"x"')))]
    )
    pipeline.gather(settings, store, now=NOW)
    moved = make_settings(
        tmp_path, database_url, [feed("birds", server.add("/new", static(RSS, etag='"x"')))]
    )
    report = pipeline.gather(moved, store, now=NOW + timedelta(hours=1))
    assert "if-none-match" not in server.seen("/new")[0].headers
    assert (report.feeds_fetched, report.new, report.unchanged) == (1, 0, 3)  # known from /old


def test_a_500_entry_feed_gathers_and_regathers_conditionally(
    server: FeedServer, store: Store, tmp_path: Path, database_url: str
) -> None:
    url = server.add("/many", static(rss_items(500), etag='"500"'))
    settings = make_settings(tmp_path, database_url, [feed("many", url)])
    started = time.perf_counter()
    report = pipeline.gather(settings, store, now=NOW)
    first = time.perf_counter() - started
    assert (report.new, report.failed) == (500, 0)
    started = time.perf_counter()
    again = pipeline.gather(settings, store, now=NOW + timedelta(minutes=15))
    second = time.perf_counter() - started
    assert again.feeds_unchanged == 1 and (again.new, again.updated) == (0, 0)
    print(f"500-entry feed: first gather {first:.3f}s, conditional re-gather {second:.3f}s")


def test_syndicate_gather_names_the_failing_source_and_exits_1(
    server: FeedServer, tmp_path: Path
) -> None:
    good = server.add("/atom", static(ATOM))
    bad = server.add("/page", static(HTML_PAGE, "text/html"))
    config = tmp_path / "site" / "config" / "syndicate.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f"""
[fetch]
allow_private = true
read_timeout = 2

[[sources]]
name = "shop"
kind = "feed"
url = "{good}"

[[sources]]
name = "moved"
kind = "feed"
url = "{bad}"
""",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["--config", str(config), "--now", NOW.isoformat(), "gather"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"sources[moved]: {bad}: not a feed: an HTML page (no RSS, Atom or JSON Feed)"
    ]
    assert (
        "2 new, 0 updated, 0 unchanged, 0 removed, 1 failed; "
        "feeds: 1 fetched, 0 unchanged, 1 failed" in (result.stdout)
    )
