"""The offline W3C rules in tests/feedcheck.py catch broken feeds, so their passes count."""

from __future__ import annotations

import pytest
from tests.feed_samples import ARTICLES, CHECKERS, OPTIONS

from syndicate.feeds import build_feeds

GOOD = build_feeds(ARTICLES, OPTIONS)


def broken(name: str, old: str, new: str, count: int = -1) -> bytes:
    data = GOOD[name].decode("utf-8")
    assert old in data, f"test setup: {old!r} not in {name}"
    return data.replace(old, new, count).encode("utf-8")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("rss.xml", broken("rss.xml", "<guid", "<x-guid").replace(b"</guid>", b"</x-guid>"),
         "no guid"),
        ("rss.xml", broken("rss.xml", "Sat, 14 Feb 2026 08:00:00 +0000", "2026-02-14"),
         "RFC 822"),
        ("rss.xml", broken("rss.xml", "Sat, 14 Feb", "Sun, 14 Feb"), "day of the week"),
        ("rss.xml", broken("rss.xml", 'rel="self" type="application/rss+xml"',
                           'rel="self" type="application/atom+xml"'), "self link type"),
        ("rss.xml", broken("rss.xml", "<link>https://notes.example/note-5</link>",
                           "<link>/note-5</link>"), "absolute"),
        ("rss.xml", broken("rss.xml", "Filed", "Fi\x01led"),
         "forbidden character"),
        ("rss.xml", broken("rss.xml", "Filed", "Fi&#1;led"), "character reference"),
        ("rss.xml", broken("rss.xml", "</channel>", ""), "well-formed"),
        ("atom.xml", broken("atom.xml", 'rel="self"', 'rel="related"'), "no rel='self'"),
        ("atom.xml", broken("atom.xml", "000000000002</id>", "000000000001</id>"), "duplicate"),
        ("atom.xml", broken("atom.xml", "<name>The Field Notes desk</name>", "<name></name>"),
         "no author"),
        ("atom.xml", broken("atom.xml", "<updated>2026-02-14T08:00:00+00:00",
                            "<updated>2026-02-14 08:00"), "RFC 3339"),
        ("atom.xml", broken("atom.xml", 'type="html"', 'type="fancy"', 1), "bad type"),
        ("feed.json", broken("feed.json", '"id": "urn', '"x-id": "urn', 1), "missing 'id'"),
        ("feed.json", broken("feed.json", '"2026-02-01T06:00:00+00:00"', '"2026-02-01"'),
         "RFC 3339"),
        ("feed.json", broken("feed.json", "version/1.1", "version/1"), "version"),
        ("feed.json", broken("feed.json", "Filed", "Fi\\u0007led"), "forbidden character"),
        ("feed.json", broken("feed.json", '"content_text"', '"content_txt"'), "content_html"),
        ("atom.xml", broken("atom.xml", "<updated>2026-02-20T12:00:00+01:00",
                            "<updated>2026-02-28T07:15:00+01:00"), "DuplicateUpdated"),
        ("atom.xml", broken("atom.xml", "&lt;p&gt;Hold the bevel flat.",
                            "&lt;p&gt;&lt;img src=&quot;i/a.jpg&quot;&gt;H"), "ContainsRelRef"),
        ("rss.xml", broken("rss.xml", "&lt;p&gt;Hold the bevel flat.",
                           "&lt;a href=&quot;../x&quot;&gt;Hold&lt;/a&gt;"), "ContainsRelRef"),
        ("feed.json", broken("feed.json", "Hold the bevel flat.",
                             '\\u003cimg srcset=\\"a.jpg 2x\\"\\u003e'), "ContainsRelRef"),
    ],
)  # fmt: skip
def test_checker_catches_broken_feeds(name: str, data: bytes, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        CHECKERS[name](data)
