"""Subscriber files: our own export (a full backup) and other providers' exports, read alike.

Pure: text in, records and error lines out. Any CSV with an ``email`` column (case-insensitive,
``,`` ``;`` or tab separated, sniffed) is read; the columns of Mailchimp, Substack, Buttondown
and listmonk exports are known by name, and their statuses mapped to ours. Columns we do not
know are ignored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from syndicate.audience import (
    AddressError,
    clean_name,
    normalize_address,
    parse_categories,
    subscriber_name,
)
from syndicate.errors import InputError
from syndicate.models import CADENCES, Subscriber, SubscriberStatus

EXPORT_HEADER = ("email", "name", "categories", "cadence", "status", "created", "confirmed")

# Column names (lower-cased) that mean each field, in order of preference.
_EMAIL = ("email", "email address", "email_address", "e-mail", "e-mail address", "mail")
_NAME = ("name", "full name", "full_name", "fname")
_FIRST_LAST = (("first name", "last name"), ("first_name", "last_name"))
_CATEGORIES = ("categories",)
_CADENCE = ("cadence",)
_STATUS = ("status", "subscriber_type", "type", "subscription status")
_CREATED = ("created", "created_at", "creation_date", "optin_time", "subscribed_at", "date")
_CONFIRMED = ("confirmed", "confirmed_at", "confirm_time")
# Mailchimp's per-status files say the status by their extra columns.
_SUPPRESSED_BY = (
    ("clean_time", SubscriberStatus.BOUNCED),
    ("unsub_time", SubscriberStatus.UNSUBSCRIBED),
)
# Substack: email_disabled = true means the reader turned the emails off.
_DISABLED = ("email_disabled",)

_A, _P, _U = SubscriberStatus.ACTIVE, SubscriberStatus.PENDING, SubscriberStatus.UNSUBSCRIBED
_B, _C = SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED
STATUS_NAMES: Mapping[str, SubscriberStatus] = {
    # ours
    **{status.value: status for status in SubscriberStatus},
    # Mailchimp
    "subscribed": _A, "cleaned": _B, "nonsubscribed": _U, "non-subscribed": _U,
    "transactional": _U, "archived": _U,
    # Buttondown subscriber types
    "regular": _A, "premium": _A, "gifted": _A, "trialed": _A, "churning": _A, "churned": _A,
    "paused": _A, "past_due": _A, "unactivated": _P, "removed": _U, "undeliverable": _B,
    "spammy": _C, "complaint": _C,
    # listmonk
    "enabled": _A, "confirmed": _A, "unconfirmed": _P, "disabled": _U, "blocklisted": _U,
    # Substack and others
    "free": _A, "paid": _A, "comp": _A, "founding": _A, "gift": _A, "spam": _C,
}  # fmt: skip
# Mailchimp's per-status files say the status by their extra columns.
_SUPPRESSED_BY = (("clean_time", _B), ("unsub_time", _U))
_TRUE = {"true", "yes", "1", "t", "y"}


class CsvFormatError(InputError):
    """The file as a whole cannot be read (no email column, typically)."""


@dataclass(frozen=True, slots=True)
class SubscriberRecord:
    """One subscriber as a file gives it; ``status`` None when the file does not say."""

    email: str
    name: str = ""
    categories: frozenset[str] = frozenset()
    status: SubscriberStatus | None = None
    created: datetime | None = None
    confirmed: datetime | None = None
    cadence: str = ""  # "" = the file does not say (the site's digest.default_cadence)


CategoryCheck = Callable[[frozenset[str]], frozenset[str]]  # raises ValueError


def parse_subscriber_file(
    data: str, check_categories: CategoryCheck | None = None
) -> tuple[list[SubscriberRecord], list[str]]:
    """(good records, one ``line N: reason`` per bad row). Bad rows never stop the good ones.

    ``check_categories`` maps a row's categories to the site's spelling, or raises ValueError
    (the row is then reported). Raises CsvFormatError when the file has no email column.
    """
    text = data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header = next(reader, None)
    if header is None:
        raise CsvFormatError("line 1: the file is empty; expected a header with an email column")
    columns = _Columns(header)
    records: list[SubscriberRecord] = []
    errors: list[str] = []
    first_seen: dict[str, int] = {}
    for line, fields in _records(reader, errors):
        try:
            record = columns.record(fields, check_categories)
        except ValueError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        key = record.email.lower()
        if key in first_seen:
            errors.append(f"line {line}: {record.email} is a duplicate of line {first_seen[key]}")
            continue
        first_seen[key] = line
        records.append(record)
    return records, errors


def export_rows(subscribers: Iterable[Subscriber]) -> Iterator[list[str]]:
    """The header, then one row per subscriber: everything a restore needs."""
    yield list(EXPORT_HEADER)
    for s in subscribers:
        yield [
            s.email,
            s.name,
            ",".join(sorted(s.categories)),
            s.cadence,
            s.status.value,
            _iso(s.created_at),
            _iso(s.confirmed_at),
        ]


def subscriber_data(s: Subscriber) -> dict[str, object]:
    """A subscriber as JSON data (``subscribers list --json``)."""
    return {
        "id": s.id,
        "email": s.email,
        "name": s.name,
        "status": s.status.value,
        "categories": sorted(s.categories),
        "cadence": s.cadence,
        "created": _iso(s.created_at) or None,
        "confirmed": _iso(s.confirmed_at) or None,
    }


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat()


def _delimiter(text: str) -> str:
    """The separator of the header line: the most frequent of ``,`` ``;`` and tab outside
    quotes (``,`` when there is none: a one-column file)."""
    header = text.split("\n", 1)[0]
    unquoted = "".join(part for n, part in enumerate(header.split('"')) if n % 2 == 0)
    counts = {sep: unquoted.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


class _Columns:
    """Where each field is in a header (names compared case-insensitively)."""

    def __init__(self, header: list[str]) -> None:
        names = [field.strip().lower() for field in header]
        self.width = len(names)

        def find(*aliases: str) -> int | None:
            return next((names.index(a) for a in aliases if a in names), None)

        self.email = find(*_EMAIL)
        if self.email is None:
            shown = ",".join(field.strip() for field in header)
            raise CsvFormatError(f"line 1: no email column in the header {shown!r}")
        self.name = find(*_NAME)
        self.first_last = next(
            ((names.index(f), names.index(s)) for f, s in _FIRST_LAST if f in names and s in names),
            None,
        )
        self.categories = find(*_CATEGORIES)
        self.cadence = find(*_CADENCE)
        self.status = find(*_STATUS)
        self.created = find(*_CREATED)
        self.confirmed = find(*_CONFIRMED)
        self.suppressed_by = [(names.index(n), s) for n, s in _SUPPRESSED_BY if n in names]
        self.disabled = find(*_DISABLED)

    def record(self, fields: list[str], check: CategoryCheck | None) -> SubscriberRecord:
        if len(fields) > self.width:
            raise ValueError(f"too many columns ({len(fields)}, at most {self.width})")

        def get(index: int | None) -> str:
            return fields[index].strip() if index is not None and index < len(fields) else ""

        email = get(self.email)
        if not email:
            raise ValueError("missing email")
        try:
            address = normalize_address(email)
        except AddressError as exc:
            raise ValueError(f"bad address {clean_name(email)!r}: {exc}") from None
        name = get(self.name)
        if not name and self.first_last is not None:
            name = f"{get(self.first_last[0])} {get(self.first_last[1])}"
        categories = parse_categories(get(self.categories))
        if categories and check is not None:
            categories = check(categories)
        cadence = get(self.cadence).lower()
        if cadence and cadence not in CADENCES:
            raise ValueError(f"cadence {cadence!r}: expected one of {', '.join(CADENCES)}")
        return SubscriberRecord(
            email=address,
            name=subscriber_name(name),
            categories=categories,
            status=self._status(get),
            created=_moment("created", get(self.created)),
            confirmed=_moment("confirmed", get(self.confirmed)),
            cadence=cadence,
        )

    def _status(self, get: Callable[[int | None], str]) -> SubscriberStatus | None:
        for index, status in self.suppressed_by:
            if get(index):
                return status
        if get(self.disabled).lower() in _TRUE:
            return SubscriberStatus.UNSUBSCRIBED
        said = get(self.status).lower()
        if not said:
            return None
        if said not in STATUS_NAMES:
            known = ", ".join(s.value for s in SubscriberStatus)
            raise ValueError(f"status {said!r} is not one we know ({known}, or a provider's)")
        return STATUS_NAMES[said]


def _moment(field: str, text: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise ValueError(f"{field} {text!r} is not a date and time (ISO 8601)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _records(reader: Iterator[list[str]], errors: list[str]) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, fields) for each non-blank record."""
    while True:
        start = reader.line_num + 1  # type: ignore[attr-defined]
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
