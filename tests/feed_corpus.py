"""A corpus of real-world-shaped feeds, written for the tests: every format syndicate reads
(RSS 0.91/0.92/1.0/2.0, Atom 0.3/1.0, JSON Feed 1.0/1.1) in four shapes each — plain,
entries sharing a title, repeated guids, and entries missing dates or titles — each feed on
its own host, with the number of distinct articles a reader would count in it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Entry:
    id: str | None
    link: str | None
    title: str | None
    date: datetime | None
    body: str


@dataclass(frozen=True)
class CorpusFeed:
    name: str  # e.g. "rss20-same-title"
    filename: str
    document: str
    expected: int  # distinct articles: entries with an id or a link, repeats dropped
    host: str


def _d(day: int) -> datetime:
    return datetime(2026, 11, day, 9, 30, tzinfo=UTC)


def shapes(host: str) -> dict[str, list[Entry]]:
    base = f"https://{host}"
    return {
        "plain": [
            Entry(f"tag:{host},2026:{n}", f"{base}/{n}", f"Post {n}", _d(n), f"Body {n}")
            for n in range(1, 4)
        ],
        "same-title": [
            Entry(f"tag:{host},2026:w{n}", f"{base}/w{n}", "Weekly links", _d(n), f"Links {n}")
            for n in range(1, 5)
        ],
        "repeated-guid": [
            Entry(f"tag:{host},2026:a", f"{base}/a", "First", _d(1), "One"),
            Entry(f"tag:{host},2026:a", f"{base}/a", "First again", _d(2), "Repeat"),
            Entry(f"tag:{host},2026:b", f"{base}/b", "Second", _d(3), "Two"),
        ],
        "missing-fields": [
            Entry(f"tag:{host},2026:u", f"{base}/u", "Undated", None, "No date at all"),
            Entry(None, f"{base}/only-link", "Only a link", _d(4), "No id"),
            Entry(
                f"tag:{host},2026:t", f"{base}/t", None, _d(5), "An untitled note, Mastodon style"
            ),
            Entry(f"tag:{host},2026:v", None, "Only an id", _d(6), "No link"),
        ],
    }


def _expected(entries: list[Entry], has_ids: bool) -> int:
    seen: set[str] = set()
    for entry in entries:
        key = (entry.id if has_ids else None) or entry.link
        if key:
            seen.add(key)
    return len(seen)


def _rss_item(e: Entry, *, guid: bool, dates: bool) -> str:
    parts = []
    if e.title:
        parts.append(f"<title>{escape(e.title)}</title>")
    if e.link:
        parts.append(f"<link>{e.link}</link>")
    if guid and e.id:
        parts.append(f'<guid isPermaLink="false">{e.id}</guid>')
    if dates and e.date:
        parts.append(f"<pubDate>{format_datetime(e.date)}</pubDate>")
    parts.append(f"<description>{escape(e.body)}</description>")
    return "<item>" + "".join(parts) + "</item>"


def rss(version: str, host: str, entries: list[Entry]) -> str:
    modern = version == "2.0"
    items = "".join(_rss_item(e, guid=modern, dates=modern) for e in entries)
    return (
        f'<?xml version="1.0"?><rss version="{version}"><channel><title>{host}</title>'
        f"<link>https://{host}/</link><description>A feed</description>"
        f"<language>en</language>{items}</channel></rss>"
    )


def rss10(host: str, entries: list[Entry]) -> str:
    items = []
    for e in entries:
        about = e.id or e.link or ""
        parts = [f"<title>{escape(e.title)}</title>" if e.title else ""]
        parts.append(f"<link>{e.link}</link>" if e.link else "")
        parts.append(f"<dc:date>{e.date.isoformat()}</dc:date>" if e.date else "")
        parts.append(f"<description>{escape(e.body)}</description>")
        items.append(f'<item rdf:about="{about}">{"".join(parts)}</item>')
    return (
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="https://{host}/"><title>{host}</title>'
        f"<link>https://{host}/</link><description>A feed</description></channel>"
        f"{''.join(items)}</rdf:RDF>"
    )


def atom(version: str, host: str, entries: list[Entry]) -> str:
    old = version == "0.3"
    namespace = "http://purl.org/atom/ns#" if old else "http://www.w3.org/2005/Atom"
    stamp = "issued" if old else "published"
    out = []
    for e in entries:
        parts = [f"<title>{escape(e.title)}</title>" if e.title else ""]
        parts.append(f"<id>{e.id}</id>" if e.id else "")
        if e.link:
            kind = ' type="text/html"' if old else ""
            parts.append(f'<link rel="alternate"{kind} href="{e.link}"/>')
        if e.date:
            parts.append(f"<{stamp}>{e.date.isoformat()}</{stamp}>")
        content = "<content" + (' type="text/plain" mode="escaped"' if old else ' type="text"')
        parts.append(f"{content}>{escape(e.body)}</content>")
        out.append("<entry>" + "".join(parts) + "</entry>")
    head = f'<feed xmlns="{namespace}"' + (' version="0.3">' if old else ">")
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{head}<title>{host}</title>'
        f'<link rel="alternate" href="https://{host}/"/><id>tag:{host},2026:feed</id>'
        f"<{'modified' if old else 'updated'}>2026-11-20T00:00:00Z"
        f"</{'modified' if old else 'updated'}>{''.join(out)}</feed>"
    )


def json_feed(version: str, host: str, entries: list[Entry]) -> str:
    items = []
    for e in entries:
        item: dict[str, object] = {"content_text": e.body}
        if e.id:
            item["id"] = e.id
        if e.link:
            item["url"] = e.link
        if e.title:
            item["title"] = e.title
        if e.date:
            item["date_published"] = e.date.isoformat()
        items.append(item)
    doc = {
        "version": f"https://jsonfeed.org/version/{version}",
        "title": host,
        "home_page_url": f"https://{host}/",
        "items": items,
    }
    return json.dumps(doc)


FORMATS = {
    "rss091": (lambda h, e: rss("0.91", h, e), False, "xml"),
    "rss092": (lambda h, e: rss("0.92", h, e), False, "xml"),
    "rss10": (rss10, True, "rdf"),
    "rss20": (lambda h, e: rss("2.0", h, e), True, "xml"),
    "atom03": (lambda h, e: atom("0.3", h, e), True, "xml"),
    "atom10": (lambda h, e: atom("1.0", h, e), True, "xml"),
    "json10": (lambda h, e: json_feed("1", h, e), True, "json"),
    "json11": (lambda h, e: json_feed("1.1", h, e), True, "json"),
}


def corpus() -> list[CorpusFeed]:
    feeds = []
    for fmt, (render, has_ids, suffix) in FORMATS.items():
        for shape in ("plain", "same-title", "repeated-guid", "missing-fields"):
            name = f"{fmt}-{shape}"
            host = f"{name}.example"
            entries = shapes(host)[shape]
            document = render(host, entries)
            expected = _expected(entries, has_ids)
            feeds.append(CorpusFeed(name, f"{name}.{suffix}", document, expected, host))
    return feeds
