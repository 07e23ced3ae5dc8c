"""What every sender speaks: batches in, one outcome per recipient out.

A Sender only sends. The ledger decides who is in a batch and what an outcome means for a row:

- ``sent``: the provider accepted the message;
- ``failed``: the provider refused this recipient for good (the error says why);
- ``retry``: certainly not accepted; safe to send again later;
- ``uncertain``: the request may have been accepted (the answer was lost); never resent
  automatically.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, overload

from syndicate.content import header_safe
from syndicate.errors import DeliveryError

if TYPE_CHECKING:  # the MIME writer is imported when a message is built: every settings
    # load imports the senders' registrations, and with them this module
    from syndicate.mime_bulk import BulkMessage

# Keys the ledger puts in ``Batch.custom_args`` / per-recipient custom_args.
WEEK_ARG = "week"
DELIVERY_ID_ARG = "delivery_id"

OutcomeState = Literal["sent", "failed", "uncertain", "retry"]


_NONE: Mapping[str, str] = MappingProxyType({})


class Recipient(NamedTuple):
    """One addressee of a batch (a tuple: a send makes a million). ``headers`` are final
    per-recipient header values."""

    delivery_id: int
    email: str
    name: str = ""
    substitutions: Mapping[str, str] = _NONE
    headers: Mapping[str, str] = _NONE
    message_id: str = ""


# A recipient as a plain tuple: (delivery id, email, name, *substitution values, *header
# values, message id), the values in the order of its RecipientRows' keys and names.
Row = tuple[Any, ...]


class RecipientRows(Sequence[Recipient]):
    """Recipients of one shape (the same substitution keys and header names, in order), each
    a plain tuple (``Row``): what a send makes a million of, without a dict or a Recipient
    each. Indexing and iterating give Recipients, for a sender that wants them one at a
    time; a sender that writes many at once reads ``rows``."""

    __slots__ = ("header_names", "keys", "rows")

    def __init__(self, keys: tuple[str, ...], header_names: tuple[str, ...], rows: list[Row]):
        self.keys, self.header_names, self.rows = keys, header_names, rows

    @classmethod
    def of(cls, recipients: Sequence[Recipient]) -> RecipientRows | None:
        """``recipients`` as rows; None when they are not all of one shape."""
        if isinstance(recipients, RecipientRows):
            return recipients
        if not recipients:
            return cls((), (), [])
        keys, names = tuple(recipients[0].substitutions), tuple(recipients[0].headers)
        rows: list[Row] = []
        for r in recipients:
            if tuple(r.substitutions) != keys or tuple(r.headers) != names:
                return None
            values = (*r.substitutions.values(), *r.headers.values())
            rows.append((r.delivery_id, r.email, r.name, *values, r.message_id))
        return cls(keys, names, rows)

    def column(self, index: int) -> list[Any]:
        """One field of every row: 0 delivery id, 1 email, 2 name, -1 message id."""
        return [row[index] for row in self.rows]

    def substitution_values(self) -> list[Any]:
        """Every row's substitution values, one after the other."""
        start, end = 3, 3 + len(self.keys)
        return [value for row in self.rows for value in row[start:end]]

    def take(self, indexes: Sequence[int]) -> RecipientRows:
        rows = self.rows
        return RecipientRows(self.keys, self.header_names, [rows[i] for i in indexes])

    def recipient(self, row: Row) -> Recipient:
        middle = 3 + len(self.keys)
        return Recipient(
            row[0],
            row[1],
            row[2],
            dict(zip(self.keys, row[3:middle], strict=True)),
            dict(zip(self.header_names, row[middle:-1], strict=True)),
            row[-1],
        )

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> Recipient: ...

    @overload
    def __getitem__(self, index: slice) -> RecipientRows: ...

    def __getitem__(self, index: int | slice) -> Recipient | RecipientRows:
        if isinstance(index, slice):
            return RecipientRows(self.keys, self.header_names, self.rows[index])
        return self.recipient(self.rows[index])

    def __iter__(self) -> Iterator[Recipient]:
        return map(self.recipient, self.rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RecipientRows({list(self)!r})"


@dataclass(frozen=True, slots=True)
class Batch:
    """One rendered variant for many recipients; ``%%key%%`` placeholders in subject, html
    and text are filled per recipient from ``Recipient.substitutions``."""

    subject: str
    html: str
    text: str
    from_address: str
    from_name: str
    recipients: Sequence[Recipient]
    custom_args: Mapping[str, str] = field(default_factory=dict)
    journal: Journal | None = None  # for a journaled sender (see Sender)
    # Headers every message of the batch carries, checked by whoever made them (a list's
    # List-Id, Feedback-ID …); a recipient's own header of the same name wins.
    headers: Mapping[str, str] = field(default_factory=dict)
    # The recipients' headers and Message-IDs were made by syndicate and checked once for
    # the whole send (pipeline.delivering): a sender need not check them again.
    headers_checked: bool = False


class Outcome(NamedTuple):
    delivery_id: int
    state: OutcomeState
    error: str = ""


class Journal(Protocol):
    """Where a sender that sends a batch message by message notes each message's fate the
    moment it is known (pipeline.journal): a crash mid-batch then leaves in doubt only the
    message whose answer was pending, not the whole batch."""

    def sending(self, delivery_id: int) -> None:
        """Called before the byte that lets the server accept the message is written."""

    def settled(self, delivery_id: int, state: OutcomeState) -> None:
        """Called once the message's outcome is known (after ``sending``)."""


class Sender(Protocol):
    """A delivery backend. ``send`` returns one Outcome per recipient of the batch, in order;
    it raises SendAborted when no further batch can succeed (bad credentials).

    A sender that sends a batch one message at a time and reports each to ``Batch.journal``
    says so with a true ``journaled`` attribute (optional): it is given batches of
    ``max_batch`` only when the send keeps a journal, else batches of one."""

    max_batch: int

    def send(self, batch: Batch) -> list[Outcome]: ...

    def close(self) -> None: ...


class SendAborted(DeliveryError):
    """Stop the whole send: the provider refuses every request (e.g. 401/403).

    The request that got this answer was not accepted. ``outcomes`` holds the outcomes that
    were settled before it within the same batch (a batch split after a 400 may be partly
    sent); every recipient of the batch not in ``outcomes`` was not sent.
    """

    def __init__(self, reason: str, outcomes: Sequence[Outcome] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.outcomes: list[Outcome] = list(outcomes)


def same_variant(a: Batch, b: Batch) -> bool:
    """Whether two batches carry the same message (only their recipients differ): what a
    sender builds once per variant is built again only when this says no."""
    return a is b or (
        a.html == b.html
        and a.text == b.text
        and a.subject == b.subject
        and a.from_address == b.from_address
        and a.from_name == b.from_name
        and a.custom_args == b.custom_args
        and a.headers == b.headers
    )


class Messages:
    """One recipient's message as bytes (SMTP, outbox): the batch's variant is built once
    (mime_bulk.BulkMessage) and kept while the batches are of the same variant."""

    def __init__(self) -> None:
        self._last: tuple[Batch, BulkMessage] | None = None

    def render(self, batch: Batch, recipient: Recipient, date: datetime) -> bytes:
        """ValueError naming the field when an address or header is invalid."""
        if self._last is None or not same_variant(self._last[0], batch):
            from syndicate.mime_bulk import BulkMessage

            message = BulkMessage(
                subject=batch.subject,
                html=batch.html,
                text=batch.text,
                from_address=batch.from_address,
                from_name=batch.from_name,
            )
            self._last = (batch, message)
        return self._last[1].render(
            to=recipient.email,
            name=recipient.name,
            values=recipient.substitutions,
            headers=_merged(recipient.headers, batch.headers),
            message_id=recipient.message_id,
            date=date,
        )


def _merged(own: Mapping[str, str], common: Mapping[str, str]) -> Mapping[str, str]:
    """A recipient's headers, then the batch's it does not have itself."""
    if not common:
        return own
    merged = dict(own)
    for name, value in common.items():
        merged.setdefault(name, value)
    return merged


def header_value(value: str) -> str:
    """``content.header_safe`` (one line, no controls, spaces folded), with a fast path for
    a value that is already clean: a million recipients carry several headers each."""
    return value if _is_clean(value) else header_safe(value)


def clean_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Names and values through ``header_value``; one check when all are clean already."""
    if _is_clean(" | ".join([*headers.keys(), *headers.values()])):
        return dict(headers)
    return {header_safe(k): header_safe(v) for k, v in headers.items()}


def all_clean(recipients: RecipientRows, headers_checked: bool = False) -> bool:
    """Whether every name, Message-ID and header of the batch is clean already (one check
    for the batch: then each recipient's values are used as they are); ``headers_checked``
    (``Batch.headers_checked``): only the names need a look."""
    names = [name or "-" for name in recipients.column(2)]
    if headers_checked:
        return _is_clean(" | ".join(names) or "-")
    middle = 3 + len(recipients.keys)
    parts = [*recipients.header_names, *names]
    for row in recipients.rows:
        parts += row[middle:-1]
        parts.append(row[-1] or "-")
    return _is_clean(" | ".join(parts) or "-")


def _is_clean(text: str) -> bool:
    # What header_safe leaves unchanged: no control or other non-printable character (CR,
    # LF, TAB, Unicode spaces ...), no leading, trailing or doubled space.
    return text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "
