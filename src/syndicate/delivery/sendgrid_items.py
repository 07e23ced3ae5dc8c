"""A batch's personalizations as JSON text, from one template per shape. Pure.

Every recipient of a send has the same substitution keys and header names, so their
personalizations differ only in values: the JSON around the values is built once per shape
(``%``-format bytes) and each recipient costs one formatting of its values, which orjson
escapes for the whole batch in one call. When the batch is not of one shape, the caller
falls back to building each personalization as a dict.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

import orjson

from syndicate.delivery.base import DELIVERY_ID_ARG, RecipientRows

# The shape of one recipient's personalization: substitution keys, header names, whether it
# has a name (a Message-ID it always has).
_Shape = tuple[tuple[str, ...], tuple[str, ...], bool]


class Items:
    """The personalization templates of one variant's requests (``escaped``: the HTML keys
    that get a second, HTML-escaped ``%%html:key%%`` substitution)."""

    def __init__(self, escaped: frozenset[str], html_prefix: str) -> None:
        self._escaped = tuple(sorted(escaped))
        self._prefix = html_prefix
        self._templates: dict[_Shape, bytes] = {}

    def texts(self, rows: RecipientRows, names: Sequence[str]) -> list[bytes] | None:
        """Each recipient's personalization, ``names`` their ``to`` names (already made
        safe); None when one has no Message-ID, or a header is the Message-ID."""
        keys, headers = rows.keys, rows.header_names
        escaped = self._escaped
        if "Message-ID" in headers or any(k not in keys for k in escaped):
            return None
        at = [3 + keys.index(k) for k in escaped]  # the escaped keys' places in a row
        middle = 3 + len(keys)
        values: list[str] = []
        add = values.extend
        for row, name in zip(rows.rows, names, strict=True):
            mid = row[-1]
            if not mid:
                return None
            mid = mid if mid[:1] == "<" else f"<{mid}>"
            if at:
                add((row[1], name, str(row[0]), *row[3:middle]))
                add([html.escape(row[i]) for i in at])
                add((*row[middle:-1], mid))
            else:
                add((row[1], name, str(row[0]), *row[3:-1], mid))
        # orjson escapes every value at once; '","' occurs in its output only between two
        # strings (a quote inside a string is always escaped).
        parts = orjson.dumps(values)[2:-2].split(b'","')
        width = len(parts) // len(rows)
        if width * len(rows) != len(parts):  # not all strings: never from a send
            return None
        named, unnamed = (
            self._template((keys, headers, True)),
            self._template((keys, headers, False)),
        )
        each = zip(*[iter(parts)] * width, strict=True)  # ``width`` parts at a time, as tuples
        return [(named if name else unnamed) % part for part, name in zip(each, names, strict=True)]

    def _template(self, shape: _Shape) -> bytes:
        template = self._templates.get(shape)
        if template is None:
            template = self._templates[shape] = self._build(shape)
        return template

    def _build(self, shape: _Shape) -> bytes:
        keys, headers, named = shape
        # Every row has a name value; a row without a name leaves it out (``%.0s``).
        to = '{"email":"%s"' + (',"name":"%s"' if named else "%.0s") + "}"
        parts = ['{"to":[' + to + "]", ',"custom_args":{' + _key(DELIVERY_ID_ARG) + ':"%s"}']
        subs = [f"%%{k}%%" for k in keys] + [f"%%{self._prefix}{k}%%" for k in self._escaped]
        if subs:
            parts.append(',"substitutions":{' + ",".join(_key(s) + ':"%s"' for s in subs) + "}")
        names = [*headers, "Message-ID"]
        parts.append(',"headers":{' + ",".join(_key(n) + ':"%s"' for n in names) + "}")
        return ("".join(parts) + "}").encode("utf-8")


def _key(text: str) -> str:
    """A JSON object key, as literal text of a %-format."""
    return json.dumps(text, ensure_ascii=False).replace("%", "%%")


def angle(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"
