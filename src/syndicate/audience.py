"""Subscriber input, checked: addresses (email-validator, syntax only), names, categories.

Pure: text in, values and error lines out. No DNS, no database.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from syndicate.errors import InputError

NAME_LIMIT = 100  # characters of a subscriber's name, wherever it comes from


class AddressError(InputError):
    """Not a usable email address; the message is email-validator's reason."""


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


def _clean(text: str) -> str:
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(printable.split())
