"""Subscriber files: our export, other providers' exports, any CSV with an email column."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.audience import clean_name
from syndicate.models import Subscriber, SubscriberStatus
from syndicate.subscriber_csv import (
    CsvFormatError,
    SubscriberRecord,
    export_rows,
    parse_subscriber_file,
)

FIXTURES = Path(__file__).parent / "fixtures" / "subscribers"
HEADER = "email,name,categories\n"
A, P, U = SubscriberStatus.ACTIVE, SubscriberStatus.PENDING, SubscriberStatus.UNSUBSCRIBED
B, C = SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED


def read(name: str) -> list[SubscriberRecord]:
    records, errors = parse_subscriber_file((FIXTURES / name).read_text(encoding="utf-8"))
    assert errors == []
    return records


def summary(records: list[SubscriberRecord]) -> list[tuple[str, str, SubscriberStatus | None]]:
    return [(r.email, r.name, r.status) for r in records]


def test_mailchimp_per_status_files() -> None:
    subscribed = read("mailchimp_subscribed.csv")
    assert summary(subscribed) == [
        ("ann@example.net", "Ann Lee", None),
        ("bob@example.net", "Bob", None),
    ]
    assert subscribed[0].created == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert subscribed[0].confirmed == datetime(2025, 3, 1, 10, 5, tzinfo=UTC)
    assert subscribed[0].categories == frozenset()  # Mailchimp's tags are not our categories
    assert summary(read("mailchimp_unsubscribed.csv")) == [("cy@example.net", "Cy Ng", U)]
    assert summary(read("mailchimp_cleaned.csv")) == [("dee@example.net", "Dee", B)]


def test_substack() -> None:
    records = read("substack.csv")
    assert summary(records) == [
        ("eve@example.net", "", None),
        ("fay@example.net", "", None),
        ("gus@example.net", "", U),  # email_disabled
    ]
    assert records[0].created == datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


def test_buttondown() -> None:
    assert [(r.email, r.status) for r in read("buttondown.csv")] == [
        ("hal@example.net", A),
        ("ivy@example.net", P),
        ("jon@example.net", U),
        ("kim@example.net", A),
    ]


def test_listmonk() -> None:
    records = read("listmonk.csv")
    assert summary(records) == [("lou@example.net", "Lou Park", A), ("max@example.net", "Max", U)]
    assert records[1].created == datetime(2025, 3, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("email_only.csv", [("nia@example.net", ""), ("oz@example.net", "")]),
        ("semicolon.csv", [("pat@example.net", "Pat Müller"), ("quin@example.net", "Quin")]),
        ("tab.tsv", [("ray@example.net", "Ray")]),
    ],
)
def test_any_csv_with_an_email_column(name: str, expected: list[tuple[str, str]]) -> None:
    records = read(name)
    assert [(r.email, r.name) for r in records] == expected
    if name == "semicolon.csv":
        assert records[0].categories == frozenset({"Events"})


def test_good_rows() -> None:
    data = HEADER + 'ann@example.com,Ann Lee,"news, tech"\nbob@example.org,,\ncy@example.net\n'
    records, errors = parse_subscriber_file(data)
    assert errors == []
    assert [(r.email, r.name, r.categories) for r in records] == [
        ("ann@example.com", "Ann Lee", frozenset({"news", "tech"})),
        ("bob@example.org", "", frozenset()),
        ("cy@example.net", "", frozenset()),
    ]


def test_bad_rows_are_reported_with_their_line_and_good_rows_kept() -> None:
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
    records, errors = parse_subscriber_file(data)
    assert [r.email for r in records] == ["ann@example.com", "bob@example.org", "dee@example.com"]
    assert records[1].name == "Bob Smith"
    assert errors[0] == "line 4: missing email"
    assert errors[1].startswith("line 5: bad address 'not-an-address': ")
    assert errors[2] == "line 8: ANN@example.com is a duplicate of line 2"
    assert errors[3] == "line 9: too many columns (4, at most 3)"
    assert len(errors) == 4


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("a@example.com,,,hourly,,,", "line 2: cadence 'hourly': expected one of daily, weekly"),
        ("a@example.com,,,,gone,,", "line 2: status 'gone' is not one we know"),
        ("a@example.com,,,,,yesterday,", "line 2: created 'yesterday' is not a date"),
    ],
)
def test_bad_fields_name_the_field(row: str, message: str) -> None:
    data = "email,name,categories,cadence,status,created,confirmed\n" + row + "\n"
    records, errors = parse_subscriber_file(data)
    assert records == [] and len(errors) == 1 and errors[0].startswith(message)


def test_unknown_categories_are_the_checks_to_refuse() -> None:
    def check(given: frozenset[str]) -> frozenset[str]:
        if given != {"news"}:
            raise ValueError(f"unknown category {sorted(given)}")
        return frozenset({"News"})

    records, errors = parse_subscriber_file(HEADER + "a@x.org,,news\nb@x.org,,Newz\n", check)
    assert [(r.email, r.categories) for r in records] == [("a@x.org", frozenset({"News"}))]
    assert errors == ["line 3: unknown category ['Newz']"]


def test_header_tolerates_bom_spaces_and_case_and_crlf() -> None:
    data = "\ufeff Email , Name ,CATEGORIES\r\nann@example.com,Ann,news\r\n"
    records, _ = parse_subscriber_file(data)
    assert [(r.email, r.name, r.categories) for r in records] == [
        ("ann@example.com", "Ann", frozenset({"news"}))
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "line 1: the file is empty; expected a header with an email column"),
        ("name,categories\n", "line 1: no email column in the header 'name,categories'"),
        ("ann@example.com,Ann,news\n", "no email column in the header 'ann@example.com,Ann,news'"),
    ],
)
def test_no_email_column_is_one_clear_error(data: str, message: str) -> None:
    with pytest.raises(CsvFormatError, match=message) as caught:
        parse_subscriber_file(data)
    assert "\n" not in str(caught.value)


def test_header_only_is_empty_and_fine() -> None:
    assert parse_subscriber_file(HEADER) == ([], [])


_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20
).map(clean_name)
_categories = st.frozensets(
    st.text(alphabet="abcdefghij XYZ", min_size=1, max_size=8).map(clean_name).filter(bool),
    max_size=3,
)
_moments = st.none() | st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(
    st.lists(
        st.tuples(_names, _categories, st.sampled_from(SubscriberStatus), _moments, _moments),
        max_size=20,
    )
)
def test_export_reads_back_exactly(
    people: list[tuple[str, frozenset[str], SubscriberStatus, datetime | None, datetime | None]],
) -> None:
    subscribers = [
        Subscriber(
            id=n,
            email=f"user{n}@example.com",
            name=name,
            status=status,
            categories=categories,
            created_at=created,
            confirmed_at=confirmed,
            cadence=("daily", "weekly", "monthly")[n % 3],
        )
        for n, (name, categories, status, created, confirmed) in enumerate(people)
    ]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(export_rows(subscribers))
    records, errors = parse_subscriber_file(out.getvalue())
    assert errors == []
    assert records == [
        SubscriberRecord(
            s.email, s.name, s.categories, s.status, s.created_at, s.confirmed_at, s.cadence
        )
        for s in subscribers
    ]
