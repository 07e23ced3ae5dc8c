"""Issue 9, items 6 and 7: one static page per article at the path its link names, served by
the web front (with a redirect from the folder without "/"); the front page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import pytest
from starlette.testclient import TestClient
from tests.feedcheck import relative_references
from tests.test_site import REPO, example_settings

from syndicate.config import Settings
from syndicate.delivery.outbox import OutboxSender
from syndicate.pipeline import build_all_feeds, gather
from syndicate.pipeline.site_pages import TEMPLATE_CACHE
from syndicate.store import Store
from syndicate.web import create_app

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SITE = "https://millbrook-astro.example.org/"
LEONIDS = "leonids-2026-twenty-three-meteors-from-the-reservoir"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def parse(data: bytes) -> _Page:
    page = _Page()
    page.feed(data.decode("utf-8"))
    return page


def build(tmp: Path, **env: str) -> tuple[Settings, Store]:
    settings = example_settings(tmp)
    for key, value in env.items():
        section, name = key.split("__")
        part = getattr(settings, section).model_copy(update={name: value})
        settings = settings.model_copy(update={section: part})
    store = Store(settings.database_url)
    assert gather(settings, store, now=NOW).failed == 0
    build_all_feeds(settings, store, NOW)
    return settings, store


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Store]]:
    settings, store = build(tmp_path_factory.mktemp("pages"))
    yield settings, store
    store.close()


def test_every_folder_article_has_its_page_and_its_link_ends_in_a_slash(
    site: tuple[Settings, Store],
) -> None:
    settings, store = site
    public = settings.path(settings.feeds.output_dir)
    articles = store.latest_articles(100, NOW)
    assert len(articles) >= 10
    for article in articles:
        assert article.link.startswith(SITE) and article.link.endswith("/")
        page = public / article.link.removeprefix(SITE) / "index.html"
        assert page.is_file(), article.link
        text = page.read_text()
        assert relative_references(text) == [], article.link  # only absolute URLs


def test_an_article_page_shows_the_article_a_form_and_its_category_feeds(
    site: tuple[Settings, Store],
) -> None:
    settings, _store = site
    public = settings.path(settings.feeds.output_dir)
    page = parse((public / LEONIDS / "index.html").read_bytes())
    text = " ".join(" ".join(page.text).split())
    assert page.all("html")[0]["lang"] == "en"
    assert "Leonids 2026: twenty-three meteors from the reservoir" in text
    assert "November 19, 2026" in text and "Observing Reports" in text
    assert "rarely generous" in text  # the content
    (form,) = page.all("form")
    assert form["action"] == f"{SITE}subscribe" and form["method"] == "post"
    alternates = {a["href"] for a in page.all("link") if a.get("rel") == "alternate"}
    assert f"{SITE}category/observing-reports/atom.xml" in alternates
    assert f"{SITE}rss.xml" in alternates
    canonical = [a["href"] for a in page.all("link") if a.get("rel") == "canonical"]
    assert canonical == [f"{SITE}{LEONIDS}/"]


def test_the_front_page(site: tuple[Settings, Store]) -> None:
    settings, store = site
    data = (settings.path(settings.feeds.output_dir) / "index.html").read_bytes()
    page = parse(data)
    text = " ".join(" ".join(page.text).split())
    assert page.all("html")[0]["lang"] == "en"
    newest = store.latest_articles(3, NOW)
    anchors = [a["href"] for a in page.all("a")]
    for article in newest:
        assert article.link in anchors and article.title in text and article.summary[:40] in text
    assert f"{SITE}archive/" in anchors
    assert page.all("form")[0]["action"] == f"{SITE}subscribe"
    alternates = [a for a in page.all("link") if a.get("rel") == "alternate"]
    hrefs = {a["href"] for a in alternates}
    assert {f"{SITE}rss.xml", f"{SITE}atom.xml", f"{SITE}feed.json"} <= hrefs
    assert f"{SITE}category/sky-guide/rss.xml" in hrefs
    assert relative_references(data.decode()) == []


def test_the_web_front_serves_pages_with_etag_and_redirects_the_bare_folder(
    site: tuple[Settings, Store], tmp_path: Path
) -> None:
    settings, store = site
    app = create_app(
        settings, store, sender_factory=lambda: OutboxSender(tmp_path), clock=lambda: NOW
    )
    client = TestClient(app, follow_redirects=False)
    moved = client.get(f"/{LEONIDS}")
    assert moved.status_code == 301 and moved.headers["location"].endswith(f"/{LEONIDS}/")
    page = client.get(f"/{LEONIDS}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Leonids 2026" in page.text
    again = client.get(f"/{LEONIDS}/", headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/no-such-article").status_code == 404
    assert client.get("/rss.xml/").status_code == 404  # a file is no folder


def test_with_pages_disabled_links_stay_site_url_plus_slug(tmp_path: Path) -> None:
    settings, store = build(tmp_path, pages__enabled=False)  # type: ignore[arg-type]
    with store:
        articles = store.latest_articles(100, NOW)
    assert all(not a.link.endswith("/") for a in articles)
    public = settings.path(settings.feeds.output_dir)
    assert [p for p in public.rglob("index.html") if p.parent != public] == []


def test_a_site_overrides_a_page_template(tmp_path: Path) -> None:
    own = tmp_path / "templates" / "pages"
    own.mkdir(parents=True)
    (own / "article.html").write_text("<!DOCTYPE html><p>Own page: {{ article.title }}</p>\n")
    settings = example_settings(tmp_path)
    folder = settings.sources[0].model_copy(update={"path": str(REPO / "examples" / "articles")})
    settings = settings.model_copy(update={"root": tmp_path, "sources": [folder]})
    with Store(settings.database_url) as store:
        gather(settings, store, now=NOW)
        build_all_feeds(settings, store, NOW)
    page = settings.path(settings.feeds.output_dir) / LEONIDS / "index.html"
    assert page.read_text().startswith("<!DOCTYPE html><p>Own page: Leonids 2026")


def test_compiled_templates_are_kept_and_an_edited_one_is_compiled_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next build loads the page templates compiled (var/cache/templates); the one the
    site edited meanwhile is compiled again, and its new text is what the pages show."""
    own = tmp_path / "templates" / "pages"
    own.mkdir(parents=True)
    template = own / "article.html"
    template.write_text("<!DOCTYPE html><p>First: {{ article.title }}</p>\n")
    settings = example_settings(tmp_path)
    folder = settings.sources[0].model_copy(update={"path": str(REPO / "examples" / "articles")})
    settings = settings.model_copy(update={"root": tmp_path, "sources": [folder]})
    page = settings.path(settings.feeds.output_dir) / LEONIDS / "index.html"
    compiled: list[str] = []
    compile_template = jinja2.Environment.compile

    def compile_noted(self: jinja2.Environment, source: str, name: str, *args: Any) -> Any:
        compiled.append(name)
        return compile_template(self, source, name, *args)

    with Store(settings.database_url) as store:
        gather(settings, store, now=NOW)
        build_all_feeds(settings, store, NOW)
        assert list(settings.path(TEMPLATE_CACHE).glob("*.cache"))
        assert page.read_text().startswith("<!DOCTYPE html><p>First: Leonids 2026")
        template.write_text("<!DOCTYPE html><p>Second: {{ article.title }}</p>\n")
        monkeypatch.setattr(jinja2.Environment, "compile", compile_noted)
        build_all_feeds(settings, store, NOW)
    assert page.read_text().startswith("<!DOCTYPE html><p>Second: Leonids 2026")
    assert compiled == ["article.html"]


def test_only_pages_whose_article_or_look_changed_are_rendered_again(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    for source in (REPO / "examples" / "articles").iterdir():
        (articles / source.name).write_bytes(source.read_bytes())
    settings = example_settings(tmp_path)
    folder = settings.sources[0].model_copy(update={"path": str(articles)})
    settings = settings.model_copy(update={"sources": [folder]})
    with Store(settings.database_url) as store:
        gather(settings, store, now=NOW)
        first = build_all_feeds(settings, store, NOW)
        assert sum(p.endswith("/index.html") for p in first.written) >= 10
        page = articles / "2026-11-19-leonids-2026-reservoir.txt"
        page.write_text(page.read_text().replace("rarely generous", "rarely kind", 1))
        gather(settings, store, now=NOW)
        again = build_all_feeds(settings, store, NOW)
    pages = [p for p in again.written if p.endswith("/index.html")]
    assert pages == [f"{LEONIDS}/index.html"]
    assert "rarely kind" in (settings.path(settings.feeds.output_dir) / pages[0]).read_text()
