"""/archive/: the sent editions, without anybody's data, and a valid Atom feed of them."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient
from tests.feedcheck import ATOM, check_atom
from tests.web_helpers import (
    SECRET,
    SENT_WEEK,
    UNSENT_KEY,
    UNSENT_WEEK,
    Site,
    add_reader,
    make_settings,
    open_site,
)

from syndicate.pipeline.archive import archive_entries, archive_feed
from syndicate.store import Store
from syndicate.web.pages import EMAIL_CSP


@pytest.fixture
def site(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    for opened in open_site(tmp_path, database_url):
        add_reader(opened.store, "ann@example.org", "Ann Reader")
        yield opened


@pytest.fixture
def client(site: Site) -> TestClient:
    return TestClient(site.app())


def test_the_archive_lists_only_editions_whose_send_started(client: TestClient, site: Site) -> None:
    page = client.get("/archive/")
    assert page.status_code == 200
    assert f'href="http://testserver/archive/{SENT_WEEK}/"' in page.text
    assert "Week 47 · November 16 – 22, 2026" in page.text
    assert UNSENT_WEEK not in page.text
    assert client.get(f"/archive/{UNSENT_WEEK}/").status_code == 404
    site.store.freeze_recipients(UNSENT_KEY, site.clock(), frozenset())
    entries = archive_entries(site.settings, site.store)
    assert [(e.path, e.count) for e in entries] == [(UNSENT_WEEK, 2), (SENT_WEEK, 5)]
    assert entries[1].url == f"http://testserver/archive/{SENT_WEEK}/"


def test_an_edition_page_shows_its_headlines_escaped_and_no_reader(
    client: TestClient, site: Site
) -> None:
    page = client.get(f"/archive/{SENT_WEEK}/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "public, max-age=300"
    text = page.text
    for n in range(1, 5):
        assert f'href="https://millbrook.example/note-{n}"' in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Star party &amp; %\u2060%name%\u2060%" in text
    assert "<script>" not in text and "<b>snacks" not in text
    assert "ann@example.org" not in text and "Ann Reader" not in text
    assert "Note 6" not in text, "an article of a later edition"


def test_the_digest_as_mailed_has_neutral_values(client: TestClient, site: Site) -> None:
    page = client.get(f"/archive/{SENT_WEEK}/email.html")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == EMAIL_CSP
    text = page.text
    assert "Hi there," in text
    assert 'href="http://testserver/unsubscribe"' in text
    assert 'href="http://testserver/subscribe"' in text
    assert "token=" not in text and "%%" not in text.replace("%\u2060%", "")
    assert "ann@example.org" not in text and "Ann" not in text
    assert "<script>" not in text


@pytest.mark.parametrize(
    "path", ["/archive/2026-W99/", "/archive/nonsense/", "/archive/x/email.html"]
)
def test_unknown_weeks_are_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_paths_without_the_slash_redirect(client: TestClient) -> None:
    response = client.get("/archive", follow_redirects=False)
    assert (
        response.status_code == 308 and response.headers["location"] == "http://testserver/archive/"
    )
    response = client.get(f"/archive/{SENT_WEEK}", follow_redirects=False)
    assert response.headers["location"] == f"http://testserver/archive/{SENT_WEEK}/"


def test_the_archive_feed_is_valid_atom_with_one_entry_per_sent_edition(
    client: TestClient, site: Site
) -> None:
    response = client.get("/archive/feed.xml")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    root = check_atom(response.content)
    self_link = root.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None and self_link.get("href") == "http://testserver/archive/feed.xml"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [f"http://testserver/archive/{SENT_WEEK}/"]
    content = entries[0].findtext(f"{ATOM}content") or ""
    assert "&lt;script&gt;" in content and "<script>" not in content
    assert 'href="https://millbrook.example/note-1"' in content

    again = client.get("/archive/feed.xml", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    site.store.freeze_recipients(UNSENT_KEY, site.clock(), frozenset())
    changed = client.get("/archive/feed.xml", headers={"If-None-Match": response.headers["etag"]})
    assert changed.status_code == 200
    assert len(check_atom(changed.content).findall(f"{ATOM}entry")) == 2


def test_an_empty_archive_feed_is_valid(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}")
    with Store(settings.database_url) as store:
        root = check_atom(archive_feed(settings, store))
    assert root.findall(f"{ATOM}entry") == []


class _References(HTMLParser):
    """Every URL an HTML page refers to: href, src, srcset and form actions."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in ("href", "src", "action"):
                self.urls.append(value)
            elif value and name == "srcset":
                self.urls += [part.split()[0] for part in value.split(",") if part.strip()]


@pytest.mark.parametrize(
    "path",
    ["/archive/", f"/archive/{SENT_WEEK}/", f"/archive/{SENT_WEEK}/email.html", "/subscribe"],
)
def test_the_archive_and_the_forms_carry_only_absolute_urls(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    parser = _References()
    parser.feed(page.text)
    assert len(parser.urls) >= 2  # the probe sees the links at all
    relative = [url for url in parser.urls if not urlsplit(url).scheme and url != "#"]
    assert relative == []
