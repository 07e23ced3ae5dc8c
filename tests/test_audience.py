"""Subscriber input: address checks, categories, and the CSV import format."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.audience import (
    AddressError,
    CsvFormatError,
    clean_name,
    normalize_address,
    parse_categories,
    parse_subscriber_csv,
)

HEADER = "email,name,categories\n"


# --- addresses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ann@example.com", "ann@example.com"),
        ("  Ann@Example.COM \n", "Ann@example.com"),  # domain lower-cased, local part kept
        ("joerg@Bücher.example.org", "joerg@xn--bcher-kva.example.org"),  # IDNA, ASCII
        ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
    ],
)
def test_good_addresses_are_normalized(given: str, expected: str) -> None:
    assert normalize_address(given) == expected


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ann", "must have an @-sign"),
        ("ann@localhost", "should have a period"),
        ("a..b@example.com", "two periods in a row"),
        ("ann@exa mple.com", "invalid characters"),
        ("üñí@exämple.com", "Internationalized characters before the @-sign"),
        ("ann@example.com\r\nBcc: eve@example.com", "invalid characters"),
    ],
)
def test_bad_addresses_say_why(given: str, reason: str) -> None:
    with pytest.raises(AddressError, match=reason) as caught:
        normalize_address(given)
    assert "\n" not in str(caught.value)


def test_no_dns_lookup_is_made() -> None:
    # A domain that cannot exist still passes: syntax only.
    assert normalize_address("x@no-such-host-3f9a1c.example.net") == (
        "x@no-such-host-3f9a1c.example.net"
    )


# --- categories and names ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", frozenset()),
        (" , ,", frozenset()),
        ("news", frozenset({"news"})),
        (" News ,tech,, news ", frozenset({"News", "tech", "news"})),
        ("Science  Fiction,\tart\n", frozenset({"Science Fiction", "art"})),
    ],
)
def test_parse_categories(text: str, expected: frozenset[str]) -> None:
    assert parse_categories(text) == expected


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters=","), max_size=12)))
def test_parse_categories_never_keeps_blanks_or_edge_spaces(parts: list[str]) -> None:
    for category in parse_categories(",".join(parts)):
        assert category and category == category.strip() and "," not in category
        assert all(ch.isprintable() for ch in category)


def test_clean_name_is_one_line() -> None:
    assert clean_name(" Ann\r\n  Lee\x00\x1b ") == "Ann Lee"


# --- CSV -----------------------------------------------------------------------------------


def test_csv_good_rows() -> None:
    data = HEADER + 'ann@example.com,Ann Lee,"news, tech"\nbob@example.org,,\ncy@example.net\n'
    rows, errors = parse_subscriber_csv(data)
    assert errors == []
    assert rows == [
        ("ann@example.com", "Ann Lee", frozenset({"news", "tech"})),
        ("bob@example.org", "", frozenset()),
        ("cy@example.net", "", frozenset()),
    ]


def test_csv_bad_rows_are_reported_with_their_line_and_good_rows_kept() -> None:
    data = (
        HEADER  # line 1
        + "ann@example.com,Ann,\n"  # 2
        + "\n"  # 3: blank, ignored
        + ',"Nobody",news\n'  # 4
        + "not-an-address,X,\n"  # 5
        + 'bob@example.org,"Bob\nSmith",\n'  # 6-7: a quoted name over two lines
        + "ANN@EXAMPLE.COM,Again,\n"  # 8
        + "cy@example.net,Cy,news,extra\n"  # 9
        + "dee@example.com,Dee,life\n"  # 10
    )
    rows, errors = parse_subscriber_csv(data)
    assert [r[0] for r in rows] == ["ann@example.com", "bob@example.org", "dee@example.com"]
    assert rows[1][1] == "Bob Smith"
    assert errors[0] == "line 4: missing email"
    assert errors[1].startswith("line 5: bad address 'not-an-address': ")
    assert "@-sign" in errors[1]
    assert errors[2] == "line 8: ANN@example.com is a duplicate of line 2"
    assert errors[3] == "line 9: too many columns (4, at most 3)"
    assert len(errors) == 4


def test_csv_header_tolerates_bom_spaces_and_case_and_crlf() -> None:
    data = "\ufeff Email , Name ,CATEGORIES\r\nann@example.com,Ann,news\r\n"
    assert parse_subscriber_csv(data) == ([("ann@example.com", "Ann", frozenset({"news"}))], [])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "line 1: the file is empty; expected the header 'email,name,categories'"),
        ("email,name\n", "line 1: the header must be 'email,name,categories', not 'email,name'"),
        ("ann@example.com,Ann,news\n", "not 'ann@example.com,Ann,news'"),
        ("email;name;categories\n", "not 'email;name;categories'"),
    ],
)
def test_csv_bad_header_is_one_clear_error(data: str, message: str) -> None:
    with pytest.raises(CsvFormatError, match=message.replace("(", r"\(")) as caught:
        parse_subscriber_csv(data)
    assert "\n" not in str(caught.value)


def test_csv_header_only_is_empty_and_fine() -> None:
    assert parse_subscriber_csv(HEADER) == ([], [])


_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20
).map(clean_name)
_categories = st.frozensets(
    st.text(alphabet="abcdefghij XYZ", min_size=1, max_size=8).map(clean_name).filter(bool),
    max_size=3,
)


@given(st.lists(st.tuples(_names, _categories), max_size=20))
def test_csv_round_trip(people: list[tuple[str, frozenset[str]]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "name", "categories"])
    expected = []
    for n, (name, categories) in enumerate(people):
        email = f"user{n}@example.com"
        writer.writerow([email, name, ",".join(sorted(categories))])
        expected.append((email, name, categories))
    assert parse_subscriber_csv(out.getvalue()) == (expected, [])
