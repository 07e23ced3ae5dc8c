"""WebSub: the hub named in every feed, and told (with retries) when feeds change; a hub
stand-in on loopback counts the pings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from tests.feed_servers import FeedServer, Hub
from tests.service_support import FakeClock, RecordingSender, make_jobs, site_settings

from syndicate import pipeline
from syndicate.cli import main
from syndicate.config import Settings
from syndicate.feeds.websub import BACKOFF_MAX, HUB_ATTEMPTS, backoff, publish_to_hub
from syndicate.store import Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ARTICLE = "Comet over the ridge\n\nNovember 19, 2026\n\nA faint tail, low in the west.\n"


@pytest.fixture
def hub_server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def with_hub(settings: Settings, hub: str) -> Settings:
    feeds = settings.feeds.model_copy(update={"hub": hub})
    return settings.model_copy(update={"feeds": feeds})


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Iterator[tuple[Settings, Store]]:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "comet.txt").write_text(ARTICLE, encoding="utf-8")
    settings = site_settings(tmp_path, database_url)
    with Store(database_url) as store:
        pipeline.gather(settings, store, now=NOW)
        yield settings, store


def test_every_feed_names_the_hub(site: tuple[Settings, Store]) -> None:
    settings, store = site
    settings = with_hub(settings, "https://hub.example/")
    out = pipeline.build_all_feeds(settings, store, NOW).output_dir
    for path in ("rss.xml", "category/general/rss.xml"):
        assert '<atom:link href="https://hub.example/" rel="hub"/>' in (out / path).read_text()
    assert '<link href="https://hub.example/" rel="hub"/>' in (out / "atom.xml").read_text()
    hubs = json.loads((out / "feed.json").read_text())["hubs"]
    assert hubs == [{"type": "WebSub", "url": "https://hub.example/"}]


def test_no_hub_no_hub_link(site: tuple[Settings, Store]) -> None:
    settings, store = site
    out = pipeline.build_all_feeds(settings, store, NOW).output_dir
    assert 'rel="hub"' not in (out / "rss.xml").read_text()
    assert "hubs" not in json.loads((out / "feed.json").read_text())


def test_the_hub_is_told_about_each_changed_feed_and_a_500_is_retried(
    site: tuple[Settings, Store], hub_server: FeedServer
) -> None:
    hub = Hub(500)  # the first ping fails
    settings = with_hub(site[0], hub_server.add("/hub", hub))
    store = site[1]
    sleeps: list[float] = []
    built = pipeline.build_all_feeds(settings, store, NOW)
    told = pipeline.announce_changes(settings, built, sleep=sleeps.append)
    feeds = [p for p in built.written if p.endswith((".xml", ".json"))]  # not pages, not XSLT
    urls = [f"https://astro.example.org/{path}" for path in feeds]
    assert len(feeds) == 6  # site + one category, three formats each
    assert told is not None and told.errors == [] and told.told == urls
    assert dict(hub.accepted) == dict.fromkeys(urls, 1)
    assert len(hub.pings) == len(urls) + 1 and told.attempts == len(urls) + 1
    assert hub.pings[0] == hub.pings[1] == {"hub.mode": ["publish"], "hub.url": [urls[0]]}
    assert sleeps == [1.0]
    (seen,) = hub_server.seen("/hub")[:1]
    assert seen.method == "POST"
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert told.summary() == f"told {settings.feeds.hub} about 6 changed feeds"
    # Nothing changed since: no file written, nobody told.
    again = pipeline.build_all_feeds(settings, store, NOW)
    assert again.written == []
    assert pipeline.announce_changes(settings, again, sleep=sleeps.append) is None
    assert len(hub.pings) == len(urls) + 1


def test_a_hub_that_never_answers_costs_one_bounded_backoff_series(
    site: tuple[Settings, Store],
) -> None:
    with FeedServer() as gone:
        dead = gone.url("/hub")
    settings = with_hub(site[0], dead)
    sleeps: list[float] = []
    built = pipeline.build_all_feeds(settings, site[1], NOW)
    told = pipeline.announce_changes(settings, built, sleep=sleeps.append)
    assert told is not None and told.told == []
    assert told.attempts == HUB_ATTEMPTS
    assert sleeps == [backoff(n) for n in range(1, HUB_ATTEMPTS)] == [1.0, 2.0, 4.0, 8.0]
    assert told.errors == [
        f"feeds.hub {dead}: https://astro.example.org/rss.xml: ConnectError, 5 attempts",
        f"feeds.hub {dead}: not tried for 5 more feeds",
    ]


def test_a_4xx_is_not_retried_and_the_other_feeds_are_still_told(hub_server: FeedServer) -> None:
    hub = Hub(400, 503, 503)
    url = hub_server.add("/hub", hub)
    sleeps: list[float] = []
    with httpx.Client() as client:
        told = publish_to_hub(
            client,
            url,
            ["https://a.example/rss.xml", "https://a.example/feed.json"],
            sleep=sleeps.append,
        )
    assert told.errors == [f"feeds.hub {url}: https://a.example/rss.xml: HTTP 400 (not retried)"]
    assert told.told == ["https://a.example/feed.json"]
    assert sleeps == [1.0, 2.0]


def test_backoff_is_capped() -> None:
    assert [backoff(n) for n in (1, 2, 3, 5, 6, 9)] == [1, 2, 4, 16, BACKOFF_MAX, BACKOFF_MAX]


def test_the_gather_job_of_the_service_tells_the_hub(
    tmp_path: Path, database_url: str, hub_server: FeedServer
) -> None:
    hub = Hub()
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "comet.txt").write_text(ARTICLE, encoding="utf-8")
    settings = with_hub(site_settings(tmp_path, database_url), hub_server.add("/hub", hub))
    with Store(database_url) as store:
        jobs = make_jobs(settings, store, FakeClock(NOW), RecordingSender())
        run = jobs.gather()
        assert run.outcome == "ok"
        assert run.detail.endswith(f"; hub: told {settings.feeds.hub} about 6 changed feeds")
        assert sum(hub.accepted.values()) == 6
        assert jobs.gather().outcome == "ok"  # nothing changed: no feeds built, no ping
    assert sum(hub.accepted.values()) == 6


def test_syndicate_run_once_tells_the_hub(
    tmp_path: Path, hub_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = Hub()
    site = tmp_path / "site"
    assert CliRunner().invoke(main, ["init", str(site)]).exit_code == 0
    (site / "articles" / "comet.txt").write_text(ARTICLE, encoding="utf-8")
    monkeypatch.setenv("SYNDICATE_FEEDS__HUB", hub_server.add("/hub", hub))
    config = str(site / "config" / "syndicate.toml")
    result = CliRunner().invoke(
        main, ["--config", config, "--now", NOW.isoformat(), "run", "--once"]
    )
    assert result.exit_code == 0, result.output
    assert "hub: told http://127.0.0.1:" in result.stdout
    assert sum(hub.accepted.values()) == 6
    result = CliRunner().invoke(main, ["--config", config, "feeds"])
    assert "hub:" not in result.stdout  # nothing changed
    assert sum(hub.accepted.values()) == 6
