"""Issue 9, item 7: RSS and Atom name feed.xsl, which turns them into a page that says what a
feed is, how to subscribe, and lists the latest items; no script, no event handler."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree, html

from syndicate.pipeline.publish import feed_stylesheet

GOLDEN = Path(__file__).resolve().parent / "golden" / "site" / "public"


@pytest.mark.parametrize(
    ("feed", "href"),
    [("rss.xml", "feed.xsl"), ("atom.xml", "feed.xsl"),
     ("category/events/rss.xml", "../../feed.xsl")],
)  # fmt: skip
def test_each_xml_feed_names_the_stylesheet_and_it_shows_the_items(feed: str, href: str) -> None:
    data = (GOLDEN / feed).read_bytes()
    assert data.splitlines()[1] == f'<?xml-stylesheet type="text/xsl" href="{href}"?>'.encode()
    assert (GOLDEN / "feed.xsl").read_bytes() == feed_stylesheet()
    transform = etree.XSLT(etree.fromstring(feed_stylesheet()))
    page = html.fromstring(str(transform(etree.fromstring(data))))
    shown = " ".join(page.text_content().split())
    assert "This is a feed." in shown
    assert "Copy its address into your feed reader" in shown  # how to subscribe
    items = etree.fromstring(data).xpath("//item | //*[local-name()='entry']")
    assert len(page.cssselect("article.card h2 a")) == len(items) > 0
    assert page.cssselect("code")[0].text_content().endswith(feed)  # the address to copy
    assert page.xpath("//script") == []
    assert [a for e in page.iter() for a in e.attrib if a.lower().startswith("on")] == []
