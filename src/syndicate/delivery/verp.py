"""VERP: the envelope sender of each SMTP message names its ledger row, so a bounce that
returns no headers of the original (some MTAs send none) still says which delivery it was:
``bounces@example.org`` -> ``bounces+2026-W47.12@example.org``. Pure."""

from __future__ import annotations

import re

_KEY = re.compile(r"^[^@+]+\+([A-Za-z0-9=\-]{1,32})\.([0-9]{1,10})@[^@]+$")


def verp_address(return_path: str, week: str, delivery_id: int) -> str:
    """The envelope sender for one delivery (``return_path`` itself for a test copy or a
    one-off mail, which have no ledger row). A ``:`` in the week becomes ``=``."""
    local, at, domain = return_path.rpartition("@")
    tag = week.replace(":", "=")
    if not at or delivery_id <= 0 or not re.fullmatch(r"[A-Za-z0-9=\-]{1,32}", tag):
        return return_path
    return f"{local.split('+')[0]}+{tag}.{delivery_id}@{domain}"


def verp_key(address: str) -> tuple[str, int | None]:
    """(week, delivery id) of a VERP address, or ("", None)."""
    found = _KEY.match(address.strip().strip("<>"))
    if not found or not 0 < int(found[2]) <= 2**31 - 1:
        return "", None
    return found[1].replace("=", ":"), int(found[2])
