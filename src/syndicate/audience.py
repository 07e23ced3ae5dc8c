"""Subscriber input, checked: addresses (email-validator, syntax only), categories, CSV import.

Pure: text in, values and error lines out. No DNS, no database.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

from email_validator import EmailNotValidError, validate_email

if TYPE_CHECKING:
    from _csv import Reader

CSV_HEADER = ("email", "name", "categories")
NAME_LIMIT = 100  # characters of a subscriber's name, wherever it comes from
ImportRow = tuple[str, str, frozenset[str]]  # (email, name, categories)


class AddressError(ValueError):
    """Not a usable email address; the message is email-validator's reason."""


class CsvFormatError(ValueError):
    """The CSV file as a whole cannot be read (its header, typically)."""


def normalize_address(text: str, *, smtputf8: bool = False) -> str:
    """An address we can mail: email-validator's normalized local part and the domain in
    its ASCII (IDNA) form, lower-cased.

    A non-ASCII local part needs SMTPUTF8 all the way: refused unless ``smtputf8`` says
    the configured sender delivers it."""
    candidate = text.strip()
    if not candidate:
        raise AddressError("The email address is empty.")
    try:
        checked = validate_email(candidate, check_deliverability=False, allow_smtputf8=smtputf8)
    except EmailNotValidError as exc:
        raise AddressError(str(exc)) from None
    return f"{checked.local_part}@{checked.ascii_domain}"


def subscriber_name(text: str) -> str:
    """A subscriber's name as stored: on one line, no control characters, at most
    NAME_LIMIT characters (a To: line stays far below RFC 5322's 998)."""
    return clean_name(text)[:NAME_LIMIT].rstrip()


def parse_categories(text: str) -> frozenset[str]:
    """``"news, tech,,"`` → {"news", "tech"}: comma-separated, trimmed, empty ones dropped."""
    return frozenset(part for part in (_clean(p) for p in text.split(",")) if part)


def clean_name(text: str) -> str:
    """A display name on one line: control characters gone, whitespace runs made one space."""
    return _clean(text)


def parse_subscriber_csv(data: str) -> tuple[list[ImportRow], list[str]]:
    """(good rows, one ``line N: reason`` per bad row). Bad rows never stop the good ones.

    Raises CsvFormatError when the header is not ``email,name,categories``.
    """
    lines = io.StringIO(data.removeprefix("\ufeff"), newline="")
    reader = csv.reader(lines)
    _check_header(next(reader, None))
    rows: list[ImportRow] = []
    errors: list[str] = []
    first_seen: dict[str, int] = {}
    for line, fields in _records(reader, errors):
        try:
            row = _row(fields)
        except ValueError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        key = row[0].lower()
        if key in first_seen:
            errors.append(f"line {line}: {row[0]} is a duplicate of line {first_seen[key]}")
            continue
        first_seen[key] = line
        rows.append(row)
    return rows, errors


def _check_header(fields: list[str] | None) -> None:
    expected = ",".join(CSV_HEADER)
    if fields is None:
        raise CsvFormatError(f"line 1: the file is empty; expected the header {expected!r}")
    found = tuple(field.strip().lower() for field in fields)
    if found != CSV_HEADER:
        shown = ",".join(field.strip() for field in fields)
        raise CsvFormatError(f"line 1: the header must be {expected!r}, not {shown!r}")


def _records(reader: Reader, errors: list[str]) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, fields) for each non-blank record."""
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The reader cannot resynchronise after a malformed record: report and stop.
            errors.append(f"line {start}: unreadable CSV ({exc}); the rest of the file skipped")
            return
        if any(field.strip() for field in fields):
            yield start, fields


def _row(fields: list[str]) -> ImportRow:
    if len(fields) > len(CSV_HEADER):
        raise ValueError(f"too many columns ({len(fields)}, at most {len(CSV_HEADER)})")
    email, name, categories = (*fields, "", "")[:3]
    if not email.strip():
        raise ValueError("missing email")
    try:
        address = normalize_address(email)
    except AddressError as exc:
        raise ValueError(f"bad address {_clean(email)!r}: {exc}") from None
    return address, subscriber_name(name), parse_categories(categories)


def _clean(text: str) -> str:
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(printable.split())
