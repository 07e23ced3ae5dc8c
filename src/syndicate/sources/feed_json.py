"""JSON Feed 1.0 / 1.1 (https://jsonfeed.org), which feedparser does not read. Pure."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from syndicate.content import one_line
from syndicate.models import Enclosure
from syndicate.sources.enclosures import distinct, enclosure
from syndicate.sources.feed_dates import parse_feed_date
from syndicate.sources.feed_entries import (
    ParsedFeed,
    RawEntry,
    absolute_link,
    build_entries,
    text_to_html,
)
from syndicate.sources.folder import ParseError

VERSION_PREFIX = "https://jsonfeed.org/version/"


def read_json_feed(data: bytes, *, source_url: str, tz: ZoneInfo) -> ParsedFeed:
    try:
        doc = json.loads(data)
    except RecursionError:
        raise ParseError("not a feed: JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or bytes in no Unicode encoding
        raise ParseError(f"not a feed: broken JSON ({one_line(str(exc))})") from None
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version.startswith(VERSION_PREFIX):
        raise ParseError(f"not a feed: JSON, but not a JSON Feed (no '{VERSION_PREFIX}…' version)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise ParseError("JSON Feed without an 'items' list")
    feed_url = doc.get("feed_url")
    base = source_url or (feed_url if isinstance(feed_url, str) else "")
    found = [_entry(item, base, tz) for item in items]
    return build_entries("json" + version.removeprefix(VERSION_PREFIX), found)


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value)


def _date(item: dict[str, Any], tz: ZoneInfo) -> datetime | None:
    for key in ("date_published", "date_modified"):
        moment = parse_feed_date(_text(item, key), tz)
        if moment is not None:
            return moment
    return None


def _author(item: dict[str, Any]) -> str:
    authors = item.get("authors")
    candidates = authors if isinstance(authors, list) else [item.get("author")]  # 1.1, 1.0
    for author in candidates:
        if isinstance(author, dict) and isinstance(author.get("name"), str):
            return str(author["name"])
    return ""


def _tags(item: dict[str, Any]) -> tuple[str, ...]:
    tags = item.get("tags")
    return tuple(tag for tag in tags if isinstance(tag, str)) if isinstance(tags, list) else ()


def _entry(item: Any, base: str, tz: ZoneInfo) -> RawEntry | str:
    if not isinstance(item, dict):
        return "not a JSON object"
    html, text = _text(item, "content_html"), _text(item, "content_text")
    link = absolute_link(base, _text(item, "url") or _text(item, "external_url"))
    return RawEntry(
        guid=one_line(_text(item, "id")),
        link=link,
        title=one_line(_text(item, "title")),
        published=_date(item, tz),
        body_html=html or (text_to_html(text) if text.strip() else ""),
        summary=one_line(_text(item, "summary")),
        author=_author(item),
        tags=_tags(item),
        base=link or base,  # JSON Feed names no base: the item's url, then the feed's
        enclosures=_attachments(item, link or base),
    )


def _attachments(item: dict[str, Any], base: str) -> tuple[Enclosure, ...]:
    attachments = item.get("attachments")
    if not isinstance(attachments, list):
        return ()
    return distinct(
        enclosure(a.get("url"), a.get("mime_type"), a.get("size_in_bytes"), base)
        for a in attachments
        if isinstance(a, dict)
    )
