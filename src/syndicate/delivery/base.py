"""What every sender speaks: batches in, one outcome per recipient out.

A Sender only sends. The ledger decides who is in a batch and what an outcome means for a row:

- ``sent``: the provider accepted the message;
- ``failed``: the provider refused this recipient for good (the error says why);
- ``retry``: certainly not accepted; safe to send again later;
- ``uncertain``: the request may have been accepted (the answer was lost); never resent
  automatically.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from syndicate.content import header_safe
from syndicate.models import Message

# Keys the ledger puts in ``Batch.custom_args`` / per-recipient custom_args.
WEEK_ARG = "week"
DELIVERY_ID_ARG = "delivery_id"

OutcomeState = Literal["sent", "failed", "uncertain", "retry"]

_PLACEHOLDER = re.compile(r"%%([^%\s]+)%%")


@dataclass(frozen=True, slots=True)
class Recipient:
    """One addressee of a batch. ``headers`` are final per-recipient header values."""

    delivery_id: int
    email: str
    name: str = ""
    substitutions: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    message_id: str = ""


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


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery_id: int
    state: OutcomeState
    error: str = ""


class Sender(Protocol):
    """A delivery backend. ``send`` returns one Outcome per recipient of the batch, in order;
    it raises SendAborted when no further batch can succeed (bad credentials)."""

    max_batch: int

    def send(self, batch: Batch) -> list[Outcome]: ...

    def close(self) -> None: ...


class DeliveryError(Exception):
    """Base of the delivery errors."""


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


# --- substitution: the one implementation every sender shares ---------------------------


def substitute(template: str, values: Mapping[str, str], *, escape: bool = False) -> str:
    """Fill ``%%key%%`` from ``values``; unknown placeholders stay as they are.

    With ``escape`` the values are HTML-escaped (for the HTML part). One pass: a value that
    itself looks like a placeholder is not expanded again.
    """
    if "%%" not in template:
        return template

    def fill(match: re.Match[str]) -> str:
        value = values.get(match[1])
        if value is None:
            return match[0]
        return html.escape(value) if escape else value

    return _PLACEHOLDER.sub(fill, template)


def placeholders(template: str) -> set[str]:
    """The keys of the ``%%key%%`` placeholders in a template."""
    return set(_PLACEHOLDER.findall(template))


def rename_placeholders(template: str, renames: Mapping[str, str]) -> str:
    """Rewrite ``%%old%%`` to ``%%new%%`` for the keys in ``renames``."""
    if not renames:
        return template
    return _PLACEHOLDER.sub(lambda m: f"%%{renames[m[1]]}%%" if m[1] in renames else m[0], template)


def header_value(value: str) -> str:
    """``content.header_safe`` (one line, no controls, spaces folded), with a fast path for
    a value that is already clean: a million recipients carry several headers each."""
    return value if _is_clean(value) else header_safe(value)


def clean_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Names and values through ``header_value``; one check when all are clean already."""
    if _is_clean(" | ".join([*headers.keys(), *headers.values()])):
        return dict(headers)
    return {header_safe(k): header_safe(v) for k, v in headers.items()}


def _is_clean(text: str) -> bool:
    # What header_safe leaves unchanged: no control or other non-printable character (CR,
    # LF, TAB, Unicode spaces ...), no leading, trailing or doubled space.
    return text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "


def personalize(batch: Batch, recipient: Recipient) -> Message:
    """The finished message for one recipient: placeholders filled (HTML-escaped in the HTML
    part), subject on one line, the ledger id among the custom args."""
    values = recipient.substitutions
    return Message(
        to=recipient.email,
        to_name=header_value(recipient.name),
        subject=header_value(substitute(batch.subject, values)),
        html=substitute(batch.html, values, escape=True),
        text=substitute(batch.text, values),
        from_address=batch.from_address,
        from_name=header_value(batch.from_name),
        message_id=recipient.message_id,
        headers=clean_headers(recipient.headers),
        custom_args={**batch.custom_args, DELIVERY_ID_ARG: str(recipient.delivery_id)},
    )
