"""Rows to values and back, and the chunking that keeps IN lists under driver limits."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from syndicate.models import Article, ArticleStatus, Enclosure, Observation

if TYPE_CHECKING:  # store.build_reads uses this module without SQLAlchemy
    from sqlalchemy import Row

T = TypeVar("T")

# SQLite before 3.32 allowed 999 bound variables per statement; stay under it everywhere.
CHUNK = 900


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def tags_to_text(tags: Sequence[str]) -> str:
    return json.dumps(list(tags), ensure_ascii=False)


def tags_from_text(text: str) -> tuple[str, ...]:
    value = json.loads(text) if text else []
    return tuple(str(tag) for tag in value)


def enclosures_to_text(enclosures: Sequence[Enclosure]) -> str:
    """A JSON list of [url, type, length]; "" for none (the column's default)."""
    if not enclosures:
        return ""
    return json.dumps([[e.url, e.type, e.length] for e in enclosures], ensure_ascii=False)


def enclosures_from_text(text: str | None) -> tuple[Enclosure, ...]:
    if not text:
        return ()
    return tuple(
        Enclosure(str(url), str(kind), int(length)) for url, kind, length in json.loads(text)
    )


def article_row(article: Article) -> dict[str, Any]:
    """The columns an article's content sets (not first_seen / updated: the store keeps those)."""
    return {
        "guid": article.guid,
        "slug": article.slug,
        "title": article.title,
        "link": article.link,
        "published": article.published,
        "category": article.category,
        "summary": article.summary,
        "content": article.content,
        "author": article.author,
        "source": article.source,
        "tags": tags_to_text(article.tags),
        "content_hash": article.content_hash,
        "key": article.key,
        "status": article.status.value,
        "enclosures": enclosures_to_text(article.enclosures),
    }


def article_from_row(row: Row[Any] | Mapping[str, Any]) -> Article:
    m = row if isinstance(row, Mapping) else row._mapping
    return Article(
        guid=m["guid"],
        slug=m["slug"],
        title=m["title"],
        link=m["link"],
        published=m["published"],
        category=m["category"],
        summary=m["summary"],
        content=m["content"],
        author=m["author"],
        source=m["source"],
        tags=tags_from_text(m["tags"]),
        first_seen=m["first_seen"],
        updated=m["updated"],
        content_hash=m["content_hash"],
        key=m["key"],
        status=ArticleStatus(m["status"]),
        enclosures=enclosures_from_text(m["enclosures"]),
    )


def observation_row(source: str, path: str, position: int, obs: Observation) -> dict[str, Any]:
    return {
        "source": source,
        "path": path,
        "position": position,
        "slug": obs.slug,
        "kind": obs.kind,
        "title": obs.title,
        "published": obs.published,
        "category": obs.category,
        "summary": obs.summary,
        "content": obs.content,
        "author": obs.author,
        "link": obs.link,
        "tags": tags_to_text(obs.tags),
        "key": obs.key,
        "draft": obs.draft,
        "enclosures": enclosures_to_text(obs.enclosures),
    }


def observation_from_row(m: Mapping[str, Any]) -> Observation:
    return Observation(
        slug=m["slug"],
        title=m["title"],
        published=m["published"],
        kind=m["kind"],
        category=m["category"],
        summary=m["summary"],
        content=m["content"],
        author=m["author"],
        link=m["link"],
        tags=tags_from_text(m["tags"]),
        key=m["key"],
        draft=bool(m["draft"]),
        enclosures=enclosures_from_text(m["enclosures"]),
    )
