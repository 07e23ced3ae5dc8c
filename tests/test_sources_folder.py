"""sources/folder.py: the article text format, Markdown with front matter, scanning a folder."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.models import Observation
from syndicate.sources import (
    ARTICLE_SUFFIXES,
    FileStat,
    ParseError,
    parse_date,
    parse_file,
    scan_folder,
)
from syndicate.sources.folder_scan import read_regular_file

TZ = ZoneInfo("America/New_York")
MAX = 100_000

LONG_LINE = (  # a paragraph on one long line
    "Compost is slow. It rewards patience more than effort, and a heap left alone "
    "for a season will do most of the work by itself."
)
ARTICLE = f"""The quiet art of compost

March 3, 2024

{LONG_LINE}

Turn it once a month if you like.
Keep it damp, not wet.

Written by
Jane Example
Continue reading
April 2, 2025
Gardening
Raised beds for small yards
Three boards and a weekend are enough to start a raised bed.
Read article
Feb 20, 2025
Kitchen
Soup from scraps
Vegetable peels make a stock worth keeping.
Read article"""  # no final newline, on purpose

MARKDOWN = """---
title: Fixing a squeaky door
date: 2024-06-01
category: Home
summary: Five minutes and a drop of oil.
author: Sam Writer
tags: [repair, doors]
---
# Why it squeaks

Hinges dry out. A *drop* of oil fixes it, see [the guide](https://e.com/guide).
"""


def parse(text: str | bytes, name: str = "a.txt", max_size: int = MAX) -> list[Observation]:
    data = text.encode() if isinstance(text, str) else text
    return parse_file(name, data, tz=TZ, max_size=max_size)


def error(text: str | bytes, name: str = "a.txt", max_size: int = MAX) -> str:
    with pytest.raises(ParseError) as info:
        parse(text, name, max_size)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- the text format ------------------------------------------------------------------------


def test_text_article_with_author_and_teasers() -> None:
    full, first, second = parse(ARTICLE)
    assert full == Observation(
        slug="the-quiet-art-of-compost",
        title="The quiet art of compost",
        published=datetime(2024, 3, 3, tzinfo=TZ),
        kind="full",
        content=(
            "<p>Compost is slow. It rewards patience more than effort, and a heap left alone "
            "for a season will do most of the work by itself.</p>\n"
            "<p>Turn it once a month if you like. Keep it damp, not wet.</p>"
        ),
        author="Jane Example",
    )
    assert first == Observation(
        slug="raised-beds-for-small-yards",
        title="Raised beds for small yards",
        published=datetime(2025, 4, 2, tzinfo=TZ),
        kind="teaser",
        category="Gardening",
        summary="Three boards and a weekend are enough to start a raised bed.",
    )
    assert (second.slug, second.category, second.published) == (
        "soup-from-scraps",
        "Kitchen",
        datetime(2025, 2, 20, tzinfo=TZ),
    )
    assert second.content == "" and second.author == ""


def test_dates_are_midnight_in_the_site_timezone() -> None:
    (full, *_) = parse(ARTICLE)
    assert full.published.utcoffset() == timedelta(hours=-5)
    assert full.published.astimezone(UTC) == datetime(2024, 3, 3, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda s: s.replace("\n", "\r\n"), id="crlf"),
        pytest.param(lambda s: s.replace("\n", "\r"), id="cr"),
        pytest.param(lambda s: "\ufeff" + s, id="bom"),
        pytest.param(lambda s: s.replace("\n", "  \t\n") + "\n\n", id="trailing-space"),
        pytest.param(lambda s: s.replace("Read article\n", "Read article\n\n\n"), id="blanks"),
        pytest.param(lambda s: "\n\n" + s, id="leading-blank-lines"),
    ],
)
def test_tolerated_variations_parse_the_same(transform: Callable[[str], str]) -> None:
    assert parse(transform(ARTICLE)) == parse(ARTICLE)


def test_bom_with_crlf_bytes() -> None:
    data = b"\xef\xbb\xbf" + ARTICLE.replace("\n", "\r\n").encode()
    assert parse(data) == parse(ARTICLE)


def test_control_characters_are_stripped_everywhere() -> None:
    dirty = ARTICLE.replace("quiet", "qu\x00iet\x1b").replace("slow.", "slow.\x7f\x85")
    dirty = dirty.replace("Gardening", "Garden\x0bing")
    full, teaser, _ = parse(dirty)
    assert full.title == "The quiet art of compost"
    assert "slow. It" in full.content
    assert teaser.category == "Gardening"


def test_body_markup_is_escaped() -> None:
    (full,) = parse('Tags & <b>\n\nJanuary 5, 2023\n\n<script>alert("x")</script> & more\n')
    assert full.title == "Tags & <b>"  # titles stay text; renderers escape them
    assert full.content == '<p>&lt;script&gt;alert("x")&lt;/script&gt; &amp; more</p>'


def test_minimal_article_without_author_or_teasers() -> None:
    (full,) = parse("Short\n\n2023-01-05\n\nJust one paragraph.")
    assert full.published == datetime(2023, 1, 5, tzinfo=TZ)
    assert full.author == ""
    assert full.content == "<p>Just one paragraph.</p>"


def test_continue_reading_without_cards_and_without_author() -> None:
    (full,) = parse("Short\n\nJan 5, 2023\n\nBody.\n\nContinue reading\n")
    assert full.author == ""


def test_teasers_without_author() -> None:
    text = ARTICLE.replace("Written by\nJane Example\n", "")
    full, *teasers = parse(text)
    assert full.author == "" and len(teasers) == 2


# --- text format errors -------------------------------------------------------------------


def test_empty_file() -> None:
    assert error(b"") == "file is empty"
    assert error(b" \r\n\t\n") == "file is empty"
    assert error(b"\xef\xbb\xbf\x00\x01\n") == "file is empty"


def test_too_large() -> None:
    assert error(ARTICLE, max_size=100) == (
        f"file is {len(ARTICLE.encode())} bytes, more than the limit of 100"
    )
    assert parse(ARTICLE, max_size=len(ARTICLE.encode()))  # the limit itself is fine


def test_not_utf8_names_the_offset() -> None:
    assert error(b"Title\n\nJanuary 5, 2023\n\nCaf\xe9") == (
        "not UTF-8: byte 0xe9 at offset 27 cannot be decoded"
    )
    # The offset counts from the file's start, BOM included.
    assert error(b"\xef\xbb\xbfA\xff") == "not UTF-8: byte 0xff at offset 4 cannot be decoded"


def test_missing_date_line() -> None:
    assert error("Only a title\n") == (
        "missing date line (expected: title, blank line, date, body)"
    )


def test_missing_title() -> None:
    assert error("March 3, 2024\n\nA body without a title.") == (
        "line 1: missing title (the file starts with a date)"
    )
    assert "March 3, 2024" not in error("March 3, 2024\n\nA body without a title.")


@pytest.mark.parametrize(
    "bad", ["Last Tuesday", "Marchember 3, 2024", "February 30, 2024", "2024-13-01", "3/3/2024"]
)
def test_unreadable_date_names_the_line_and_does_not_quote_it(bad: str) -> None:
    message = error(f"Title\n\n{bad}\n\nBody.")
    assert message == (
        "line 3: unreadable date (expected e.g. 'November 15, 2025' or '2025-11-15')"
    )
    assert bad not in message


def test_long_bad_date_is_not_quoted_in_the_message() -> None:
    message = error("Title\n\n" + "x" * 500 + "\n\nBody.")
    assert len(message) < 150 and "x" * 3 not in message
    assert message.startswith("line 3: unreadable date")


def test_no_body() -> None:
    assert error("Title\n\nMarch 3, 2024\n\n") == (
        "no body (expected paragraphs after the date line)"
    )
    teasers_only = (
        ARTICLE.split("Compost is slow")[0]
        + "Continue reading\n"
        + (ARTICLE.split("Continue reading\n")[1])
    )
    assert error(teasers_only) == "no body (expected paragraphs after the date line)"
    assert error("Title\n\nMarch 3, 2024\n\nWritten by\nSomeone") == (
        "no body (expected paragraphs after the date line)"
    )


def test_written_by_without_author() -> None:
    assert error("T\n\nMarch 3, 2024\n\nBody.\n\nWritten by\n") == (
        "line 7: 'Written by' is not followed by an author line"
    )
    assert error("T\n\nMarch 3, 2024\n\nBody.\n\nWritten by\nContinue reading\n") == (
        "line 7: 'Written by' is not followed by an author line"
    )


def test_text_after_author() -> None:
    message = error("T\n\nMarch 3, 2024\n\nBody.\n\nWritten by\nAnn\n\nP.S. more text")
    assert message == (
        "line 10: unexpected text after the author line "
        "(expected 'Continue reading' and teaser cards, or the end)"
    )
    assert "P.S." not in message


CARD = "May 1, 2025\nNews\nA headline\nA summary line.\nRead article\n"
HEAD = "T\n\nMarch 3, 2024\n\nBody.\n\nContinue reading\n"


def test_incomplete_last_card_names_its_number() -> None:
    assert error(HEAD + CARD + CARD + "May 2, 2025\nNews\nCut short") == (
        "teaser card 3: incomplete: 3 of 5 lines "
        "(expected date, category, title, summary, 'Read article')"
    )


def test_card_without_summary_names_its_number() -> None:
    assert error(HEAD + CARD + "May 2, 2025\nNews\nNo summary\nRead article\n" + CARD) == (
        "teaser card 2: line 16: 'Read article' after only 3 lines "
        "(expected date, category, title, summary, 'Read article')"
    )


def test_card_with_bad_date() -> None:
    message = error(HEAD + CARD.replace("May 1, 2025", "Soon"))
    assert message == (
        "teaser card 1: line 8: unreadable date (expected e.g. 'November 15, 2025' or '2025-11-15')"
    )
    assert "Soon" not in message


def test_card_without_read_article_line() -> None:
    message = error(HEAD + CARD.replace("Read article", "More"))
    assert message == "teaser card 1: line 12: expected 'Read article'"
    assert "More" not in message


# --- the range of years -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "year"),
    [
        ("January 1, 0001", 1),
        ("0001-01-01", 1),
        ("9999-12-31T23:59:59-12:00", 9999),
        ("1899-12-31", 1899),
        ("2201-01-01", 2201),
    ],
)
def test_a_date_out_of_range_is_an_error(value: str, year: int) -> None:
    assert error(f"Title\n\n{value}\n\nBody.") == (
        f"date out of range: year {year} (articles are dated 1900 to 2200)"
    )
    assert error(md(f"title: T\ndate: '{value}'"), "a.md") == (
        f"date out of range: year {year} (articles are dated 1900 to 2200)"
    )


def test_a_yaml_date_out_of_range_is_an_error() -> None:
    assert error(md("title: T\ndate: 0001-01-01"), "a.md") == (
        "date out of range: year 1 (articles are dated 1900 to 2200)"
    )
    assert error(md("title: T\ndate: 9999-12-31T23:59:59-12:00"), "a.md") == (
        "date out of range: year 9999 (articles are dated 1900 to 2200)"
    )


def test_the_ends_of_the_range_are_allowed() -> None:
    for value in ("1900-01-01", "2200-12-31"):
        (obs,) = parse(f"Title\n\n{value}\n\nBody.")
        assert obs.published.year == int(value[:4])


def test_a_teaser_card_out_of_range_names_its_number() -> None:
    assert error(HEAD + CARD + CARD.replace("May 1, 2025", "January 1, 0001")) == (
        "teaser card 2: date out of range: year 1 (articles are dated 1900 to 2200)"
    )


def test_the_range_of_years_is_a_parameter() -> None:
    data = b"Title\n\nMarch 3, 2024\n\nBody."
    with pytest.raises(ParseError, match="year 2024 \\(articles are dated 2025 to 2030\\)"):
        parse_file("a.txt", data, tz=TZ, max_size=MAX, years=(2025, 2030))
    (obs,) = parse_file("a.txt", data, tz=TZ, max_size=MAX, years=(2024, 2024))
    assert obs.published.year == 2024


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("November 15, 2025", datetime(2025, 11, 15, tzinfo=TZ)),
        ("Nov 15, 2025", datetime(2025, 11, 15, tzinfo=TZ)),
        ("nov. 5 2025", datetime(2025, 11, 5, tzinfo=TZ)),
        ("Sept 9, 2025", datetime(2025, 9, 9, tzinfo=TZ)),
        ("May 31, 2025", datetime(2025, 5, 31, tzinfo=TZ)),
        ("2025-11-15", datetime(2025, 11, 15, tzinfo=TZ)),
        ("2025-11-15T10:30", datetime(2025, 11, 15, 10, 30, tzinfo=TZ)),
        ("2025-11-15T10:30+01:00", datetime(2025, 11, 15, 9, 30, tzinfo=UTC)),
    ],
)
def test_parse_date(value: str, expected: datetime) -> None:
    parsed = parse_date(value, TZ)
    assert parsed == expected
    assert parsed.tzinfo is not None


# --- Markdown -----------------------------------------------------------------------------


def md(front: str, body: str = "Body text.\n") -> str:
    return f"---\n{front}\n---\n{body}"


def test_markdown_article() -> None:
    (obs,) = parse(MARKDOWN, "door.md")
    assert obs.kind == "full"
    assert obs.slug == "fixing-a-squeaky-door"
    assert obs.title == "Fixing a squeaky door"
    assert obs.published == datetime(2024, 6, 1, tzinfo=TZ)
    assert (obs.category, obs.summary, obs.author) == (
        "Home",
        "Five minutes and a drop of oil.",
        "Sam Writer",
    )
    assert obs.tags == ("repair", "doors")
    assert obs.link == ""
    assert "<h2>Why it squeaks</h2>" in obs.content
    assert "<em>drop</em>" in obs.content
    assert 'rel="noopener noreferrer"' in obs.content


def test_markdown_suffixes_case_insensitive() -> None:
    assert parse(MARKDOWN, "x.markdown") == parse(MARKDOWN, "dir/X.MD")


def test_markdown_bom_and_crlf() -> None:
    data = b"\xef\xbb\xbf" + MARKDOWN.replace("\n", "\r\n").encode()
    assert parse(data, "a.md") == parse(MARKDOWN, "a.md")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-06-01", datetime(2024, 6, 1, tzinfo=TZ)),
        ("2024-06-01 14:30:00", datetime(2024, 6, 1, 14, 30, tzinfo=TZ)),  # naive: site tz
        ("2024-06-01T14:30:00+02:00", datetime(2024, 6, 1, 12, 30, tzinfo=UTC)),
        ("'June 1, 2024'", datetime(2024, 6, 1, tzinfo=TZ)),
        ("'2024-06-01T14:30'", datetime(2024, 6, 1, 14, 30, tzinfo=TZ)),
    ],
)
def test_markdown_dates(value: str, expected: datetime) -> None:
    (obs,) = parse(md(f"title: T\ndate: {value}"), "a.md")
    assert obs.published == expected
    assert obs.published.tzinfo is not None


def test_markdown_aware_datetime_keeps_its_offset() -> None:
    (obs,) = parse(md("title: T\ndate: 2024-06-01T14:30:00+02:00"), "a.md")
    assert obs.published.utcoffset() == timezone(timedelta(hours=2)).utcoffset(None)


def test_markdown_url_gives_the_link_and_the_title_keys_the_article() -> None:
    (obs,) = parse(
        md("title: My Post\ndate: 2024-06-01\nurl: https://blog.e.com/2024/My-Post.html"), "a.md"
    )
    assert obs.link == "https://blog.e.com/2024/My-Post.html"
    assert obs.slug == "my-post"  # from the title, so a teaser card of that title is the same


def test_markdown_slug_is_the_key_and_leaves_the_link_empty() -> None:
    front = "title: T\ndate: 2024-06-01\nslug: Custom Slug!"
    (obs,) = parse(md(front), "a.md")
    assert (obs.slug, obs.key, obs.link) == ("t", "custom-slug", "")
    assert obs.key == "custom-slug"


def test_markdown_without_slug_is_keyed_by_its_title() -> None:
    (obs,) = parse(md("title: Some Title\ndate: 2024-06-01"), "a.md")
    assert (obs.slug, obs.key, obs.link) == ("some-title", "some-title", "")


def test_markdown_draft_flag() -> None:
    (obs,) = parse(md("title: T\ndate: 2024-06-01\ndraft: true"), "a.md")
    assert obs.draft is True
    (obs,) = parse(md("title: T\ndate: 2024-06-01\ndraft: false"), "a.md")
    assert obs.draft is False
    (obs,) = parse(md("title: T\ndate: 2024-06-01"), "a.md")
    assert obs.draft is False
    (obs,) = parse("Title\n\nMarch 3, 2024\n\nBody.")
    assert obs.draft is False


def test_markdown_url_wins_over_slug() -> None:
    front = "title: T\ndate: 2024-06-01\nslug: Custom Slug!\nurl: https://e.com/other/"
    (obs,) = parse(md(front), "a.md")
    assert (obs.slug, obs.key, obs.link) == ("t", "custom-slug", "https://e.com/other/")


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ("tags: a, b ,, c", ("a", "b", "c")),
        ("tags: [x, 2, x]", ("x", "2")),
        ("tags: []", ()),
        ("tags:", ()),
    ],
)
def test_markdown_tags(tags: str, expected: tuple[str, ...]) -> None:
    (obs,) = parse(md(f"title: T\ndate: 2024-06-01\n{tags}"), "a.md")
    assert obs.tags == expected


def test_markdown_strips_control_characters_and_scripts() -> None:
    (obs,) = parse(
        md('title: "Bad\\x01 title\\x7f"\ndate: 2024-06-01', "Hi\x02 <script>x()</script>\n"),
        "a.md",
    )
    assert obs.title == "Bad title"
    assert obs.content == "<p>Hi </p>\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Just markdown, no front matter.", "no front matter (a Markdown article starts with "
         "'---', title and date)"),
        ("---\ntitle: T\ndate: 2024-06-01\nBody", "front matter is not closed by a '---' line"),
        (md("- a list\n- not a mapping"), "front matter is not a mapping of 'key: value' lines"),
        (md("title: [unclosed\ndate: 2024-06-01"),
         "bad YAML front matter: did not find expected ',' or ']' at line 3"),
        (md("title: T\ndate: 2024-13-45"), "bad YAML front matter: month must be in 1..12"),
        (md("title: T\n  date: x: y"),
         "bad YAML front matter: mapping values are not allowed in this context at line 3"),
        (md("date: 2024-06-01"), "missing title (the front matter needs 'title:')"),
        (md("title: ''\ndate: 2024-06-01"), "missing title (the front matter needs 'title:')"),
        (md("title: [a, b]\ndate: 2024-06-01"), "front matter 'title' must be text, not "
         "a list"),
        (md("title: T"), "missing date (the front matter needs 'date:')"),
        (md("title: T\ndate: next week"), "front matter 'date': unreadable date (expected e.g. "
         "'November 15, 2025' or '2025-11-15')"),
        (md("title: T\ndate: 12"), "front matter 'date' must be a date, not a value"),
        (md("title: T\ndate: 2024-06-01", "\n  \n"), "no body (expected Markdown after the "
         "front matter)"),
        (md("title: T\ndate: 2024-06-01\nurl: javascript:alert(1)"),
         "front matter 'url' must be an absolute http(s) URL"),
        (md("title: T\ndate: 2024-06-01\ndraft: yes please"),
         "front matter 'draft' must be true or false, not a value"),
        (md("title: T\ndate: 2024-06-01\ndraft: [1]"),
         "front matter 'draft' must be true or false, not a list"),
        (md("title: T\ndate: 2024-06-01\ntags: {a: 1}"),
         "front matter 'tags' must be a list or a comma-separated string"),
    ],
)  # fmt: skip
def test_markdown_errors(text: str, message: str) -> None:
    assert error(text, "a.md") == message
    for quoted in ("next week", "javascript", "yes please", "['a', 'b']"):
        assert quoted not in error(text, "a.md")


def test_other_suffix_is_refused() -> None:
    assert error(ARTICLE, "a.html") == (
        "not an article file (expected one of .markdown, .md, .txt)"
    )
    assert {".txt", ".md", ".markdown"} == ARTICLE_SUFFIXES


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=200)
@given(st.binary(max_size=400), st.sampled_from(["a.txt", "a.md"]))
def test_random_bytes_only_raise_parse_error(data: bytes, name: str) -> None:
    with contextlib.suppress(ParseError):
        parse(data, name, max_size=300)


_LINE = st.sampled_from(
    ["", "", "Written by", "Continue reading", "Read article", "March 3, 2024", "2024-01-02",
     "---", "title: x", "date: 2024-01-01", "News", "  ", "\r", "\ufeff"]
)  # fmt: skip


@settings(max_examples=200)
@given(
    st.lists(st.one_of(_LINE, st.text(max_size=30)), max_size=25),
    st.sampled_from(["a.txt", "a.md"]),
)
def test_random_texts_only_raise_parse_error(lines: list[str], name: str) -> None:
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    try:
        observations = parse(data, name)
    except ParseError:
        return
    assert observations[0].kind == "full" and observations[0].content
    assert all(o.published.tzinfo is not None for o in observations)


_YAML_BIT = st.sampled_from(
    ["title: ", "date: ", "tags: ", "url: ", "slug: ", "category: ", "summary: ", "author: ",
     "[", "]", "{", "}", "- ", ": ", "&a ", "*a", "!!python/object/apply:os.system ", "'", '"',
     "2024-13-01", "2024-06-01 10:00", "http://e.com/x", "|", ">", "\n", "\n  ", "#", "null"]
)  # fmt: skip


@settings(max_examples=200)
@given(st.lists(st.one_of(_YAML_BIT, st.text(max_size=10)), max_size=20), st.text(max_size=50))
def test_random_front_matter_only_raises_parse_error(bits: list[str], body: str) -> None:
    text = "---\n" + "".join(bits) + "\n---\n" + body
    try:
        (obs,) = parse(text, "a.md")
    except ParseError:
        return
    assert obs.title and obs.content and obs.published.tzinfo is not None


_WORDS = st.text(
    st.characters(whitelist_categories=("L", "N"), max_codepoint=0x2FF), min_size=1, max_size=8
)
_PHRASE = st.lists(_WORDS, min_size=1, max_size=8).map(" ".join)


@given(
    title=_PHRASE,
    day=st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 1, 1)),
    body=st.lists(_PHRASE, min_size=1, max_size=4),
    cards=st.lists(st.tuples(_PHRASE, _PHRASE, _PHRASE), max_size=3),
)
def test_written_articles_read_back(
    title: str, day: date, body: list[str], cards: list[tuple[str, str, str]]
) -> None:
    stamp = day.strftime("%B {}, %Y").format(day.day)
    text = f"{title}\n\n{stamp}\n\n" + "\n\n".join(body) + "\n\nWritten by\nAn Author\n"
    text += "Continue reading\n" + "".join(
        f"{stamp}\n{cat}\n{ttl}\n{summary}\nRead article\n" for cat, ttl, summary in cards
    )
    full, *teasers = parse(text)
    assert full.title == title
    assert full.published.date() == day
    assert full.content.count("<p>") == len(body)
    assert full.author == "An Author"
    assert [(t.category, t.title, t.summary) for t in teasers] == cards


# --- scanning -----------------------------------------------------------------------------


def _touch(path: Path, data: bytes = b"x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_scan_folder_recursive_sorted_filtered(tmp_path: Path) -> None:
    for rel in ["b.txt", "a.md", "sub/z.markdown", "sub/deeper/c.TXT", "sub/notes.html",
                "image.png", ".hidden.txt", ".git/x.txt", "sub/.cache/y.md"]:  # fmt: skip
        _touch(tmp_path / rel, rel.encode())
    os.utime(tmp_path / "a.md", ns=(1_000_000_000, 1_700_000_000_123_456_789))
    scan = scan_folder(tmp_path)
    stats = scan.files
    assert [s.relpath for s in stats] == ["a.md", "b.txt", "sub/deeper/c.TXT", "sub/z.markdown"]
    assert stats[0] == FileStat("a.md", 4, 1_700_000_000_123_456_789)
    assert stats[1].size == len(b"b.txt")
    assert scan.problems == []


def test_scan_folder_links(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _touch(root / "real/a.txt")
    outside = tmp_path / "passwd.txt"
    _touch(outside, b"secret")
    (root / "passwd.txt").symlink_to(outside)
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "real/up").symlink_to(root / "real", target_is_directory=True)
    (root / "d.txt").symlink_to(root / "missing.txt")
    (root / "linked.md").symlink_to(root / "real/a.txt")
    (root / "a").symlink_to(root / "x.txt")
    (root / "x.txt").symlink_to(root / "a")
    scan = scan_folder(root)
    assert [s.relpath for s in scan.files] == ["linked.md", "real/a.txt"]
    problems = dict(scan.problems)
    assert problems["passwd.txt"] == "symbolic link points outside the source folder: skipped"
    assert problems["x.txt"] == "cannot read: a loop of symbolic links"
    assert "d.txt" in problems
    assert "loop" in problems and "real/up" in problems


def test_scan_folder_never_opens_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "f.txt")
    scan = scan_folder(tmp_path)
    assert scan.files == []
    assert [p for p, _ in scan.problems] == ["f.txt"]
    with pytest.raises(OSError):
        read_regular_file(tmp_path / "f.txt")


def test_scan_folder_empty_and_missing(tmp_path: Path) -> None:
    assert scan_folder(tmp_path).files == []
    with pytest.raises(FileNotFoundError):
        scan_folder(tmp_path / "nope")
