"""A fixed set of articles and options for the feed tests (and the golden files)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from tests.feedcheck import ATOM, check_atom, check_json_feed, check_rss

from syndicate.feeds import FeedOptions
from syndicate.models import Article

VIENNA = ZoneInfo("Europe/Vienna")
OPTIONS = FeedOptions(
    site_title="Field Notes",
    site_url="https://notes.example/",
    description="Small observations from a garden, a kitchen and a workshop.",
    language="en",
    author="The Field Notes desk",
)
CHECKERS = {"rss.xml": check_rss, "atom.xml": check_atom, "feed.json": check_json_feed}


def article(n: int, **fields: Any) -> Article:
    base: dict[str, Any] = {
        "guid": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        "slug": f"note-{n}",
        "title": f"Note {n}",
        "link": f"https://notes.example/note-{n}",
        "published": datetime(2026, 3, 1, 9, 0, tzinfo=UTC) - timedelta(days=n),
        "category": "Garden",
        "summary": f"Summary of note {n}.",
        "content": f"<p>Body of note {n}.</p>",
    }
    return Article(**(base | fields))


ARTICLES = [
    article(
        1,
        title="Pruning the old pear tree",
        published=datetime(2026, 2, 27, 18, 30, tzinfo=VIENNA),
        updated=datetime(2026, 2, 28, 7, 15, tzinfo=VIENNA),
        author="Mira Holt",
        summary="Late winter is the time: the buds are visible and the wood is dormant.",
        content="<p>Cut back to an outward bud.</p>\n<p>Leave the <em>fruiting spurs</em>.</p>",
    ),
    article(
        2,
        title="Café notes from Zürich — ein Überblick 🌿",
        published=datetime(2026, 2, 20, 12, 0, tzinfo=timezone(timedelta(hours=1))),
        category="Reisen",
        author="Zoë Ångström",
        summary="Drei Cafés, zwei Röstereien und ein überraschend guter Kuchen. ☕",
        content="<p>Grüße aus der Altstadt: <strong>Kaffee &amp; Kuchen</strong>.</p>",
    ),
    article(
        3,
        title="Why sourdough rises slower in February",
        published=datetime(2026, 2, 14, 8, 0, tzinfo=UTC),
        category="Kitchen",
        summary="Cold kitchens slow the yeast; a warmer proofing spot helps.",
        content="",  # a teaser: headline and summary only
    ),
    article(
        4,
        title="Q&A: sharpening <chisels> by hand",
        published=datetime(2026, 2, 10, 20, 45, tzinfo=timezone(timedelta(hours=-5))),
        category="Workshop",
        author="Sam O'Neil",
        summary="Angles, stones & strops: 5 < 6 questions answered.",
        content="<p>Hold the bevel flat.</p><pre><code>if angle &lt; 25: hone()</code></pre>",
    ),
    article(
        5,
        title="A note without a category",
        published=datetime(2026, 2, 1, 6, 0, tzinfo=UTC),
        category="",
        summary="Filed nowhere in particular.",
        content="<p>Just a note.</p>",
    ),
]


def parse_all(files: dict[str, bytes], prefix: str = "") -> dict[str, Any]:
    return {
        "rss": check_rss(files[prefix + "rss.xml"]),
        "atom": check_atom(files[prefix + "atom.xml"]),
        "json": check_json_feed(files[prefix + "feed.json"]),
    }


def rss_items(root: Any) -> list[Any]:
    return list(root.iter("item"))


def atom_entries(root: Any) -> list[Any]:
    return list(root.findall(f"{ATOM}entry"))


SCRIPT = "<script>alert('x')</script>"
