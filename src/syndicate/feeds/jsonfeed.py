"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1) from the same data as RSS and Atom."""

from __future__ import annotations

import json
from typing import Any

from syndicate.feeds.data import FeedData, FeedItem

VERSION = "https://jsonfeed.org/version/1.1"
# Escaped inside strings (they occur nowhere else): no markup even if served as text/html.
_HTML_SAFE = (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"))


def _item(item: FeedItem) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id, "url": item.url, "title": item.title}
    if item.content_html:
        out["content_html"] = item.content_html
    else:
        out["content_text"] = item.summary  # one of content_html / content_text is required
    if item.summary:
        out["summary"] = item.summary
    out["date_published"] = item.published.isoformat()
    out["date_modified"] = item.updated.isoformat()
    if item.author:
        out["authors"] = [{"name": item.author}]
    if item.categories:
        out["tags"] = list(item.categories)
    if item.enclosures:
        out["attachments"] = [
            {"url": e.url, "mime_type": e.type, **({"size_in_bytes": e.length} if e.length else {})}
            for e in item.enclosures
        ]
    return out


def json_feed(feed: FeedData) -> bytes:
    doc: dict[str, Any] = {
        "version": VERSION,
        "title": feed.title,
        "home_page_url": feed.home_url,
        "feed_url": feed.urls["json"],
        "description": feed.description,
    }
    if feed.language:
        doc["language"] = feed.language
    doc["authors"] = [{"name": feed.author}]
    if feed.hub:
        doc["hubs"] = [{"type": "WebSub", "url": feed.hub}]
    # One item per line keeps the file diffable; no indent=, which would switch json to its
    # pure-Python encoder (several times slower).
    head = _dumps(doc)[:-1]
    items = ",".join(f"\n{_dumps(_item(item))}" for item in feed.items)
    return f'{head}, "items": [{items}\n]}}\n'.encode()


def _dumps(value: dict[str, Any]) -> str:
    text = json.dumps(value, ensure_ascii=False)
    for char, escape in _HTML_SAFE:
        text = text.replace(char, escape)
    return text
