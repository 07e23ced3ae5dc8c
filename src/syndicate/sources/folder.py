"""The folder source: article files (.txt in the article text format, .md with front matter).

Parsing is pure (bytes in, observations out); ``scan_folder`` is the only I/O here.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml
from frontmatter.default_handlers import YAMLHandler

from syndicate.content import markdown_to_html, paragraphs_to_html, slugify, strip_control
from syndicate.models import Observation

TEXT_SUFFIXES = frozenset({".txt"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
ARTICLE_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES

WRITTEN_BY = "written by"
CONTINUE_READING = "continue reading"
READ_ARTICLE = "read article"
CARD_LINES = 5


class ParseError(ValueError):
    """What is wrong with an article file, in one line (the caller prefixes the file name)."""


@dataclass(frozen=True, slots=True)
class FileStat:
    relpath: str  # '/'-separated, relative to the scanned root
    size: int
    mtime_ns: int


def scan_folder(root: Path) -> list[FileStat]:
    """Every article file under ``root``, recursively, sorted by path; hidden ones skipped."""
    found: list[FileStat] = []
    pending = [(os.fspath(root), "")]
    while pending:
        directory, prefix = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                relpath = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, relpath + "/"))
                elif os.path.splitext(entry.name)[1].lower() in ARTICLE_SUFFIXES:
                    stat = _stat_file(entry)
                    if stat is not None:
                        found.append(FileStat(relpath, stat.st_size, stat.st_mtime_ns))
    found.sort(key=lambda f: f.relpath)
    return found


def _stat_file(entry: os.DirEntry[str]) -> os.stat_result | None:
    try:
        if not entry.is_file():
            return None
        return entry.stat()
    except FileNotFoundError:  # a dangling symlink, or removed while we looked
        return None


def parse_file(name: str, data: bytes, *, tz: ZoneInfo, max_size: int) -> list[Observation]:
    """Parse one article file into its observations: the full text first, then teasers."""
    text = _decode(data, max_size)
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        return [_parse_markdown(text, tz)]
    if suffix in TEXT_SUFFIXES:
        return _parse_text(text, tz)
    raise ParseError(f"not an article file (expected one of {', '.join(sorted(ARTICLE_SUFFIXES))})")


def _decode(data: bytes, max_size: int) -> str:
    if len(data) > max_size:
        raise ParseError(f"file is {len(data)} bytes, more than the limit of {max_size}")
    offset = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[offset:].decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[offset + exc.start]
        raise ParseError(
            f"not UTF-8: byte 0x{bad:02x} at offset {offset + exc.start} cannot be decoded"
        ) from None
    text = strip_control(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise ParseError("file is empty")
    return text


# --- dates ------------------------------------------------------------------------------

_MONTH_NAMES = (
    "january jan|february feb|march mar|april apr|may|june jun|july jul|august aug"
    "|september sep sept|october oct|november nov|december dec"
)
_MONTHS = {
    name: number
    for number, names in enumerate(_MONTH_NAMES.split("|"), start=1)
    for name in names.split()
}
_MONTH_DAY_YEAR = re.compile(r"([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})", re.ASCII)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)


def _quote(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


def parse_date(value: str, tz: ZoneInfo) -> datetime:
    """``November 15, 2025``, ``Nov 15, 2025``, ``2025-11-15`` (midnight in ``tz``) or an ISO
    date-time (naive ones are taken in ``tz``). Raises ParseError quoting a bad value."""
    value = value.strip()
    year, month, day = 0, 0, 0
    if match := _MONTH_DAY_YEAR.fullmatch(value):
        month = _MONTHS.get(match[1].lower(), 0)
        day, year = int(match[2]), int(match[3])
    elif match := _ISO_DATE.fullmatch(value):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    else:
        try:
            return _aware(datetime.fromisoformat(value), tz)
        except ValueError:
            pass
    try:
        return datetime(year, month, day, tzinfo=tz)
    except ValueError:
        raise ParseError(
            f"unreadable date {_quote(value)} (expected e.g. 'November 15, 2025' or '2025-11-15')"
        ) from None


def _aware(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _is_date(line: str, tz: ZoneInfo) -> bool:
    try:
        parse_date(line, tz)
    except ParseError:
        return False
    return True


# --- the article text format --------------------------------------------------------------


def _parse_text(text: str, tz: ZoneInfo) -> list[Observation]:
    lines = [" ".join(line.split()) for line in text.split("\n")]
    filled = [i for i, line in enumerate(lines) if line]
    if len(filled) < 2:
        raise ParseError("missing date line (expected: title, blank line, date, body)")
    title, date_line = lines[filled[0]], lines[filled[1]]
    if _is_date(title, tz) and not _is_date(date_line, tz):
        raise ParseError(f"missing title (the file starts with the date {_quote(title)})")
    published = parse_date(date_line, tz)
    rest = lines[filled[1] + 1 :]
    body_end = next(
        (i for i, line in enumerate(rest) if line.lower() in (WRITTEN_BY, CONTINUE_READING)),
        len(rest),
    )
    paragraphs = _paragraphs(rest[:body_end])
    if not paragraphs:
        raise ParseError("no body (expected paragraphs after the date line)")
    author, cards = _author_and_cards(rest[body_end:])
    full = Observation(
        slug=slugify(title),
        title=title,
        published=published,
        kind="full",
        content=paragraphs_to_html(paragraphs),
        author=author,
    )
    return [full, *_teasers(cards, tz)]


def _paragraphs(lines: list[str]) -> list[str]:
    paragraphs: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    return paragraphs


def _author_and_cards(lines: list[str]) -> tuple[str, list[str]]:
    """Split the tail after the body into the author and the teaser card lines."""
    filled = [line for line in lines if line]
    author = ""
    if filled and filled[0].lower() == WRITTEN_BY:
        if len(filled) < 2 or filled[1].lower() == CONTINUE_READING:
            raise ParseError("'Written by' is not followed by an author line")
        author, filled = filled[1], filled[2:]
    if not filled:
        return author, []
    if filled[0].lower() != CONTINUE_READING:
        raise ParseError(f"unexpected text after the author line: {_quote(filled[0])}")
    return author, filled[1:]


def _teasers(lines: list[str], tz: ZoneInfo) -> list[Observation]:
    teasers = []
    for start in range(0, len(lines), CARD_LINES):
        number = start // CARD_LINES + 1
        card = lines[start : start + CARD_LINES]
        try:
            teasers.append(_teaser(card, tz))
        except ParseError as exc:
            raise ParseError(f"teaser card {number}: {exc}") from None
    return teasers


def _teaser(card: list[str], tz: ZoneInfo) -> Observation:
    early_end = next((i for i, line in enumerate(card) if line.lower() == READ_ARTICLE), None)
    if early_end is not None and early_end < CARD_LINES - 1:
        raise ParseError(
            f"'Read article' after only {early_end} lines "
            "(expected date, category, title, summary, 'Read article')"
        )
    if len(card) < CARD_LINES:
        raise ParseError(
            f"incomplete: {len(card)} of {CARD_LINES} lines "
            "(expected date, category, title, summary, 'Read article')"
        )
    date_line, category, title, summary, end = card
    if end.lower() != READ_ARTICLE:
        raise ParseError(f"expected 'Read article', found {_quote(end)}")
    return Observation(
        slug=slugify(title),
        title=title,
        published=parse_date(date_line, tz),
        kind="teaser",
        category=category,
        summary=summary,
    )


# --- Markdown with front matter -----------------------------------------------------------

_YAML = YAMLHandler()
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


def _parse_markdown(text: str, tz: ZoneInfo) -> Observation:
    meta, body = _front_matter(text)
    title = _meta_text(meta, "title")
    if not title:
        raise ParseError("missing title (the front matter needs 'title:')")
    published = _meta_date(meta, tz)
    link = _meta_text(meta, "url")
    if link and urlsplit(link).scheme not in ("http", "https"):
        raise ParseError(f"'url' must be an absolute http(s) URL, not {_quote(link)}")
    # Articles are one by title (a teaser names its article by title); a front-matter slug
    # only shapes the link, kept relative here and joined to the site URL when merged.
    path = _meta_text(meta, "slug")
    if path and not link:
        link = slugify(path)
    content = markdown_to_html(body)
    if not content.strip():
        raise ParseError("no body (expected Markdown after the front matter)")
    return Observation(
        slug=slugify(title),
        title=title,
        published=published,
        kind="full",
        category=_meta_text(meta, "category"),
        summary=_meta_text(meta, "summary"),
        content=content,
        author=_meta_text(meta, "author"),
        link=link,
        tags=_meta_tags(meta),
    )


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    if not _YAML.detect(text):
        raise ParseError("no front matter (a Markdown article starts with '---', title and date)")
    try:
        raw, body = _YAML.split(text)
    except ValueError:
        raise ParseError("front matter is not closed by a '---' line") from None
    try:
        meta = yaml.load(raw, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise ParseError(f"bad YAML front matter: {_yaml_problem(exc)}") from None
    except ValueError as exc:  # a well-formed but impossible timestamp, e.g. 2025-13-45
        raise ParseError(f"bad YAML front matter: {exc}") from None
    except RecursionError:
        raise ParseError("bad YAML front matter: nested too deeply") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ParseError("front matter is not a mapping of 'key: value' lines")
    return meta, body


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        # The front matter text starts on the opening '---' line, so its 0-based line
        # number is the file's 1-based one, less one.
        where = f" at line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
        return f"{exc.problem}{where}"
    return " ".join(str(exc).split())


def _meta_text(meta: dict[str, Any], key: str) -> str:
    value = meta.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float | date):
        raise ParseError(f"front matter '{key}' must be text, not {_quote(repr(value))}")
    return " ".join(strip_control(str(value)).split())


def _meta_date(meta: dict[str, Any], tz: ZoneInfo) -> datetime:
    value = meta.get("date")
    if value is None or value == "":
        raise ParseError("missing date (the front matter needs 'date:')")
    if isinstance(value, datetime):
        return _aware(value, tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz)
    if isinstance(value, str):
        return parse_date(value, tz)
    raise ParseError(f"unreadable date {_quote(str(value))}")


def _meta_tags(meta: dict[str, Any]) -> tuple[str, ...]:
    value = meta.get("tags")
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, list):
        items = value
    else:
        raise ParseError("front matter 'tags' must be a list or a comma-separated string")
    tags = (" ".join(strip_control(str(item)).split()) for item in items if item is not None)
    return tuple(dict.fromkeys(tag for tag in tags if tag))
