"""Feed documents for the feed-source tests: good ones in each format, and hostile ones."""

from __future__ import annotations

import json

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Lakeside Birding</title>
  <link>https://birds.example/</link>
  <description>Notes from the reed beds</description>
  <item>
    <title>Bitterns booming at dawn</title>
    <link>/2026/bitterns</link>
    <guid isPermaLink="false">birds-101</guid>
    <pubDate>Tue, 17 Nov 2026 06:30:00 +0100</pubDate>
    <category>Field Reports</category>
    <dc:creator>Mo Heron</dc:creator>
    <description>Three males calling from the north bed.</description>
    <content:encoded><![CDATA[<p>Three males <b>called</b> from the north bed.
      <script>alert('x')</script><a href="javascript:alert(1)">click</a>
      <img src="/img/bittern.jpg" onerror="alert(2)"></p>]]></content:encoded>
  </item>
  <item>
    <title>Counting teal on the lagoon</title>
    <link>https://birds.example/2026/teal</link>
    <guid isPermaLink="false">birds-100</guid>
    <pubDate>Sun, 15 Nov 2026 09:00:00 GMT</pubDate>
    <description>&lt;p&gt;We counted 212 teal with a new telescope.&lt;/p&gt;</description>
  </item>
  <item>
    <title>Counting teal on the lagoon (again)</title>
    <link>https://birds.example/2026/teal-copy</link>
    <guid isPermaLink="false">birds-100</guid>
    <pubDate>Sun, 15 Nov 2026 09:00:00 GMT</pubDate>
    <description>The same guid as the entry above: a duplicate.</description>
  </item>
  <item>
    <title>A note with no date</title>
    <guid isPermaLink="false">birds-099</guid>
    <description>Left out: it has no date.</description>
  </item>
</channel>
</rss>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Workshop Log</title>
  <id>urn:uuid:7d0c-workshop</id>
  <updated>2026-11-18T20:00:00Z</updated>
  <link rel="alternate" href="https://shop.example/"/>
  <entry>
    <title type="html">Sharpening &amp;amp; honing &lt;em&gt;chisels&lt;/em&gt;</title>
    <id>tag:shop.example,2026:chisels</id>
    <link rel="alternate" href="https://shop.example/chisels"/>
    <published>2026-11-18T19:00:00+01:00</published>
    <updated>2026-11-18T20:00:00+01:00</updated>
    <author><name>Sam Plane</name></author>
    <category term="Tools"/>
    <summary>Water stones, a strop and patience.</summary>
    <content type="html">&lt;p&gt;Start at 1000 grit.&lt;/p&gt;&lt;iframe src="https://evil.example/"&gt;&lt;/iframe&gt;</content>
  </entry>
  <entry>
    <title>Gluing up a table top</title>
    <id>tag:shop.example,2026:glue</id>
    <link rel="alternate" href="https://shop.example/glue"/>
    <updated>2026-11-16T10:00:00Z</updated>
    <content type="text">Cauls keep the boards flat.

Alternate the clamps above and below.</content>
  </entry>
  <entry>
    <title>Gluing up, the same link</title>
    <id>tag:shop.example,2026:glue-2</id>
    <link rel="alternate" href="https://shop.example/glue"/>
    <updated>2026-11-16T11:00:00Z</updated>
    <content type="text">A second entry with the link of the one above: a duplicate.</content>
  </entry>
</feed>
"""

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Kitchen Notes",
        "home_page_url": "https://kitchen.example/",
        "feed_url": "https://kitchen.example/feed.json",
        "items": [
            {
                "id": "k-7",
                "url": "/sourdough",
                "title": "A slower sourdough",
                "content_html": "<p>Cold retard overnight.</p><script>steal()</script>",
                "summary": "Twelve hours in the fridge.",
                "date_published": "2026-11-19T07:00:00-05:00",
                "authors": [{"name": "Pat Baker"}],
                "tags": ["Baking", "Bread"],
            },
            {
                "id": 8,
                "url": "https://kitchen.example/stock",
                "title": "Stock from scraps",
                "content_text": "Onion skins & carrot ends <b>stay</b> text.",
                "date_published": "2026-11-12T18:00:00",
            },
            {"id": "k-9", "title": "No date here", "content_text": "Skipped."},
            "not an object",
        ],
    }
).encode()


def rss_items(count: int, *, prefix: str = "item", day: int = 1) -> bytes:
    """An RSS feed of ``count`` distinct entries (for size and speed checks)."""
    items = "".join(
        f"<item><title>{prefix} number {n}</title><guid>{prefix}-{n}</guid>"
        f"<link>https://many.example/{prefix}/{n}</link>"
        f"<pubDate>Mon, {day:02d} Nov 2026 {n // 60 % 24:02d}:{n % 60:02d}:00 +0000</pubDate>"
        f"<description>&lt;p&gt;Body of {prefix} {n}, with a few words.&lt;/p&gt;</description>"
        "</item>"
        for n in range(count)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Many</title>'
        f"<link>https://many.example/</link>{items}</channel></rss>"
    ).encode()


def _laughs(levels: int) -> str:
    lines = ['<!ENTITY lol0 "lol">']
    for n in range(1, levels + 1):
        lines.append(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">')
    return "\n".join(lines)


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + _laughs(9) + "\n]>\n"
    '<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
    "<guid>bomb</guid><pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate>"
    "<description>&lol9;</description></item></channel></rss>"
).encode()

# One big entity used many times: no nesting, still a gigabyte if expanded.
QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?>\n<!DOCTYPE feed [<!ENTITY a "'
    + b"x" * 100_000
    + b'">]>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>q</title><entry><title>'
    + b"&a;" * 10_000
    + b"</title></entry></feed>"
)

BROKEN_XML = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Broken</title>
<item><title>Fine so far</title><guid>b-1</guid>
  <pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item>
<item><title>Then <b>a mismatched</i> tag</title><guid>b-2</guid></item>
</channel>"""

HTML_PAGE = b"""<!DOCTYPE html>
<html><head><title>Welcome</title></head>
<body><h1>Our blog moved</h1><p>Find the feed elsewhere.</p></body></html>
"""


def slow_to_parse(attributes: int) -> bytes:
    """Well-formed and small, yet feedparser's time grows with the square of ``attributes``
    (40 000: ~0.4 MB, half a minute)."""
    names = " ".join(f'a{n}="x"' for n in range(attributes))
    return (
        f'<?xml version="1.0"?><rss version="2.0" {names}><channel><title>slow</title>'
        "</channel></rss>"
    ).encode()
