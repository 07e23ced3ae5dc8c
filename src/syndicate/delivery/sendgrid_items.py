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

from syndicate.delivery.base import DELIVERY_ID_ARG, Recipient

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

    def texts(self, recipients: Sequence[Recipient], names: Sequence[str]) -> list[bytes] | None:
        """Each recipient's personalization, ``names`` their ``to`` names (already made
        safe); None when the batch is not of one shape (or a header is the Message-ID)."""
        first = recipients[0]
        keys, headers = tuple(first.substitutions), tuple(first.headers)
        escaped = self._escaped
        if "Message-ID" in headers or any(k not in first.substitutions for k in escaped):
            return None
        values: list[str] = []
        add = values.extend
        for r, name in zip(recipients, names, strict=True):
            subs, mid = r.substitutions, r.message_id
            if tuple(subs) != keys or tuple(r.headers) != headers or not mid:
                return None
            mid = angle(mid)
            if escaped:
                add((r.email, name, str(r.delivery_id), *subs.values()))
                add([html.escape(subs[k]) for k in escaped])
                add((*r.headers.values(), mid))
            else:
                add((r.email, name, str(r.delivery_id), *subs.values(), *r.headers.values(), mid))
        # orjson escapes every value at once; '","' occurs in its output only between two
        # strings (a quote inside a string is always escaped).
        parts = orjson.dumps(values)[2:-2].split(b'","')
        width = len(parts) // len(recipients)
        if width * len(recipients) != len(parts):  # not all strings: never from a send
            return None
        named, unnamed = (
            self._template((keys, headers, True)),
            self._template((keys, headers, False)),
        )
        rows = zip(*[iter(parts)] * width, strict=True)  # ``width`` parts at a time, as tuples
        return [(named if name else unnamed) % row for row, name in zip(rows, names, strict=True)]

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
