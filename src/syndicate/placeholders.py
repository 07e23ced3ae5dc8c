"""``%%key%%`` placeholders: how a message rendered once is personalized by substitution.

The digest renderer leaves them in its output; the senders (and SendGrid, server-side)
fill them per recipient. One implementation for both.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"%%([A-Za-z0-9_]+)%%")


class Template:
    """A text with ``%%key%%`` placeholders, split once, filled many times: a send fills
    the same variant for every recipient, so the scan for placeholders is done once."""

    __slots__ = ("_parts", "keys")

    def __init__(self, text: str) -> None:
        self._parts = PLACEHOLDER.split(text)  # literal, key, literal, key, ..., literal
        self.keys = frozenset(self._parts[1::2])

    def fill(self, values: Mapping[str, str], *, escape: bool = False) -> str:
        """Every ``%%key%%`` from ``values``; unknown placeholders stay as they are.

        With ``escape`` the values are HTML-escaped, quotes too (for the HTML part, attributes
        included). One pass: a value that itself looks like a placeholder is not expanded."""
        parts = self._parts
        if len(parts) == 1:
            return parts[0]
        out = parts[:]
        for i in range(1, len(parts), 2):
            value = values.get(parts[i])
            if value is None:
                out[i] = f"%%{parts[i]}%%"
            else:
                out[i] = html.escape(value, quote=True) if escape else value
        return "".join(out)


def substitute(template: str, values: Mapping[str, str], *, escape: bool = False) -> str:
    """``Template(template).fill(values, escape=escape)``, for a text filled once."""
    if "%%" not in template:
        return template
    return Template(template).fill(values, escape=escape)


def placeholders(template: str) -> set[str]:
    """The keys of the ``%%key%%`` placeholders in a template."""
    return set(PLACEHOLDER.findall(template))


def rename_placeholders(template: str, renames: Mapping[str, str]) -> str:
    """Rewrite ``%%old%%`` to ``%%new%%`` for the keys in ``renames``."""
    if not renames:
        return template
    return PLACEHOLDER.sub(lambda m: f"%%{renames[m[1]]}%%" if m[1] in renames else m[0], template)
