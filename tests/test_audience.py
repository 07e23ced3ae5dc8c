"""Subscriber input: address checks, names and categories."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.audience import (
    AddressError,
    clean_name,
    normalize_address,
    parse_categories,
)

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
