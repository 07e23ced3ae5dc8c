"""Enclosures as sources state them (RSS ``enclosure``, Atom ``rel="enclosure"``, Media RSS,
JSON Feed ``attachments``, front matter ``enclosure``) made into checked values. Pure."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable, Sequence
from urllib.parse import urljoin, urlsplit

from syndicate.content import strip_control
from syndicate.models import Enclosure

_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*", re.ASCII)
UNKNOWN_TYPE = "application/octet-stream"


def media_type(declared: object, url: str) -> str:
    """The declared type when it is one, else a guess from the URL's file name."""
    text = str(declared).split(";")[0].strip() if isinstance(declared, str) else ""
    if _MEDIA_TYPE.fullmatch(text):
        return text.lower()
    guessed, _ = mimetypes.guess_type(urlsplit(url).path)
    return guessed or UNKNOWN_TYPE


def byte_length(declared: object) -> int:
    """A size in bytes, 0 when absent or not a whole non-negative number."""
    if isinstance(declared, bool):
        return 0
    if isinstance(declared, int):
        return max(declared, 0)
    text = str(declared).strip() if isinstance(declared, str | float) else ""
    return int(text) if text.isascii() and text.isdigit() else 0


def enclosure(url: object, declared_type: object, length: object, base: str) -> Enclosure | None:
    """One enclosure, its URL made absolute against ``base``; None unless that is http(s)."""
    if not isinstance(url, str) or not url.strip() or strip_control(url) != url:
        return None
    absolute = urljoin(base, url.strip()) if base else url.strip()
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in absolute:
        return None
    return Enclosure(absolute, media_type(declared_type, absolute), byte_length(length))


def distinct(found: Iterable[Enclosure | None]) -> tuple[Enclosure, ...]:
    """The enclosures in order, one per URL (the first, or the first with a length)."""
    kept: dict[str, Enclosure] = {}
    for item in found:
        if item is None:
            continue
        held = kept.get(item.url)
        if held is None or (not held.length and item.length):
            kept[item.url] = item
    return tuple(kept.values())


def enclosure_parts(enclosures: Sequence[Enclosure]) -> list[str]:
    """What enclosures add to a hash: nothing when there are none (so hashes from before
    enclosures stay valid)."""
    return [f"enclosure:{e.url} {e.type} {e.length}" for e in enclosures]
