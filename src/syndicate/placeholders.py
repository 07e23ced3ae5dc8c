"""``%%key%%`` placeholders: how a message rendered once is personalized by substitution.

The digest renderer leaves them in its output; the senders (and SendGrid, server-side)
fill them per recipient. One implementation for both.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"%%([A-Za-z0-9_]+)%%")


def substitute(template: str, values: Mapping[str, str], *, escape: bool = False) -> str:
    """Fill ``%%key%%`` from ``values``; unknown placeholders stay as they are.

    With ``escape`` the values are HTML-escaped, quotes too (for the HTML part, attributes
    included). One pass: a value that itself looks like a placeholder is not expanded again.
    """
    if "%%" not in template:
        return template

    def fill(match: re.Match[str]) -> str:
        value = values.get(match[1])
        if value is None:
            return match[0]
        return html.escape(value, quote=True) if escape else value

    return PLACEHOLDER.sub(fill, template)


def placeholders(template: str) -> set[str]:
    """The keys of the ``%%key%%`` placeholders in a template."""
    return set(PLACEHOLDER.findall(template))


def rename_placeholders(template: str, renames: Mapping[str, str]) -> str:
    """Rewrite ``%%old%%`` to ``%%new%%`` for the keys in ``renames``."""
    if not renames:
        return template
    return PLACEHOLDER.sub(lambda m: f"%%{renames[m[1]]}%%" if m[1] in renames else m[0], template)
