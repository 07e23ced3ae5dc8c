"""RSS and Atom through feedparser, behind a refusal of XML entity declarations. Pure."""

from __future__ import annotations

import codecs
import dataclasses
import io
import re
import time
import xml.sax
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import feedparser

from syndicate.content import one_line
from syndicate.models import Enclosure
from syndicate.sources.enclosures import distinct, enclosure
from syndicate.sources.feed_dates import parse_feed_date
from syndicate.sources.feed_entries import (
    HTML_TYPES,
    NO_IDENTITY,
    ParsedFeed,
    RawEntry,
    absolute_link,
    build_entries,
    plain,
    text_to_html,
)
from syndicate.sources.folder import ParseError

# feedparser drops entity declarations that reference other entities, so a billion-laughs
# document does not expand there (tests/test_sources_feed.py shows it); one large entity
# used many times would still be copied many times, and a feed never needs one. So any
# internal DTD subset that declares an entity is refused before feedparser sees the bytes.
_PROLOG_NOISE = re.compile(rb"(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.S)
_DOCTYPE_HEAD = re.compile(rb"<!DOCTYPE[^\[>]*(\[?)")
_HTML_START = re.compile(rb"<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.I)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_WIDE = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
# An XML error that feedparser's lenient parser repairs without a word: an HTML entity such
# as &nbsp; in a hand-made feed. Any other well-formedness error (a bare "&", a truncated
# download) keeps every entry the lenient parser recovers, with one warning for the source.
_TOLERATED = ("undefined entity",)


def _readings(data: bytes) -> list[bytes]:
    """The document as UTF-8-like bytes: itself, or (a wide encoding) every way of reading
    it as one, so that a check on them cannot be dodged by guessing the encoding wrong."""
    for mark, codec in _BOMS:
        if data.startswith(mark):
            return [data.decode(codec, "replace").encode("utf-8")]
    if b"\x00" not in data[:64]:
        return [data]
    return [data.decode(codec, "replace").encode("utf-8") for codec in _WIDE]


def _declares_entities(probe: bytes) -> bool:
    probe = probe.removeprefix(codecs.BOM_UTF8)
    start = _PROLOG_NOISE.match(probe)
    position = start.end() if start else 0
    doctype = _DOCTYPE_HEAD.match(probe, position)
    return bool(doctype and doctype[1] and b"<!ENTITY" in probe[doctype.end() :])


def declares_entities(data: bytes) -> bool:
    """Whether the document's DOCTYPE has an internal subset declaring an entity."""
    return any(_declares_entities(probe) for probe in _readings(data))


def looks_like_html(data: bytes) -> bool:
    return any(_HTML_START.search(probe[:4096]) for probe in _readings(data[:4096]))


def _xml_problem(result: Any) -> str | None:
    exc = result.get("bozo_exception")
    if not isinstance(exc, xml.sax.SAXParseException):
        return None
    message = exc.getMessage()
    if message in _TOLERATED:
        return None
    return f"line {exc.getLineNumber()}, column {exc.getColumnNumber()}: {message}"


def read_xml_feed(
    data: bytes, *, source_url: str, tz: ZoneInfo, content_type: str = ""
) -> ParsedFeed:
    if declares_entities(data):
        raise ParseError(
            "refused: the XML declares entities (<!ENTITY> in its DOCTYPE), "
            "which a feed never needs and an entity bomb does"
        )
    # No content-location: feedparser would make it the base of every entry, where RSS's own
    # is the item's link (see _base). Relative URLs in content are ours to resolve, and nh3
    # sanitizes (feedparser's sanitizer would drop srcset).
    headers = {"content-type": content_type} if content_type else {}
    # A stream, never bytes: feedparser would open bytes that name a local file.
    result = feedparser.parse(
        io.BytesIO(data), response_headers=headers, resolve_relative_uris=False, sanitize_html=False
    )
    version = result.get("version") or ""
    problem = _xml_problem(result)
    if not version:
        if looks_like_html(data):
            raise ParseError("not a feed: an HTML page (no RSS, Atom or JSON Feed)")
        detail = f" (not well-formed XML at {problem})" if problem else ""
        raise ParseError(f"not a feed: neither RSS, Atom nor JSON Feed{detail}")
    is_rss = not version.startswith("atom")
    found = [_entry(entry, tz, source_url, is_rss) for entry in result.get("entries", [])]
    parsed = build_entries(version, found)
    if problem:
        parsed = _lenient(parsed, problem)
    return parsed


def _lenient(parsed: ParsedFeed, problem: str) -> ParsedFeed:
    """A document that is not well-formed: one warning line. Entries the parser recovered
    with nothing to tell them apart are the fragments the break leaves (a download cut in
    the middle of an item), so they are counted in the warning, not reported as failures."""
    fragments = sum(reason.endswith(NO_IDENTITY) for reason in parsed.skipped)
    warning = (
        f"not well-formed XML at {problem}: read leniently, {len(parsed.entries)} entries recovered"
    )
    if fragments:
        warning += f", {fragments} incomplete left out"
    skipped = tuple(reason for reason in parsed.skipped if not reason.endswith(NO_IDENTITY))
    return dataclasses.replace(parsed, skipped=skipped, warnings=(warning,))


def _base(detail: Any, link: str, source_url: str, is_rss: bool) -> str:
    """What the entry's relative URLs resolve against: the xml:base in scope, then (RSS,
    whose spec names no base) the item's link, then the feed document's URL."""
    xml_base = ((detail or {}).get("base") or "").strip()
    if xml_base:
        return urljoin(source_url, xml_base) if source_url else xml_base
    return (link if is_rss else "") or source_url


def _entry(entry: Any, tz: ZoneInfo, source_url: str, is_rss: bool) -> RawEntry:
    title_type = (entry.get("title_detail") or {}).get("type", "text/plain")
    contents = [c for c in entry.get("content") or [] if c.get("value")]
    chosen = next((c for c in contents if c.get("type") in HTML_TYPES), None)
    chosen = chosen or (contents[0] if contents else None)
    summary = entry.get("summary") or ""
    summary_type = (entry.get("summary_detail") or {}).get("type", "text/html")
    body = ""
    detail = chosen or entry.get("summary_detail")
    if chosen is not None:
        value = chosen["value"]
        body = value if chosen.get("type") in HTML_TYPES else text_to_html(value)
        if summary == value:  # feedparser copies the content into a missing summary
            summary = ""
    elif summary:
        body = summary if summary_type in HTML_TYPES else text_to_html(summary)
        summary = ""
    author = (entry.get("author_detail") or {}).get("name") or entry.get("author") or ""
    link = absolute_link(source_url, entry.get("link") or "")
    return RawEntry(
        guid=one_line(entry.get("id") or ""),
        link=link,
        title=plain(entry.get("title") or "", title_type),
        published=_date(entry, tz),
        body_html=body,
        summary=plain(summary, summary_type) if summary else "",
        author=author,
        tags=tuple(t.get("term") or t.get("label") or "" for t in entry.get("tags") or []),
        base=_base(detail, link, source_url, is_rss),
        # An entry without content still has the xml:base in scope: its title's.
        enclosures=_enclosures(
            entry, _base(detail or entry.get("title_detail"), link, source_url, is_rss)
        ),
    )


def _enclosures(entry: Any, base: str) -> tuple[Enclosure, ...]:
    """RSS <enclosure> and Atom rel="enclosure" (feedparser's ``enclosures``), then Media
    RSS <media:content>."""
    found = [
        enclosure(item.get("href") or item.get("url"), item.get("type"), item.get("length"), base)
        for item in entry.get("enclosures") or []
    ]
    found += [
        enclosure(item.get("url"), item.get("type"), item.get("filesize"), base)
        for item in entry.get("media_content") or []
    ]
    return distinct(found)


def _date(entry: Any, tz: ZoneInfo) -> datetime | None:
    """The entry's own text first (it keeps the zone it was written in), then feedparser's
    reading of it (UTC; it knows more formats)."""
    for key in ("published", "updated", "created"):
        moment = parse_feed_date(entry.get(key) or "", tz)
        if moment is not None:
            return moment
        parsed: time.struct_time | None = entry.get(f"{key}_parsed")
        if parsed is not None:
            return datetime(*parsed[:6], tzinfo=UTC)
    return None
