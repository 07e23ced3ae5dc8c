"""Issue 9, item 2: relative href, src and srcset are resolved before storing, against the
base each source format defines; the feeds carry only absolute URLs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tests.feedcheck import check_atom, check_json_feed, check_rss, relative_references

from syndicate.config import Settings
from syndicate.content import absolute_html, sanitize_html
from syndicate.pipeline import build_all_feeds, gather
from syndicate.sources import read_feed
from syndicate.store import Store

UTC_TZ = ZoneInfo("UTC")
FEED_URL = "https://feeds.example/f/rss.xml"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
IMG = (
    "&lt;p&gt;&lt;img src=&quot;images/m31.jpg&quot; srcset=&quot;m31-2x.jpg 2x&quot;&gt;&lt;/p&gt;"
)


def _content(data: bytes) -> str:
    parsed = read_feed(data, source_url=FEED_URL, tz=UTC_TZ)
    return parsed.entries[0].observation.content


def test_rss_content_resolves_against_the_item_link_not_the_feed_url() -> None:
    rss = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://blog.example/</link><description>d</description>
<item><title>M31</title><link>https://blog.example/2026/m31/</link>
<description>{IMG}</description></item></channel></rss>""".encode()
    content = _content(rss)
    assert 'src="https://blog.example/2026/m31/images/m31.jpg"' in content
    assert 'srcset="https://blog.example/2026/m31/m31-2x.jpg 2x"' in content


def test_rss_xml_base_in_scope_comes_first() -> None:
    rss = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://blog.example/</link><description>d</description>
<item xml:base="https://cdn.example/posts/"><title>M31</title>
<link>https://blog.example/2026/m31/</link><description>{IMG}</description></item>
</channel></rss>""".encode()
    assert 'src="https://cdn.example/posts/images/m31.jpg"' in _content(rss)


def test_rss_item_without_a_link_resolves_against_the_feed_url() -> None:
    rss = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://blog.example/</link><description>d</description>
<item><title>M31</title><guid isPermaLink="false">x1</guid><description>{IMG}</description>
</item></channel></rss>""".encode()
    assert 'src="https://feeds.example/f/images/m31.jpg"' in _content(rss)


def test_atom_resolves_against_xml_base_then_the_document() -> None:
    atom = f"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"
 xml:base="https://photos.example/albums/"><title>t</title><id>urn:x</id>
<updated>2026-11-01T00:00:00Z</updated>
<entry><title>M31</title><id>urn:1</id><updated>2026-11-01T00:00:00Z</updated>
<link href="m31/"/><content type="html">{IMG}</content></entry></feed>""".encode()
    parsed = read_feed(atom, source_url=FEED_URL, tz=UTC_TZ)
    observation = parsed.entries[0].observation
    assert observation.link == "https://photos.example/albums/m31/"
    assert 'src="https://photos.example/albums/images/m31.jpg"' in observation.content
    plain = atom.replace(b' xml:base="https://photos.example/albums/"', b"")
    assert 'src="https://feeds.example/f/images/m31.jpg"' in _content(plain)


def test_json_feed_content_html_resolves_against_the_item_url() -> None:
    doc = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [{"id": "1",'
        b' "url": "https://blog.example/2026/m31/", "content_html":'
        b' "<img src=\\"images/m31.jpg\\">"}]}'
    )
    assert 'src="https://blog.example/2026/m31/images/m31.jpg"' in _content(doc)


def test_srcset_is_kept_and_its_unsafe_candidates_dropped() -> None:
    markup = '<img src="a.jpg" srcset="a.jpg 1x, javascript:alert(1) 2x, data:x 3x">'
    assert sanitize_html(markup, "https://s.example/p/") == (
        '<img src="https://s.example/p/a.jpg" srcset="https://s.example/p/a.jpg 1x">'
    )
    assert "srcset" not in sanitize_html('<img src="a.jpg" srcset="javascript:alert(1) 1x">')


def test_absolute_html_leaves_absolute_content_alone() -> None:
    markup = '<p><a href="https://x.example/" rel="noopener noreferrer">x</a></p>'
    assert absolute_html(markup, "https://s.example/") is markup


@pytest.fixture
def relative_site(tmp_path: Path, database_url: str) -> Settings:
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "m31.md").write_text(
        "---\ntitle: Andromeda\ndate: 2026-11-04\ncategory: Photos\n---\n"
        "![m](images/m31.jpg)\n\nSee [the gallery](../gallery/) and [home](/).\n"
    )
    return Settings.model_validate(
        {
            "site": {"url": "https://astro.example.org/", "title": "Astro"},
            "storage": {"url": database_url},
            "sources": [{"name": "main", "path": "articles"}],
            "feeds": {"output_dir": "public"},
            "root": tmp_path,
        }
    )


def test_a_folder_article_is_stored_and_published_with_absolute_urls(
    relative_site: Settings,
) -> None:
    with Store(relative_site.database_url) as store:
        gather(relative_site, store, now=NOW)
        (article,) = store.latest_articles(5, NOW)
        assert relative_references(article.content) == []
        assert f'src="{article.link.rstrip("/")}' in article.content or (
            'src="https://astro.example.org/' in article.content
        )
        build_all_feeds(relative_site, store, NOW)
    public = relative_site.path(relative_site.feeds.output_dir)
    checked = 0
    for path in public.rglob("*"):
        checker = {"rss.xml": check_rss, "atom.xml": check_atom, "feed.json": check_json_feed}
        if path.name in checker:
            checker[path.name](path.read_bytes())  # ContainsRelRef is one of the rules
            assert b"images/m31.jpg" in path.read_bytes()
            checked += 1
    assert checked == 6  # the site's and the category's
