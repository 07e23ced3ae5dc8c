"""The folder source: article files (.txt in the article text format, .md with front matter).

Parsing is pure (bytes in, observations out); listing the folder is in folder_scan. An error
names the line and what is wrong, never quoting the file (it may be no article at all).
"""

from __future__ import annotations

import codecs
import re
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml
from frontmatter.default_handlers import YAMLHandler

from syndicate.content import markdown_to_html, one_line, paragraphs_to_html, slugify, strip_control
from syndicate.errors import SourceError
from syndicate.models import Enclosure, Observation
from syndicate.sources.enclosures import byte_length, media_type
from syndicate.sources.folder_scan import ARTICLE_SUFFIXES, MARKDOWN_SUFFIXES, TEXT_SUFFIXES

WRITTEN_BY = "written by"
CONTINUE_READING = "continue reading"
READ_ARTICLE = "read article"
CARD_LINES = 5


class ParseError(SourceError, ValueError):
    """What is wrong with an article file, in one line (the caller prefixes the file name)."""


YEARS = (1900, 2200)  # the default range of article dates (gather.earliest_year / latest_year)


def parse_file(
    name: str, data: bytes, *, tz: ZoneInfo, max_size: int, years: tuple[int, int] = YEARS
) -> list[Observation]:
    """Parse one article file into its observations: the full text first, then teasers."""
    text = _decode(data, max_size)
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        return _check_years([_parse_markdown(text, tz)], years)
    if suffix in TEXT_SUFFIXES:
        return _check_years(_parse_text(text, tz), years)
    raise ParseError(f"not an article file (expected one of {', '.join(sorted(ARTICLE_SUFFIXES))})")


def _check_years(found: list[Observation], years: tuple[int, int]) -> list[Observation]:
    earliest, latest = years
    for number, obs in enumerate(found):
        if not earliest <= obs.published.year <= latest:
            where = f"teaser card {number}: " if number else ""
            raise ParseError(
                f"{where}date out of range: year {obs.published.year} "
                f"(articles are dated {earliest} to {latest})"
            )
    return found


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


def parse_date(value: str, tz: ZoneInfo) -> datetime:
    """``November 15, 2025``, ``Nov 15, 2025``, ``2025-11-15`` (midnight in ``tz``) or an ISO
    date-time (naive ones are taken in ``tz``). Raises ParseError (not quoting the value)."""
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
            "unreadable date (expected e.g. 'November 15, 2025' or '2025-11-15')"
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


Line = tuple[int, str]  # (1-based line number, text with its spaces collapsed)


def _dated(number: int, value: str, tz: ZoneInfo) -> datetime:
    try:
        return parse_date(value, tz)
    except ParseError as exc:
        raise ParseError(f"line {number}: {exc}") from None


def _parse_text(text: str, tz: ZoneInfo) -> list[Observation]:
    lines = [(n, " ".join(line.split())) for n, line in enumerate(text.split("\n"), 1)]
    filled = [i for i, (_, line) in enumerate(lines) if line]
    if len(filled) < 2:
        raise ParseError("missing date line (expected: title, blank line, date, body)")
    (_, title), (date_number, date_line) = lines[filled[0]], lines[filled[1]]
    if _is_date(title, tz) and not _is_date(date_line, tz):
        raise ParseError(f"line {lines[filled[0]][0]}: missing title (the file starts with a date)")
    published = _dated(date_number, date_line, tz)
    rest = lines[filled[1] + 1 :]
    body_end = next(
        (i for i, (_, line) in enumerate(rest) if line.lower() in (WRITTEN_BY, CONTINUE_READING)),
        len(rest),
    )
    paragraphs = _paragraphs([line for _, line in rest[:body_end]])
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


def _author_and_cards(lines: list[Line]) -> tuple[str, list[Line]]:
    """Split the tail after the body into the author and the teaser card lines."""
    filled = [(n, line) for n, line in lines if line]
    author = ""
    if filled and filled[0][1].lower() == WRITTEN_BY:
        if len(filled) < 2 or filled[1][1].lower() == CONTINUE_READING:
            raise ParseError(f"line {filled[0][0]}: 'Written by' is not followed by an author line")
        author, filled = filled[1][1], filled[2:]
    if not filled:
        return author, []
    if filled[0][1].lower() != CONTINUE_READING:
        raise ParseError(
            f"line {filled[0][0]}: unexpected text after the author line "
            "(expected 'Continue reading' and teaser cards, or the end)"
        )
    return author, filled[1:]


def _teasers(lines: list[Line], tz: ZoneInfo) -> list[Observation]:
    teasers = []
    for start in range(0, len(lines), CARD_LINES):
        number = start // CARD_LINES + 1
        card = lines[start : start + CARD_LINES]
        try:
            teasers.append(_teaser(card, tz))
        except ParseError as exc:
            raise ParseError(f"teaser card {number}: {exc}") from None
    return teasers


def _teaser(card: list[Line], tz: ZoneInfo) -> Observation:
    texts = [line for _, line in card]
    early_end = next((i for i, line in enumerate(texts) if line.lower() == READ_ARTICLE), None)
    if early_end is not None and early_end < CARD_LINES - 1:
        raise ParseError(
            f"line {card[early_end][0]}: 'Read article' after only {early_end} lines "
            "(expected date, category, title, summary, 'Read article')"
        )
    if len(card) < CARD_LINES:
        raise ParseError(
            f"incomplete: {len(card)} of {CARD_LINES} lines "
            "(expected date, category, title, summary, 'Read article')"
        )
    date_line, category, title, summary, end = texts
    if end.lower() != READ_ARTICLE:
        raise ParseError(f"line {card[-1][0]}: expected 'Read article'")
    return Observation(
        slug=slugify(title),
        title=title,
        published=_dated(card[0][0], date_line, tz),
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
        raise ParseError("front matter 'url' must be an absolute http(s) URL")
    # The front matter's slug is the article's key (and its page); a teaser card still finds
    # the article by its title.
    key = _meta_text(meta, "slug")
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
        key=slugify(key) if key else "",
        draft=_meta_flag(meta, "draft"),
        enclosures=_meta_enclosures(meta),
    )


def front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The YAML front matter and the body of a Markdown text; ParseError says what is wrong
    in one line (announcements read theirs with it too)."""
    return _front_matter(text)


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
        raise ParseError(f"front matter '{key}' must be text, not {_kind(value)}")
    return one_line(str(value))


def _meta_date(meta: dict[str, Any], tz: ZoneInfo) -> datetime:
    value = meta.get("date")
    if value is None or value == "":
        raise ParseError("missing date (the front matter needs 'date:')")
    if isinstance(value, datetime):
        return _aware(value, tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz)
    if isinstance(value, str):
        try:
            return parse_date(value, tz)
        except ParseError as exc:
            raise ParseError(f"front matter 'date': {exc}") from None
    raise ParseError(f"front matter 'date' must be a date, not {_kind(value)}")


def _kind(value: object) -> str:
    return {list: "a list", dict: "a mapping", bool: "true/false"}.get(type(value), "a value")


def _meta_flag(meta: dict[str, Any], key: str) -> bool:
    value = meta.get(key, False)
    if value is None or isinstance(value, bool):
        return bool(value)
    raise ParseError(f"front matter '{key}' must be true or false, not {_kind(value)}")


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
    tags = (one_line(str(item)) for item in items if item is not None)
    return tuple(dict.fromkeys(tag for tag in tags if tag))


def _meta_enclosures(meta: dict[str, Any]) -> tuple[Enclosure, ...]:
    """``enclosure: {url, type, length}`` (or a list of them). The url is absolute http(s)
    or a path, which the merge resolves against the article's link."""
    value = meta.get("enclosure", meta.get("enclosures"))
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    found: list[Enclosure] = []
    for item in items:
        url = item.get("url") if isinstance(item, dict) else None
        if not isinstance(url, str) or not url.strip() or strip_control(url) != url:
            raise ParseError("front matter 'enclosure' needs a url: {url, type, length}")
        scheme = urlsplit(url.strip()).scheme
        if scheme and scheme not in ("http", "https"):
            raise ParseError("front matter 'enclosure' url must be http(s) or a path")
        length = item.get("length")
        if length is not None and byte_length(length) == 0 and str(length).strip() != "0":
            raise ParseError("front matter 'enclosure' length must be a number of bytes")
        found.append(Enclosure(url.strip(), media_type(item.get("type"), url), byte_length(length)))
    return tuple(found)
