"""The published files over HTTP: content types, ETag / Last-Modified, 304s, no traversal."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.web_helpers import NOW, SECRET, Site, open_site

from syndicate.pipeline import build_all_feeds
from syndicate.web.static import Representation, etag_matches, not_modified, resolve_published


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    yield from open_site(tmp_path, f"sqlite:///{tmp_path / 'site.db'}")


@pytest.fixture
def client(site: Site) -> TestClient:
    return TestClient(site.app())


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/rss.xml", "application/rss+xml; charset=utf-8"),
        ("/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/feed.json", "application/feed+json; charset=utf-8"),
        ("/category/events/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
    ],
)
def test_published_files_have_their_content_type(
    client: TestClient, site: Site, path: str, media_type: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    on_disk = site.root / "public" / (path.strip("/") or "index.html")
    assert response.content == on_disk.read_bytes()
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_index_page_lists_the_feeds_and_its_own_style_is_allowed_by_hash(
    client: TestClient,
) -> None:
    response = client.get("/")
    assert re.search(r'<link rel="alternate" type="application/rss\+xml" href="https://[^"]+/rss.xml"',
                     response.text)  # fmt: skip
    style = re.search(r"<style>(.*?)</style>", response.text, re.DOTALL)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style[1].encode()).digest()).decode()
    csp = response.headers["content-security-policy"]
    assert f"style-src 'sha256-{digest}'" in csp
    assert "script-src" not in csp and "default-src 'none'" in csp


def test_feeds_get_a_csp_that_runs_nothing(client: TestClient) -> None:
    csp = client.get("/feed.json").headers["content-security-policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp
    # RSS and Atom name feed.xsl: only it may load (same origin, so no sandbox), nothing runs.
    xml = client.get("/rss.xml").headers["content-security-policy"]
    assert "default-src 'none'" in xml and "script-src 'self';" in xml and "sandbox" not in xml


def test_conditional_get_by_etag_and_by_date(client: TestClient) -> None:
    first = client.get("/atom.xml")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert first.headers["cache-control"] == "public, max-age=300"

    again = client.get("/atom.xml", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["last-modified"] == modified

    listed = client.get("/atom.xml", headers={"If-None-Match": f'"other", W/{etag}'})
    assert listed.status_code == 304
    assert client.get("/atom.xml", headers={"If-None-Match": "*"}).status_code == 304

    by_date = client.get("/atom.xml", headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304

    stale_tag = client.get(
        "/atom.xml", headers={"If-None-Match": '"stale"', "If-Modified-Since": modified}
    )
    assert stale_tag.status_code == 200, "If-None-Match decides when both are sent"
    older = formatdate(0, usegmt=True)
    assert client.get("/atom.xml", headers={"If-Modified-Since": older}).status_code == 200
    assert client.get("/atom.xml", headers={"If-Modified-Since": "yesterday"}).status_code == 200


def test_a_changed_feed_gets_a_new_etag(client: TestClient, site: Site) -> None:
    old = client.get("/rss.xml").headers["etag"]
    unchanged_mtime = (site.root / "public" / "rss.xml").stat().st_mtime_ns
    build_all_feeds(site.settings, site.store, NOW)
    assert (site.root / "public" / "rss.xml").stat().st_mtime_ns == unchanged_mtime
    assert client.get("/rss.xml", headers={"If-None-Match": old}).status_code == 304

    (newest,) = site.store.latest_articles(1, NOW)
    retitled = dataclasses.replace(newest, title="Retitled", content_hash="changed")
    site.store.upsert_articles([retitled], site.clock())
    build_all_feeds(site.settings, site.store, NOW)
    response = client.get("/rss.xml", headers={"If-None-Match": old})
    assert response.status_code == 200 and b"Retitled" in response.content
    assert response.headers["etag"] != old


def test_head_answers_headers_only(client: TestClient) -> None:
    response = client.head("/feed.json")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["etag"]


@pytest.mark.parametrize(
    "path",
    [
        "/../site.db",
        "/%2e%2e/site.db",
        "/category/../../site.db",
        "/category/%2e%2e/%2e%2e/site.db",
        "/..%2fsite.db",
        "/.hidden.xml",
        "/category/",
        "/category",
        "/escape/rss.xml",
        "/notes.bin",
        "/nothing-here.xml",
        "/rss.xml%00.html",
    ],
)
def test_nothing_outside_the_published_files_is_served(
    client: TestClient, site: Site, path: str
) -> None:
    public = site.root / "public"
    (public / ".hidden.xml").write_text("<x/>")
    (public / "notes.bin").write_bytes(b"\0")
    outside = site.root / "outside"
    outside.mkdir()
    (outside / "rss.xml").write_text("<secret/>")
    os.symlink(outside, public / "escape")
    response = client.get(path)
    assert response.status_code == 404
    assert b"secret" not in response.content and b"SQLite" not in response.content


def test_home_page_before_any_feed_was_built(client: TestClient, site: Site) -> None:
    (site.root / "public" / "index.html").unlink()
    response = client.get("/")
    assert response.status_code == 200
    assert 'href="http://testserver/subscribe"' in response.text
    assert 'href="http://testserver/archive/"' in response.text


def test_the_stylesheet_is_served_with_validators(client: TestClient) -> None:
    response = client.get("/static/site.css")
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    again = client.get("/static/site.css", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_not_modified_rules() -> None:
    rep = Representation(b"x", "text/plain", '"abc"', last_modified=1_000_000.9)
    assert not_modified({"if-none-match": '"abc"'}, rep)
    assert not_modified({"if-none-match": 'W/"abc"'}, rep)
    assert not not_modified({"if-none-match": '"abcd"'}, rep)
    at = formatdate(1_000_000, usegmt=True)
    assert not_modified({"if-modified-since": at}, rep), "Last-Modified has whole seconds"
    assert not not_modified({"if-modified-since": formatdate(999_999, usegmt=True)}, rep)
    assert not not_modified({}, rep)
    assert etag_matches(' "a" , "abc"', '"abc"') and not etag_matches('"a"', '"abc"')


def test_resolve_published_refuses_odd_paths(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text("x")
    (tmp_path / "rss.xml").write_text("x")
    assert resolve_published(tmp_path, "rss.xml") == (tmp_path / "rss.xml").resolve()
    assert resolve_published(tmp_path, "a/") == (tmp_path / "a" / "index.html").resolve()
    for bad in ("", "a", "a//index.html", "./rss.xml", "a\\index.html", "../x", "/etc/passwd"):
        assert resolve_published(tmp_path, bad) is None, bad
