"""Subscriber input, checked: addresses (email-validator, syntax only), names, categories.

Pure: text in, values and error lines out. No DNS, no database.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class AddressError(ValueError):
    """Not a usable email address; the message is email-validator's reason."""


def normalize_address(text: str) -> str:
    """The address in email-validator's normalized form (domain lower-cased, Unicode NFC)."""
    candidate = text.strip()
    if not candidate:
        raise AddressError("The email address is empty.")
    try:
        checked = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise AddressError(str(exc)) from None
    return str(checked.normalized)


def parse_categories(text: str) -> frozenset[str]:
    """``"news, tech,,"`` → {"news", "tech"}: comma-separated, trimmed, empty ones dropped."""
    return frozenset(part for part in (_clean(p) for p in text.split(",")) if part)


def clean_name(text: str) -> str:
    """A display name on one line: control characters gone, whitespace runs made one space."""
    return _clean(text)


def _clean(text: str) -> str:
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(printable.split())
