"""content.py: control characters, sanitizing, Markdown, plain text, excerpts, slugs, hashes."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.content import (
    article_guid,
    content_hash,
    excerpt,
    header_safe,
    html_to_text,
    markdown_to_html,
    match_category,
    paragraphs_to_html,
    sanitize_html,
    slugify,
    strip_control,
)

XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


# --- strip_control ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x00b\x01c\x08d", "abcd"),
        ("keep\ttab\nnewline\rcr", "keep\ttab\nnewline\rcr"),
        ("vt\x0bff\x0cesc\x1b", "vtffesc"),
        ("del\x7f c1\x80\x85\x9f", "del c1"),
        ("non\ufffechars\uffff", "nonchars"),
        ("lone\ud800surrogate\udfff", "lonesurrogate"),
        ("ordinary: é ü 日本 😀 \u00a0\u2028", "ordinary: é ü 日本 😀 \u00a0\u2028"),
    ],
)
def test_strip_control(raw: str, clean: str) -> None:
    assert strip_control(raw) == clean


@given(st.text())
def test_strip_control_leaves_no_forbidden_character(text: str) -> None:
    cleaned = strip_control(text)
    assert not XML_FORBIDDEN.search(cleaned)
    assert strip_control(cleaned) == cleaned


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")).filter(lambda c: c < "\ufffe")))
def test_strip_control_keeps_allowed_text(text: str) -> None:
    assert strip_control(text) == text


# --- sanitize_html ------------------------------------------------------------------------


def test_sanitize_keeps_article_markup() -> None:
    markup = (
        "<h2>Head</h2><p>A <em>b</em> <strong>c</strong> <code>d</code> x<sup>2</sup></p>"
        "<ul><li>one</li></ul><blockquote>q</blockquote>"
        '<figure><img src="https://e.com/a.png" alt="A" width="10"><figcaption>c</figcaption>'
        '</figure><table><thead><tr><th scope="col">h</th></tr></thead>'
        '<tbody><tr><td colspan="2">v</td></tr></tbody></table>'
    )
    assert sanitize_html(markup) == markup


def test_sanitize_links_get_rel_and_only_safe_schemes() -> None:
    out = sanitize_html(
        '<a href="https://e.com/x" title="t" target="_blank" rel="opener">ok</a>'
        '<a href="mailto:a@e.com">mail</a>'
        '<a href="javascript:alert(1)">js</a>'
        '<a href="data:text/html;base64,xx">data</a>'
        '<a href="JaVaScRiPt:alert(1)">js2</a>'
    )
    assert '<a href="https://e.com/x" title="t" rel="noopener noreferrer">ok</a>' in out
    assert '<a href="mailto:a@e.com" rel="noopener noreferrer">mail</a>' in out
    assert "javascript" not in out.lower()
    assert "data:" not in out
    assert "target" not in out


def test_sanitize_removes_scripts_handlers_and_unknown_tags() -> None:
    out = sanitize_html(
        '<p onclick="evil()">hi<script>alert(1)</script><style>p{}</style>'
        '<img src="x.png" onerror="evil()"><iframe src="https://e.com">in frame</iframe>'
        '<span class="c" style="color:red">span</span><!-- note --></p>'
    )
    assert out == '<p>hi<img src="x.png">span</p>'


def test_sanitize_strips_controls_before_and_after() -> None:
    # Raw controls, and character references that decode to forbidden characters.
    out = sanitize_html("<p>a\x01b&#1;c&#xFFFE;d\ud800e</p>")
    assert out == "<p>abcde</p>"


_HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//e.com/x.js></SCRIPT>",
        '<img src=x onerror="alert(1)">',
        "<a href='javascript:alert(1)'>x</a>",
        '<a href="  javascript:alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<svg onload="alert(1)">',
        '<p style="x" onmouseover=alert(1)>',
        "<scr<script>ipt>alert(1)</script>",
        '<iframe src="javascript:alert(1)">',
        "<body onload=alert(1)>",
        "<",
        ">",
        "&",
        '"',
        "<p>",
        "</a>",
        "text",
    ]
)


@given(st.lists(st.one_of(_HOSTILE, st.text(max_size=20)), max_size=12).map("".join))
def test_sanitize_never_lets_script_through(markup: str) -> None:
    out = sanitize_html(markup)
    tags, attributes = _markup_of(out)
    assert "script" not in tags
    for name, value in attributes:
        assert not name.startswith("on")
        assert not re.sub(r"\s", "", value).lower().startswith(("javascript:", "data:"))
    assert "<script" not in out.lower()
    assert not XML_FORBIDDEN.search(out)


def _markup_of(html: str) -> tuple[set[str], list[tuple[str, str]]]:
    """The tags and attributes a browser would see in ``html``."""
    tags: set[str] = set()
    attributes: list[tuple[str, str]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.add(tag)
            attributes.extend((name, value or "") for name, value in attrs)

    collector = Collector()
    collector.feed(html)
    collector.close()
    return tags, attributes


# --- paragraphs, Markdown, plain text ---------------------------------------------------


def test_paragraphs_to_html_escapes_and_skips_blanks() -> None:
    html = paragraphs_to_html(["Fish & <chips>", "  ", "two\n  lines\x00"])
    assert html == "<p>Fish &amp; &lt;chips&gt;</p>\n<p>two lines</p>"


def test_markdown_to_html_renders_and_sanitizes() -> None:
    out = markdown_to_html(
        "# Top\n\nSome *stress* and **bold** with [a link](https://e.com/a).\n\n"
        "| k | v |\n|---|---|\n| x | 1 |\n\n"
        "<script>alert(1)</script>\n\n[bad](javascript:alert(1))\n\n- one\n- two\n"
    )
    assert "<h2>Top</h2>" in out  # the page's h1 is the title
    assert "<em>stress</em>" in out and "<strong>bold</strong>" in out
    assert '<a href="https://e.com/a" rel="noopener noreferrer">a link</a>' in out
    assert "<td>x</td>" in out
    assert "<li>one</li>" in out
    assert "<script" not in out
    assert 'href="javascript' not in out


def test_markdown_strips_control_characters() -> None:
    assert markdown_to_html("a\x01b\x7f") == "<p>ab</p>\n"


def test_html_to_text_keeps_paragraphs_and_folds_whitespace() -> None:
    text = html_to_text(
        "<h2>Title</h2><p>One   <b>bold</b>\n  line.</p><p>Two<br>lines &amp; more</p>"
        "<ul><li>first</li><li>second</li></ul><script>var x</script><style>p{}</style>tail"
    )
    assert text == "Title\n\nOne bold line.\n\nTwo\nlines & more\n\n- first\n- second\n\ntail"


def test_html_to_text_of_nothing() -> None:
    assert html_to_text("") == ""
    assert html_to_text("<p> </p><p></p>") == ""


# --- excerpt ------------------------------------------------------------------------------


def test_excerpt_short_text_is_whole() -> None:
    assert excerpt("  A short\n text.  ", 300) == "A short text."


def test_excerpt_keeps_whole_sentences_under_limit() -> None:
    text = "First sentence here. Second one is here! Third makes it too long for the limit."
    assert excerpt(text, 45) == "First sentence here. Second one is here!"
    assert excerpt(text, 40) == "First sentence here."


def test_excerpt_does_not_end_at_abbreviations() -> None:
    text = "Dr. A. Smith and Mr. Jones met e.g. here today. Then they left for a long lunch."
    assert excerpt(text, 60) == "Dr. A. Smith and Mr. Jones met e.g. here today."


def test_excerpt_sentence_end_after_quote() -> None:
    text = 'He said "stop." Then he went on and on and on and on and on and on.'
    assert excerpt(text, 40) == 'He said "stop."'


def test_excerpt_cuts_long_first_sentence_at_word_boundary() -> None:
    text = "word " * 100
    out = excerpt(text, 50)
    assert out.endswith("…")
    assert len(out) < 50
    assert out[:-1].split(" ") == ["word"] * len(out[:-1].split(" "))


def test_excerpt_does_not_leave_dangling_punctuation() -> None:
    out = excerpt("alpha, beta, gamma, delta, epsilon, zeta, eta, theta", 22)
    assert out == "alpha, beta, gamma…"


def test_excerpt_one_giant_word_is_hard_cut() -> None:
    assert excerpt("x" * 50, 10) == "x" * 8 + "…"


def test_excerpt_rejects_a_nonsense_limit() -> None:
    with pytest.raises(ValueError, match="limit"):
        excerpt("x", 0)


@given(st.text(), st.integers(min_value=1, max_value=400))
def test_excerpt_is_always_under_the_limit(text: str, limit: int) -> None:
    out = excerpt(text, limit)
    assert len(out) < limit
    if out and not out.endswith("…"):
        assert " ".join(text.split()).startswith(out)


# --- slugify ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Hello, World!", "hello-world"),
        ("  --Many   spaces &&& symbols--  ", "many-spaces-symbols"),
        ("Café Über naïve", "cafe-uber-naive"),
        ("Straße in Ærø, Łódź", "strasse-in-aero-lodz"),
        ("10 tips for 2025", "10-tips-for-2025"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_slugify_cuts_at_a_dash_boundary() -> None:
    slug = slugify("tremendously " * 10)
    assert len(slug) <= 80
    assert slug.split("-") == ["tremendously"] * 6


def test_slugify_without_any_dash_hard_cuts() -> None:
    assert slugify("x" * 200) == "x" * 80


def test_slugify_falls_back_to_a_stable_hash() -> None:
    assert slugify("日本語") == slugify("日本語")
    assert slugify("日本語") != slugify("中文")
    assert re.fullmatch(r"[0-9a-f]{12}", slugify("日本語"))
    assert slugify("") and slugify("!!!")


@given(st.text())
def test_slugify_is_never_empty_and_url_safe(title: str) -> None:
    slug = slugify(title)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
    assert len(slug) <= 80


# --- headers, hashes, categories, guids --------------------------------------------------


def test_header_safe_removes_line_breaks_and_controls() -> None:
    assert header_safe("Hello\r\nBcc: x@e.com") == "Hello Bcc: x@e.com"
    assert header_safe("  a\tb\x00c\x1b  \u2028 d ") == "a bc d"


@given(st.text())
def test_header_safe_never_has_cr_lf(value: str) -> None:
    out = header_safe(value)
    assert "\r" not in out and "\n" not in out
    assert not XML_FORBIDDEN.search(out)
    assert out == out.strip()


def test_content_hash_is_sha256_and_boundary_safe() -> None:
    assert len(content_hash("a")) == 64
    assert content_hash("a", "b") == content_hash("a", "b")
    assert content_hash("ab", "") != content_hash("a", "b")
    assert content_hash("a") != content_hash("a", "")


RULES = {"Sleep": ["insomnia", "sleep"], "Diet": ["coffee", "sugar"], "Coffee": ["coffee"]}


@pytest.mark.parametrize(
    ("texts", "category"),
    [
        (("Why SLEEP matters",), "Sleep"),
        (("Title", "too much coffee and sugar"), "Diet"),
        (("coffee", "insomnia"), "Sleep"),  # rule order wins, not text order
        (("Sleeping late",), None),  # whole words only
        (("decoffeeinated",), None),
        (("",), None),
    ],
)
def test_match_category(texts: tuple[str, ...], category: str | None) -> None:
    assert match_category(RULES, *texts) == category


def test_match_category_phrases_and_special_characters() -> None:
    rules = {"C": ["c++"], "AI": ["machine learning"], "Empty": ["", "  "]}
    assert match_category(rules, "I write C++ daily") == "C"
    assert match_category(rules, "Machine   learning", "machine learning!") == "AI"
    assert match_category(rules, "nothing") is None


def test_article_guid_is_stable_urn_uuid() -> None:
    guid = article_guid("https://e.com/", "a-post")
    assert guid == article_guid("https://e.com/", "a-post")
    assert guid != article_guid("https://e.com/", "b-post")
    assert guid == f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'https://e.com/a-post')}"
