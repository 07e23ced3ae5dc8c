"""The W3C Feed Validation Service's rules our feeds must meet, as offline checks.

``check_rss``, ``check_atom`` and ``check_json_feed`` take a feed's bytes and raise
AssertionError with a message naming the broken rule (and the item); they return the parsed
document (lxml root, or the JSON object) so a test can look further.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any, NoReturn
from urllib.parse import urlsplit

import feedparser
from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
DC = "{http://purl.org/dc/elements/1.1/}"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
RSS_MEDIA_TYPE = "application/rss+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"

# XML 1.0 forbids these; DEL and the C1 controls are "discouraged" and never wanted either.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_CHAR_REF = re.compile(r"&#(x[0-9a-fA-F]+|[0-9]+);")
_RFC822 = re.compile(
    r"(?P<dow>Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov"
    r"|Dec) \d{4} \d{2}:\d{2}:\d{2} ([+-]\d{4}|GMT|UT)"
)
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_MIME = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*")
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _fail(message: str) -> NoReturn:
    raise AssertionError(message)


def _check_chars(text: str, where: str) -> None:
    found = _FORBIDDEN.search(text)
    if found:
        _fail(f"{where}: forbidden character U+{ord(found.group()):04X}")
    for ref in _CHAR_REF.finditer(text):
        value = ref.group(1)
        char = chr(int(value[1:], 16) if value.startswith("x") else int(value))
        if _FORBIDDEN.fullmatch(char):
            _fail(f"{where}: character reference to forbidden U+{ord(char):04X}")


def _parse_xml(data: bytes, kind: str) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AssertionError(f"{kind}: not UTF-8: {exc}") from None
    _check_chars(text, kind)
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise AssertionError(f"{kind}: not well-formed XML: {exc}") from None
    parsed = feedparser.parse(data)
    if parsed.bozo:
        _fail(f"{kind}: feedparser reports a problem: {parsed.bozo_exception!r}")
    return root


def _xml_base(element: Any) -> str | None:
    while element is not None:
        if element.get(XML_BASE):
            return str(element.get(XML_BASE))
        element = element.getparent()
    return None


def _text(element: Any, path: str) -> str:
    found = element.find(path)
    return "" if found is None or found.text is None else str(found.text)


def _require_text(element: Any, path: str, where: str) -> str:
    value = _text(element, path).strip()
    if not value:
        _fail(f"{where}: missing or blank <{path}>")
    return value


def _check_url(value: str | None, where: str) -> None:
    parts = urlsplit(value or "")
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in (value or ""):
        _fail(f"{where}: not an absolute http(s) URL: {value!r}")


def _check_uri(value: str, where: str) -> None:
    if not _URI.fullmatch(value):
        _fail(f"{where}: not a URI: {value!r}")
    if value.lower().startswith("urn:uuid:"):
        try:
            uuid.UUID(value[9:])
        except ValueError:
            _fail(f"{where}: malformed urn:uuid: {value!r}")


def _check_rfc822(value: str, where: str) -> None:
    match = _RFC822.fullmatch(value)
    if not match:
        _fail(f"{where}: not an RFC 822 date with a time zone: {value!r}")
    date = parsedate_to_datetime(value)
    if date.strftime("%a") != match.group("dow"):
        _fail(f"{where}: wrong day of the week in {value!r}")


def _check_rfc3339(value: object, where: str) -> None:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        _fail(f"{where}: not an RFC 3339 date with a time zone: {value!r}")
    datetime.fromisoformat(str(value))


def _check_self_link(link: Any, media_type: str, where: str) -> None:
    if link is None:
        _fail(f"{where}: no rel='self' link")
    _check_url(link.get("href"), f"{where} self link")
    if link.get("type") != media_type:
        _fail(f"{where}: self link type {link.get('type')!r}, expected {media_type!r}")


def _check_unique(ids: list[str], kind: str, what: str = "duplicate id") -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            _fail(f"{kind}: {what} {value!r}")
        seen.add(value)


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src", "cite", "poster", "background") and value is not None:
                self.found.append(value)
            elif name == "srcset" and value:
                self.found.extend(c.split()[0] for c in value.split(",") if c.split())


def relative_references(markup: str) -> list[str]:
    """The references in HTML that are not absolute (no scheme): what ContainsRelRef finds."""
    parser = _References()
    parser.feed(markup)
    parser.close()
    return [ref for ref in parser.found if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", ref.strip())]


def _check_no_relative_refs(markup: str | None, where: str, base: str | None = None) -> None:
    """W3C ContainsRelRef: relative references in content and no xml:base to resolve them."""
    if not markup or base:
        return
    found = relative_references(markup)
    if found:
        _fail(f"{where}: relative reference {found[0]!r} in content (W3C ContainsRelRef)")


def _check_enclosure(url: str | None, kind: str | None, length: str | None, where: str) -> None:
    """The W3C validator's enclosure rules: url, length and type all given (RSS requires them,
    podcast apps need them in Atom too), an absolute http(s) URL, a whole number of bytes,
    a MIME type."""
    for name, value in (("url", url), ("length", length), ("type", kind)):
        if value is None or not value.strip():
            _fail(f"{where}: enclosure without {name} (W3C MissingAttribute)")
    _check_url(url, f"{where} enclosure url")
    if not (length or "").isdigit():
        _fail(f"{where}: enclosure length {length!r} is not a number of bytes")
    if not _MIME.fullmatch(kind or ""):
        _fail(f"{where}: enclosure type {kind!r} is not a MIME type")


# --- RSS 2.0 -----------------------------------------------------------------------------


def _check_rss_item(item: Any, where: str) -> str:
    if not (_text(item, "title").strip() or _text(item, "description").strip()):
        _fail(f"{where}: needs a title or a description")
    guid = item.find("guid")
    if guid is None or not (guid.text or "").strip():
        _fail(f"{where}: no guid")
    if guid.get("isPermaLink", "true") == "true":
        _check_url(guid.text, f"{where} guid (isPermaLink)")
    else:
        _check_uri(guid.text, f"{where} guid")
    _check_rfc822(_require_text(item, "pubDate", where), f"{where} pubDate")
    if item.find("link") is not None:
        _check_url(_text(item, "link"), f"{where} link")
    if item.find("author") is not None and "@" not in _text(item, "author"):
        _fail(f"{where}: <author> must be an e-mail address")
    for tag in ("category", f"{DC}creator"):
        for element in item.findall(tag):
            if not (element.text or "").strip():
                _fail(f"{where}: blank <{tag}>")
    enclosures = item.findall("enclosure")
    if len(enclosures) > 1:
        _fail(f"{where}: more than one <enclosure> (W3C DuplicateEnclosure)")
    for element in enclosures:
        _check_enclosure(element.get("url"), element.get("type"), element.get("length"), where)
    for tag in ("description", f"{CONTENT}encoded"):
        for element in item.findall(tag):
            _check_no_relative_refs(element.text, f"{where} <{tag}>", _xml_base(element))
    return str(guid.text)


def check_rss(data: bytes) -> Any:
    """RSS 2.0 as the W3C validator wants it; returns the lxml root."""
    root = _parse_xml(data, "RSS")
    if root.tag != "rss" or root.get("version") != "2.0":
        _fail(f"RSS: root is <{root.tag} version={root.get('version')!r}>, not <rss version=2.0>")
    channel = root.find("channel")
    if channel is None:
        _fail("RSS: no <channel>")
    _require_text(channel, "title", "RSS channel")
    _require_text(channel, "description", "RSS channel")
    _check_url(_require_text(channel, "link", "RSS channel"), "RSS channel link")
    _check_self_link(
        channel.find(f"{ATOM}link[@rel='self']"), RSS_MEDIA_TYPE, "RSS channel atom:link"
    )
    for tag in ("lastBuildDate", "pubDate"):
        if channel.find(tag) is not None:
            _check_rfc822(_text(channel, tag), f"RSS channel {tag}")
    if channel.find("language") is not None and not _LANGUAGE.fullmatch(_text(channel, "language")):
        _fail(f"RSS channel: bad language {_text(channel, 'language')!r}")
    guids = [_check_rss_item(item, f"RSS item {n}") for n, item in enumerate(channel.iter("item"))]
    _check_unique(guids, "RSS guid")
    return root


# --- Atom 1.0 ----------------------------------------------------------------------------


def _check_atom_text(element: Any, where: str) -> None:
    kind = element.get("type", "text")
    if kind not in ("text", "html", "xhtml") and "/" not in kind:
        _fail(f"{where}: bad type {kind!r}")


def _check_atom_common(element: Any, where: str) -> None:
    _check_uri(_require_text(element, f"{ATOM}id", where), f"{where} id")
    _require_text(element, f"{ATOM}title", where)
    _check_rfc3339(_require_text(element, f"{ATOM}updated", where), f"{where} updated")
    for link in element.findall(f"{ATOM}link"):
        if not link.get("href"):
            _fail(f"{where}: <link> without href")
    for category in element.findall(f"{ATOM}category"):
        if not (category.get("term") or "").strip():
            _fail(f"{where}: <category> without term")
    for tag in ("title", "subtitle", "summary", "content", "rights"):
        for text in element.findall(f"{ATOM}{tag}"):
            _check_atom_text(text, f"{where} <{tag}>")
            if text.get("type") == "html":
                _check_no_relative_refs(text.text, f"{where} <{tag}>", _xml_base(text))


def _has_author(element: Any) -> bool:
    return any(_text(a, f"{ATOM}name").strip() for a in element.findall(f"{ATOM}author"))


def _check_atom_entry(entry: Any, where: str, feed_has_author: bool) -> str:
    _check_atom_common(entry, where)
    if entry.find(f"{ATOM}published") is not None:
        _check_rfc3339(_text(entry, f"{ATOM}published"), f"{where} published")
    if not (feed_has_author or _has_author(entry)):
        _fail(f"{where}: no author here nor at feed level")
    links = entry.findall(f"{ATOM}link")
    alternates = [ln for ln in links if ln.get("rel", "alternate") == "alternate"]
    for link in alternates:
        _check_url(link.get("href"), f"{where} alternate link")
    for link in links:
        if link.get("rel") == "enclosure":
            _check_enclosure(link.get("href"), link.get("type"), link.get("length"), where)
    if entry.find(f"{ATOM}content") is None and not alternates:
        _fail(f"{where}: needs content or an alternate link")
    return _text(entry, f"{ATOM}id")


def check_atom(data: bytes) -> Any:
    """Atom 1.0 (RFC 4287) as the W3C validator wants it; returns the lxml root."""
    root = _parse_xml(data, "Atom")
    if root.tag != f"{ATOM}feed":
        _fail(f"Atom: root is <{root.tag}>, not an Atom <feed>")
    _check_atom_common(root, "Atom feed")
    _check_self_link(root.find(f"{ATOM}link[@rel='self']"), ATOM_MEDIA_TYPE, "Atom feed")
    feed_has_author = _has_author(root)
    ids = [
        _check_atom_entry(entry, f"Atom entry {n}", feed_has_author)
        for n, entry in enumerate(root.findall(f"{ATOM}entry"))
    ]
    _check_unique(ids, "Atom entry")
    updated = [_text(entry, f"{ATOM}updated") for entry in root.findall(f"{ATOM}entry")]
    _check_unique(updated, "Atom entry updated (W3C DuplicateUpdated)", "two entries share")
    return root


# --- JSON Feed 1.1 -----------------------------------------------------------------------


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, f"{where} key")
            yield from _strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _strings(item, f"{where}[{n}]")


def _check_json_string(doc: dict[str, Any], key: str, where: str, *, required: bool) -> None:
    if key not in doc:
        if required:
            _fail(f"{where}: missing {key!r}")
        return
    if not isinstance(doc[key], str) or (required and not doc[key].strip()):
        _fail(f"{where}: {key!r} must be a non-blank string")


def _check_authors(doc: dict[str, Any], where: str) -> None:
    authors = doc.get("authors", [])
    if not isinstance(authors, list):
        _fail(f"{where}: 'authors' must be a list")
    for author in authors:
        if not isinstance(author, dict) or not any(author.get(k) for k in ("name", "url")):
            _fail(f"{where}: an author needs a name or url: {author!r}")


def _check_json_item(item: Any, where: str) -> str:
    if not isinstance(item, dict):
        _fail(f"{where}: not an object")
    _check_json_string(item, "id", where, required=True)
    if not any(isinstance(item.get(k), str) for k in ("content_html", "content_text")):
        _fail(f"{where}: needs content_html or content_text")
    for key in ("title", "summary", "content_html", "content_text"):
        _check_json_string(item, key, where, required=False)
    if "url" in item:
        _check_url(item["url"], f"{where} url")
    _check_no_relative_refs(item.get("content_html"), f"{where} content_html")
    for key in ("date_published", "date_modified"):
        if key in item:
            _check_rfc3339(item[key], f"{where} {key}")
    for attachment in item.get("attachments", []):
        if not isinstance(attachment, dict):
            _fail(f"{where}: an attachment is not an object")
        _check_url(attachment.get("url"), f"{where} attachment url")
        if not _MIME.fullmatch(str(attachment.get("mime_type", ""))):
            _fail(f"{where}: attachment without a MIME type")
        size = attachment.get("size_in_bytes", 0)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            _fail(f"{where}: attachment size_in_bytes {size!r} is not a number of bytes")
    tags = item.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        _fail(f"{where}: 'tags' must be a list of non-blank strings")
    _check_authors(item, where)
    return str(item["id"])


def check_json_feed(data: bytes) -> dict[str, Any]:
    """JSON Feed 1.1 as its spec wants it; returns the parsed object."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AssertionError(f"JSON Feed: not UTF-8 JSON: {exc}") from None
    if not isinstance(doc, dict):
        _fail("JSON Feed: top level is not an object")
    for where, text in _strings(doc, "JSON Feed"):
        _check_chars(text, where)
    if doc.get("version") != JSON_FEED_VERSION:
        _fail(f"JSON Feed: version {doc.get('version')!r}, expected {JSON_FEED_VERSION!r}")
    _check_json_string(doc, "title", "JSON Feed", required=True)
    for key in ("home_page_url", "feed_url"):
        if key in doc:
            _check_url(doc[key], f"JSON Feed {key}")
    _check_authors(doc, "JSON Feed")
    for hub in doc.get("hubs", []):
        if not (isinstance(hub, dict) and hub.get("type") and hub.get("url")):
            _fail(f"JSON Feed: a hub needs type and url: {hub!r}")
    items = doc.get("items")
    if not isinstance(items, list):
        _fail("JSON Feed: 'items' must be a list")
    ids = [_check_json_item(item, f"JSON Feed item {n}") for n, item in enumerate(items)]
    _check_unique(ids, "JSON Feed item")
    return doc
