"""A Message as an RFC 5322 email: multipart/alternative, text first, then HTML.

Pure: the date and the Message-ID come from the caller. Every header value loses CR/LF
before it reaches the email package, so no value can start a header of its own.
"""

from __future__ import annotations

import re
from datetime import datetime
from email import policy as email_policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid

from syndicate.content import header_safe
from syndicate.models import Message

# Line length 78 for folding; bodies are quoted-printable or base64 whenever they are not
# plain ASCII with short lines, so the whole message is 7-bit and travels through any relay.
# Raw headers (below) are written as we fold them.
POLICY = email_policy.SMTP.clone(cte_type="7bit", refold_source="none")

MAX_LINE = 78
MAX_HARD_LINE = 998
_MSG_ID = re.compile(r"[!-;=?-~]+@[!-;=?-~]+")  # printable ASCII, no '<' or '>'
_FIELD_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII except ':' (RFC 5322 ftext)
RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)


def build_email(message: Message, *, date: datetime) -> EmailMessage:
    """The message with From, To, Subject, Date, Message-ID, MIME-Version and its extra
    headers, and a text/plain + text/html alternative body (UTF-8).

    The Message-ID is ``message.message_id``, else a new one in the From address's domain.
    ValueError names the field when an address or header is invalid.
    """
    if date.tzinfo is None:
        raise ValueError(f"Date: {date.isoformat()} has no time zone")
    sender = _address("From", message.from_name, message.from_address)
    recipient = _address("To", message.to_name, message.to)
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = header_safe(message.subject)
    msg["Date"] = date
    msg["Message-ID"] = _message_id(message.message_id, sender.domain)
    for name, value in message.headers.items():
        _add_header(msg, name, value)
    msg.set_content(message.text, subtype="plain", charset="utf-8")
    msg.add_alternative(message.html, subtype="html", charset="utf-8")
    for part in msg.iter_parts():
        del part["MIME-Version"]  # add_alternative gives the part one; it belongs on top only
    return msg


def to_bytes(msg: EmailMessage) -> bytes:
    """The message as it goes on the wire: CRLF line ends, lines of at most 998 octets."""
    return msg.as_bytes(policy=msg.policy)


def _address(field: str, name: str, addr_spec: str) -> Address:
    """An address whose domain is ASCII (IDNA); a non-ASCII local part is refused."""
    local, at, domain = header_safe(addr_spec).rpartition("@")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
        return Address(display_name=header_safe(name), addr_spec=f"{local}{at}{ascii_domain}")
    except (HeaderParseError, ValueError, IndexError) as exc:  # defects are ValueErrors too
        raise ValueError(f"{field}: invalid address {addr_spec!r}: {exc}") from None


def _message_id(value: str, domain: str) -> str:
    if not value:
        return make_msgid(domain=domain or None)
    bare = value.strip().removeprefix("<").removesuffix(">")
    if not _MSG_ID.fullmatch(bare):
        raise ValueError(f"Message-ID: {value!r} is not of the form <id@domain>")
    return f"<{bare}>"


def checked_header(name: str, value: str) -> str:
    """The value as it may go into header ``name`` (one line); ValueError when the name is
    not a header name or one that the message builders set themselves. Every extra header
    of every mail goes through here once (pipeline.mailheaders builds them with it)."""
    if not _FIELD_NAME.fullmatch(name):
        raise ValueError(f"header {name!r}: not a valid header name")
    if name.lower() in RESERVED_HEADERS:
        raise ValueError(f"header {name!r}: set by build_email, not by Message.headers")
    return header_safe(value)


def _add_header(msg: EmailMessage, name: str, value: str) -> None:
    clean = checked_header(name, value)
    if clean.isascii():
        # Stored as folded here: the email package would otherwise turn a long URL (as in
        # List-Unsubscribe) into RFC 2047 encoded-words, which no client reads as a URL.
        msg.set_raw(name, fold_ascii(name, clean))
    else:
        msg[name] = clean  # the header registry encodes it (RFC 2047)


def fold_ascii(name: str, value: str) -> str:
    """``value`` folded at spaces into lines of at most 78 characters where a line can be;
    a longer word stands on its own line, which may reach 998."""
    lines = [f"{name}:"]
    for word in value.split(" "):
        if len(lines[-1]) + 1 + len(word) > MAX_LINE and lines[-1] != f"{name}:":
            lines.append("")
        lines[-1] += " " + word
        if len(lines[-1]) > MAX_HARD_LINE:
            raise ValueError(f"header {name!r}: a word is longer than {MAX_HARD_LINE} characters")
    return "\n".join(lines)[len(name) + 2 :]
