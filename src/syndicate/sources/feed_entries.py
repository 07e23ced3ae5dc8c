"""What every feed format is read into, and how its entries become observations. Pure.

A reader (feed_xml, feed_json) turns each entry into a RawEntry, or a reason to skip it;
``build_entries`` dedupes them (by guid, then by link) and makes the observations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

from syndicate.content import (
    content_hash,
    first_sentence,
    html_to_text,
    one_line,
    paragraphs_to_html,
    sanitize_html,
    slugify,
    strip_control,
)
from syndicate.models import Enclosure, Observation
from syndicate.sources.enclosures import enclosure_parts

KEY_MAX = 500  # longer guids / links are keyed by their hash
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One entry as a reader found it; text fields still untrusted."""

    guid: str
    link: str  # absolute http(s), or ""
    title: str  # plain text
    published: datetime | None
    body_html: str  # untrusted HTML; "" when the entry has no body
    summary: str  # plain text; "" when the entry has none of its own
    author: str
    tags: tuple[str, ...]
    base: str = ""  # what relative URLs in body_html resolve against ("" = none known)
    enclosures: tuple[Enclosure, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry of a feed: its key (stable across fetches), what it says, and a hash of it.

    An entry without a date is ``dated=False``: its observation carries UNDATED, and the
    gather gives it the date it was first seen."""

    key: str
    observation: Observation
    sha256: str
    dated: bool = True


UNDATED = datetime(1970, 1, 1, tzinfo=UTC)
TITLE_FROM_TEXT = 100  # an untitled entry is titled by its first sentence, shorter than this


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    format: str  # e.g. "rss20", "atom10", "json1.1"
    entries: tuple[FeedEntry, ...]
    skipped: tuple[str, ...]  # one line per entry left out, saying why
    duplicates: int  # entries dropped as repeats of an earlier one (same guid or link)
    warnings: tuple[str, ...] = ()  # what was wrong with the document but stopped nothing


# --- small text helpers the readers share -------------------------------------------------


def plain(text: str, media_type: str) -> str:
    """A title or summary as one line of plain text, whether it came as HTML or as text."""
    return one_line(html_to_text(text) if media_type in HTML_TYPES else text)


def text_to_html(text: str) -> str:
    return paragraphs_to_html(strip_control(text).replace("\r\n", "\n").split("\n\n"))


def absolute_link(base: str, link: str) -> str:
    """``link`` made absolute against ``base``; "" unless that gives an http(s) URL."""
    link = link.strip()
    if not link or strip_control(link) != link:
        return ""
    joined = urljoin(base, link) if base else link
    parts = urlsplit(joined)
    return joined if parts.scheme in ("http", "https") and parts.netloc else ""


# --- entries → observations ---------------------------------------------------------------


def _describe(number: int, title: str) -> str:
    shown = title if len(title) <= 60 else title[:59] + "…"
    return f"entry {number} ({shown!r})" if title else f"entry {number}"


def _key(kind: str, value: str) -> str:
    if len(value) > KEY_MAX:
        value = "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{kind}:{value}"


def _observation(raw: RawEntry, key: str) -> Observation:
    content = sanitize_html(raw.body_html, raw.base) if raw.body_html.strip() else ""
    title = raw.title or _title_from(raw.summary or html_to_text(content), raw.link)
    summary = one_line(raw.summary)  # the merge cuts it (sources.merge.SUMMARY_LIMIT)
    tags = tuple(dict.fromkeys(tag for tag in (one_line(t) for t in raw.tags) if tag))
    return Observation(
        slug=slugify(title),
        title=title,
        published=raw.published or UNDATED,
        kind="full" if content.strip() else "teaser",
        category=tags[0] if tags else "",
        summary=summary,
        content=content,
        author=one_line(raw.author),
        link=raw.link,
        tags=tags,
        key=key,
        enclosures=raw.enclosures,
    )


def _title_from(text: str, link: str) -> str:
    """A title for an entry that has none (a Mastodon post, a JSON Feed item)."""
    text = one_line(text)
    return first_sentence(text, TITLE_FROM_TEXT) if text else link


def _hash(key: str, o: Observation) -> str:
    return content_hash(
        key, o.slug, o.title, o.published.isoformat(), o.kind, o.category, o.summary,
        o.content, o.author, o.link, *o.tags, *enclosure_parts(o.enclosures),
    )  # fmt: skip


def entry_key(raw: RawEntry) -> str:
    """guid, else link, else a hash of title and date; "" for an entry with none of them."""
    if raw.guid:
        return _key("guid", raw.guid)
    if raw.link:
        return _key("link", raw.link)
    if raw.title and raw.published is not None:
        named = content_hash(raw.title, raw.published.astimezone(UTC).isoformat())
        return f"hash:{named}"
    return ""


NO_IDENTITY = "no id, link, nor title and date"


def build_entries(
    format_name: str, found: Sequence[RawEntry | str], *, skipped: Iterable[str] = ()
) -> ParsedFeed:
    """Observations from the entries in feed order; a string in ``found`` is a reason an
    entry was unreadable. Entries of one title are distinct articles; the first of several
    entries with one guid (or link) wins. An entry with no guid, link, nor title and date
    cannot be told from the next one, and is skipped."""
    entries: list[FeedEntry] = []
    reasons = list(skipped)
    seen_guids: set[str] = set()
    seen_links: set[str] = set()
    seen_keys: set[str] = set()
    duplicates = 0
    for number, raw in enumerate(found, 1):
        if isinstance(raw, str):
            reasons.append(f"entry {number}: {raw}")
            continue
        key = entry_key(raw)
        if not key:
            reasons.append(f"{_describe(number, raw.title)}: {NO_IDENTITY}")
            continue
        repeated = (raw.guid and raw.guid in seen_guids) or (raw.link and raw.link in seen_links)
        if repeated or key in seen_keys:
            duplicates += 1
            continue
        seen_guids.add(raw.guid)
        seen_links.add(raw.link)
        seen_keys.add(key)
        observation = _observation(raw, key)
        entries.append(
            FeedEntry(key, observation, _hash(key, observation), raw.published is not None)
        )
    return ParsedFeed(format_name, tuple(entries), tuple(reasons), duplicates)
