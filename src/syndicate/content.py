"""Pure text work: control characters, safe HTML, plain text, summaries, slugs, hashes.

Everything that turns untrusted text into markup goes through ``sanitize_html`` here.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import html
import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import nh3

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# C0 controls except TAB/LF/CR, DEL, C1 controls, lone surrogates, U+FFFE and U+FFFF.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def strip_control(text: str) -> str:
    """Remove every character XML 1.0 forbids, plus DEL and the C1 controls."""
    return _FORBIDDEN.sub("", text)


_TABLE_CELL_ATTRS = {"colspan", "rowspan", "scope", "align"}
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_URL_ATTRIBUTES = frozenset({"href", "src"})
# The base the URLs of the markup being cleaned are resolved against ("" = left as they are).
_BASE: contextvars.ContextVar[str] = contextvars.ContextVar("sanitize_base", default="")


def _resolved(value: str, base: str) -> str | None:
    """``value`` made absolute against ``base``; None when it ends up with an unsafe scheme."""
    value = value.strip()
    joined = urljoin(base, value) if base else value
    try:
        scheme = urlsplit(joined).scheme.lower()
    except ValueError:  # e.g. an invalid IPv6 literal
        return None
    if scheme and scheme not in _SAFE_SCHEMES:
        return None
    return joined


def _resolved_srcset(value: str, base: str) -> str | None:
    """Each candidate of a srcset resolved; the unsafe ones dropped (None: none left)."""
    kept = []
    for candidate in value.split(","):
        parts = candidate.split()
        if not parts:
            continue
        url = _resolved(parts[0], base)
        if url is not None and urlsplit(url).scheme in ("", "http", "https"):
            kept.append(" ".join([url, *parts[1:2]]))
    return ", ".join(kept) or None


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute in _URL_ATTRIBUTES:
        return _resolved(value, _BASE.get())
    if attribute == "srcset":
        return _resolved_srcset(value, _BASE.get())
    return value


_ALLOWED_TAGS = (
    "p a em strong b i ul ol li blockquote code pre h2 h3 h4 h5 h6 br hr img figure"
    " figcaption sup sub table caption thead tbody tfoot tr th td"
)
_CLEANER = nh3.Cleaner(
    tags=set(_ALLOWED_TAGS.split()),
    attributes={
        "a": {"href", "title"},
        "img": {"src", "srcset", "sizes", "alt", "title", "width", "height"},
        "th": _TABLE_CELL_ATTRS,
        "td": _TABLE_CELL_ATTRS,
        "ol": {"start"},
    },
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer",
    clean_content_tags={"script", "style", "iframe", "noscript", "template"},
    strip_comments=True,
    attribute_filter=_filter_attribute,
)


def sanitize_html(markup: str, base: str = "") -> str:
    """Untrusted HTML → HTML safe to embed: an allow-list of article tags, safe URLs only
    (srcset included). With ``base``, every relative href, src and srcset URL is made
    absolute against it."""
    # Before: nh3 cannot take lone surrogates. After: character references such as
    # ``&#1;`` decode to forbidden characters.
    token = _BASE.set(base)
    try:
        return strip_control(_CLEANER.clean(strip_control(markup)))
    finally:
        _BASE.reset(token)


# A URL attribute whose value does not start with a scheme: relative (or protocol-relative).
_RELATIVE_HINT = re.compile(r'\s(?:href|src)="(?![a-zA-Z][a-zA-Z0-9+.-]*:)|\ssrcset="', re.ASCII)


def absolute_html(markup: str, base: str) -> str:
    """Sanitized HTML with its relative URLs resolved against ``base`` (unchanged when it
    has none, which is checked first: most content has none)."""
    if not base or not _RELATIVE_HINT.search(markup):
        return markup
    return sanitize_html(markup, base)


def paragraphs_to_html(paragraphs: Sequence[str]) -> str:
    """Plain paragraphs → ``<p>`` elements, each escaped; blank paragraphs are dropped."""
    cleaned = (one_line(p) for p in paragraphs)
    return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in cleaned if p)


@functools.cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt  # on first use: most commands parse no Markdown

    return MarkdownIt("commonmark").enable("table")


def markdown_to_html(text: str) -> str:
    """Markdown (CommonMark + tables) → sanitized HTML.

    A ``# heading`` becomes ``<h2>``: the page's ``<h1>`` is the article title.
    """
    markdown = _markdown()
    tokens = markdown.parse(strip_control(text))
    for token in tokens:
        if token.tag == "h1":
            token.tag = "h2"
    return sanitize_html(markdown.renderer.render(tokens, markdown.options, {}))


_BLOCK_TAG_NAMES = (
    "p div section article header footer h1 h2 h3 h4 h5 h6 ul ol li blockquote pre table tr"
    " figure figcaption hr dl dt dd caption"
)
_BLOCK_TAGS = frozenset(_BLOCK_TAG_NAMES.split())
_SKIP_TAGS = frozenset({"script", "style", "template", "head", "title"})
_LINE_BREAK = "\x00"  # a placeholder that survives whitespace folding; strip_control removed any


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, bool]] = []  # (text, is a list item)
        self._current: list[str] = []
        self._in_item = False
        self._skipping = 0

    def _end_block(self) -> None:
        text = " ".join("".join(self._current).split())
        text = text.replace(f" {_LINE_BREAK}", _LINE_BREAK).replace(f"{_LINE_BREAK} ", _LINE_BREAK)
        text = text.strip(_LINE_BREAK).replace(_LINE_BREAK, "\n")
        if text.strip():
            self.blocks.append((text, self._in_item))
        self._current = []
        self._in_item = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag == "br":
            self._current.append(_LINE_BREAK)
        elif tag in _BLOCK_TAGS:
            self._end_block()
            if tag == "li":
                self._current.append("- ")
                self._in_item = True

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self._end_block()

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._current.append(data)

    def close(self) -> None:
        super().close()
        self._end_block()


def html_to_text(markup: str) -> str:
    """HTML → readable plain text: whitespace folded inside paragraphs, blank line between."""
    parser = _TextExtractor()
    parser.feed(strip_control(markup))
    parser.close()
    parts: list[str] = []
    previous_item = False
    for text, is_item in parser.blocks:
        if parts:
            parts.append("\n" if is_item and previous_item else "\n\n")
        parts.append(text)
        previous_item = is_item
    return strip_control("".join(parts))


# A sentence ends at . ! ? or … (maybe followed by closing quotes/brackets) before a space.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*(?=\s)")
# Words whose period does not end a sentence ("Dr. Smith", "e.g. this").
_ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "prof", "st", "vs", "etc", "e.g", "i.e", "no", "fig", "jr", "sr"}
)
_ELLIPSIS = "…"


def _ends_sentence(text: str, end: int) -> bool:
    """Whether the punctuation just before ``end`` closes a sentence, not an abbreviation."""
    word = text[:end].rstrip("\"'”’)]").rsplit(" ", 1)[-1]
    if not word.endswith("."):
        return True
    stem = word[:-1].lstrip("\"'“‘([").lower()
    return not (stem in _ABBREVIATIONS or (len(stem) == 1 and stem.isalpha()))


def excerpt(text: str, limit: int = 300) -> str:
    """The opening sentences of ``text``, strictly shorter than ``limit`` characters.

    Whitespace is folded. If not even the first sentence fits, it is cut at the last word
    boundary that leaves room for an ellipsis.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    flat = " ".join(text.split())
    if len(flat) < limit:
        return flat
    cut = 0
    for match in _SENTENCE_END.finditer(flat):
        if match.end() >= limit:
            break
        if _ends_sentence(flat, match.end()):
            cut = match.end()
    if cut:
        return flat[:cut]
    if limit < 2:
        return ""
    room = flat[: limit - 2]  # with the ellipsis: limit - 1 characters
    head, space, _ = room.rpartition(" ")
    if space and flat[len(room)] != " ":
        room = head
    return room.rstrip(" ,;:-–—") + _ELLIPSIS


def first_sentence(text: str, limit: int = 100) -> str:
    """The first sentence of ``text``, shorter than ``limit`` (else cut at a word, with an
    ellipsis): a title for what came without one."""
    flat = " ".join(text.split())
    for match in _SENTENCE_END.finditer(flat):
        if _ends_sentence(flat, match.end()):
            flat = flat[: match.end()]
            break
    return excerpt(flat, limit)


# Letters NFKD does not decompose into ASCII.
_TRANSLITERATIONS = "ß:ss æ:ae Æ:ae œ:oe Œ:oe ø:o Ø:o đ:d Đ:d ł:l Ł:l þ:th Þ:th ð:d Ð:d"
_TRANSLITERATE = str.maketrans(dict(pair.split(":") for pair in _TRANSLITERATIONS.split()))
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
SLUG_MAX = 80


def slugify(title: str) -> str:
    """A lowercase ASCII slug (letters, digits, '-'), at most 80 characters, never empty."""
    ascii_text = (
        unicodedata.normalize("NFKD", title.translate(_TRANSLITERATE))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    slug = _NON_ALNUM.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > SLUG_MAX:
        slug = slug[: SLUG_MAX + 1]
        head, dash, _ = slug.rpartition("-")
        slug = head if dash else slug[:SLUG_MAX]
        slug = slug.strip("-")
    if not slug:
        slug = hashlib.sha256(title.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return slug


def one_line(text: str) -> str:
    """Control characters out (CR and LF among them), whitespace runs folded to one space:
    what every title, name, header value and log field of untrusted origin goes through."""
    return " ".join(strip_control(text).split())


def header_safe(value: str) -> str:
    """A value safe for a mail header: one line (no CR/LF, so no header injection)."""
    return one_line(value)


def content_hash(*parts: str) -> str:
    """SHA-256 hex of the parts; each is length-prefixed so boundaries cannot shift."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(f"{len(data)}:".encode())
        digest.update(data)
    return digest.hexdigest()


@functools.lru_cache(maxsize=64)
def _category_patterns(
    rules: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[tuple[str, re.Pattern[str]], ...]:
    compiled = []
    for category, words in rules:
        alternatives = "|".join(re.escape(w.strip()) for w in words if w.strip())
        if alternatives:
            compiled.append(
                (category, re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE))
            )
    return tuple(compiled)


def match_category(rules: Mapping[str, Sequence[str]], *texts: str) -> str | None:
    """The first category (in rule order) one of whose words is a whole word in the texts."""
    key = tuple((category, tuple(words)) for category, words in rules.items())
    haystack = "\n".join(texts)
    for category, pattern in _category_patterns(key):
        if pattern.search(haystack):
            return category
    return None


def article_guid(site_url: str, slug: str) -> str:
    """A stable guid for an article (not a permalink): ``urn:uuid:`` + uuid5 of the URL."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, site_url + slug)}"


def article_guid_in(guid: str, where: str) -> str:
    """Another stable guid, for when ``guid`` is another article's already."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, guid + '#' + where)}"
