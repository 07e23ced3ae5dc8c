"""One variant's message for many recipients: built once, then per recipient only its own
parts written into bytes (issue 14: the email package per recipient cost ~6 ms a message).

The message is what ``mime.build_email`` makes of the same parts: multipart/alternative,
text then HTML, UTF-8; each part quoted-printable (7-bit whatever the text, lines within
76 octets, and a boundary of ``=`` runs can never occur inside it). Built once: From, a
Subject without placeholders, MIME-Version, the part headers, the bodies split at their
placeholders. Per recipient: To, Date, Message-ID, the extra headers and the two bodies
filled and encoded. A value the fast paths do not cover (a name or subject that needs
RFC 2047, a long line, an address with an IDNA domain) goes through the email package, as
``build_email`` does; an invalid one is a ValueError naming the field.
"""

from __future__ import annotations

import binascii
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from email.utils import format_datetime

from syndicate.content import header_safe
from syndicate.mime import (
    MAX_LINE,
    POLICY,
    _address,
    _message_id,
    checked_header,
    fold_ascii,
)
from syndicate.placeholders import PLACEHOLDER, Template

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_NAME = re.compile(rf"{_ATEXT}(?: {_ATEXT})*")  # a display name needing no quotes
_PLAIN_ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_PART = (
    '--{boundary}\r\nContent-Type: text/{kind}; charset="utf-8"\r\n'
    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
)


class BulkMessage:
    """The message of one variant; ``render`` gives one recipient's bytes."""

    def __init__(
        self, *, subject: str, html: str, text: str, from_address: str, from_name: str
    ) -> None:
        sender = _address("From", from_name, from_address)
        self.domain = sender.domain
        self._subject = Template(subject)
        fixed_subject = "" if self._subject.keys else _line("Subject", header_safe(subject))
        boundary = "=" * 15 + secrets.token_hex(8) + "=="
        self._head = (
            _fold("From", str(sender))
            + fixed_subject
            + "MIME-Version: 1.0\r\n"
            + f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n'
        ).encode("ascii")
        self._text_head = ("\r\n" + _PART.format(boundary=boundary, kind="plain")).encode()
        self._html_head = ("\r\n" + _PART.format(boundary=boundary, kind="html")).encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._text, self._html = _Body(text), _Body(html)
        self._names: set[str] = set()  # extra header names checked already

    def render(
        self,
        *,
        to: str,
        name: str,
        values: Mapping[str, str],
        headers: Mapping[str, str],
        message_id: str,
        date: datetime,
    ) -> bytes:
        if date.tzinfo is None:
            raise ValueError(f"Date: {date.isoformat()} has no time zone")
        lines = [_to_line(name, to)]
        if self._subject.keys:
            lines.append(_line("Subject", header_safe(self._subject.fill(values))))
        lines.append(f"Date: {format_datetime(date)}\r\n")
        lines.append(f"Message-ID: {_message_id(message_id, self.domain)}\r\n")
        for key, value in headers.items():
            if key not in self._names:
                checked_header(key, "")
                self._names.add(key)
            lines.append(_line(key, header_safe(value)))
        return b"".join(
            (
                self._head,
                "".join(lines).encode("ascii"),
                self._text_head,
                self._text.render(values),
                self._html_head,
                self._html.render(values, escape=True),
                self._tail,
            )
        )


def _to_line(name: str, address: str) -> str:
    clean = header_safe(name)
    if (
        _PLAIN_ADDRESS.fullmatch(address)
        and (not clean or _PLAIN_NAME.fullmatch(clean))
        and len(clean) + len(address) < MAX_LINE - 8
    ):
        return f"To: {clean} <{address}>\r\n" if clean else f"To: {address}\r\n"
    return _fold("To", str(_address("To", name, address)))


def _line(name: str, value: str) -> str:
    """One header, folded; ``value`` is one line already."""
    if value.isascii():
        folded = fold_ascii(name, value).replace("\n", "\r\n")
        return f"{name}: {folded}\r\n"
    return _fold(name, value)


_REFOLD = POLICY.clone(refold_source="all")  # so that fold() parses and encodes every value


def _fold(name: str, value: str) -> str:
    # The email package's own folding and RFC 2047 encoding, as build_email gets them.
    folded: str = _REFOLD.fold(name, value)
    return folded


class _Body:
    """A body part, quoted-printable, encoded line by line (the encoding of a line does not
    depend on the others): the lines without a placeholder once, the others per recipient."""

    def __init__(self, text: str) -> None:
        self._parts: list[bytes | Template] = []
        fixed: list[bytes] = []
        for line in _lines(text).split("\n"):
            if PLACEHOLDER.search(line):
                if fixed:
                    self._parts.append(b"\r\n".join(fixed))
                    fixed = []
                self._parts.append(Template(line))
            else:
                fixed.append(_quoted_printable(line))
        if fixed or not self._parts:
            self._parts.append(b"\r\n".join(fixed))

    def render(self, values: Mapping[str, str], *, escape: bool = False) -> bytes:
        return b"\r\n".join(
            [
                part
                if isinstance(part, bytes)
                else _quoted_printable(part.fill(values, escape=escape))
                for part in self._parts
            ]
        )


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _quoted_printable(text: str) -> bytes:
    encoded = binascii.b2a_qp(_lines(text).encode("utf-8"), istext=True)
    return encoded.replace(b"\n", b"\r\n")
