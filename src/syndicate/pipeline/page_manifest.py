"""``.pages.stamps`` and ``.pages.delta``: what the output folder's article pages are.

The manifest (``.pages.stamps``) lists every page a build wrote (``path\\tguid\\tstamp``)
under a JSON header (fingerprint, mark, built). A build that changed a few pages does not
rewrite it: it writes the delta (``.pages.delta``), the same header and only the pages
changed since the manifest (``path\\tguid\\tstamp``, or ``path`` alone: gone). Past
``COMPACT_AFTER`` changed pages, or after a full comparison, the manifest is written whole
and the delta removed — the delta first, so a build killed in between leaves the older
manifest alone, whose mark makes the next build decide those pages again. Each file is
replaced by rename: a build killed at any moment leaves the state before or after it.

A build with a usable mark reads the manifest's bytes but parses only the lines of the
pages it decides again (``HeldPages``): 100,000 lines are not split for one change (past
``SCANS`` lookups they are, once).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from syndicate.feeds.publish import INDEX, plain_path
from syndicate.store.build_reads import Mark

MANIFEST = ".pages.stamps"  # not named .json, which would make it a feed to WebSub
DELTA = ".pages.delta"
PAGE_END = "/" + INDEX  # every page's path; the manifest names nothing else to delete
COMPACT_AFTER = 2_000  # changed pages in the delta before the manifest is written whole
SCANS = 64  # lookups in the manifest's bytes; past them it is parsed (~0.1 s at 100,000)

Held = tuple[str, str]  # a page's (guid, stamp)


@dataclass(frozen=True, slots=True)
class Header:
    fingerprint: str = ""
    mark: Mark | None = None
    built: datetime | None = None

    def encode(self) -> str:
        mark = self.mark or Mark()
        built = self.built.isoformat() if self.built is not None else ""
        return json.dumps(
            {"fingerprint": self.fingerprint, "mark": [mark.seq, mark.guid], "built": built}
        )


@dataclass(frozen=True, slots=True)
class Manifest:
    """What the manifest and its delta say of the pages on disk."""

    fingerprint: str = ""
    mark: Mark | None = None
    built: datetime | None = None
    pages: dict[str, Held] = field(default_factory=dict)  # path -> (guid, stamp)

    def encode(self) -> bytes:
        header = Header(self.fingerprint, self.mark, self.built).encode()
        lines = [header, *(f"{p}\t{g}\t{s}" for p, (g, s) in sorted(self.pages.items()))]
        return "\n".join(lines).encode("utf-8") + b"\n"


@dataclass
class ManifestWrite:
    """Done last, after every page and deletion: ``drop`` these files, then write ``files``."""

    files: dict[str, bytes]
    drop: list[str] = field(default_factory=list)


def whole(manifest: Manifest) -> ManifestWrite:
    return ManifestWrite({MANIFEST: manifest.encode()}, [DELTA])


class HeldPages:
    """The pages on disk as the manifest and its delta hold them, looked up by path or by
    guid in the manifest's bytes (each line parsed only when asked for); past
    ``SCANS`` lookups the manifest is parsed once instead (many changes)."""

    def __init__(self, header: Header, base: bytes, delta: Mapping[str, Held | None]) -> None:
        self.header = header
        self._base = base  # the manifest's page lines, after a "\n"
        self.delta = dict(delta)
        self._scans = 0
        self._index: tuple[dict[str, Held], dict[str, set[str]]] | None = None

    def get(self, path: str) -> Held | None:
        if path in self.delta:
            return self.delta[path]
        if (index := self._parsed()) is not None:
            return index[0].get(path)
        start = self._base.find(b"\n" + path.encode("utf-8") + b"\t")
        parsed = self._line_at(start + 1) if start >= 0 else None
        return parsed[1] if parsed is not None else None

    def paths_of(self, guid: str) -> set[str]:
        """The paths whose page is this article's."""
        found = {path for path, held in self.delta.items() if held and held[0] == guid}
        if (index := self._parsed()) is not None:
            return found | {p for p in index[1].get(guid, ()) if p not in self.delta}
        needle, at = b"\t" + guid.encode("utf-8") + b"\t", 0
        while (at := self._base.find(needle, at)) >= 0:
            parsed = self._line_at(self._base.rfind(b"\n", 0, at) + 1)
            at += len(needle)
            if parsed is not None and parsed[1][0] == guid and parsed[0] not in self.delta:
                found.add(parsed[0])
        return found

    def _parsed(self) -> tuple[dict[str, Held], dict[str, set[str]]] | None:
        self._scans += 1
        if self._index is None and self._scans > SCANS:
            pages = dict(_parse(self._base.decode("utf-8").splitlines()))
            owned: dict[str, set[str]] = {}
            for path, (guid, _stamp) in pages.items():
                owned.setdefault(guid, set()).add(path)
            self._index = pages, owned
        return self._index

    def _line_at(self, start: int) -> tuple[str, Held] | None:
        end = self._base.find(b"\n", start)
        return _held(self._base[start : end if end >= 0 else len(self._base)].decode("utf-8"))

    def changed(self, header: Header, pages: Mapping[str, Held | None]) -> ManifestWrite:
        """The write that records these pages decided again (None: no page) under ``header``."""
        delta = {**self.delta, **pages}
        if len(delta) > COMPACT_AFTER:
            return whole(self.whole(header, delta))
        lines = [header.encode()]
        for path, held in sorted(delta.items()):
            lines.append(path if held is None else f"{path}\t{held[0]}\t{held[1]}")
        return ManifestWrite({DELTA: "\n".join(lines).encode("utf-8") + b"\n"})

    def whole(self, header: Header, delta: Mapping[str, Held | None] | None = None) -> Manifest:
        pages = dict(_parse(self._base.decode("utf-8").splitlines()))
        for path, held in (self.delta if delta is None else delta).items():
            if held is None:
                pages.pop(path, None)
            else:
                pages[path] = held
        return Manifest(header.fingerprint, header.mark, header.built, pages)


def _held(line: str) -> tuple[str, Held] | None:
    """A page line's (path, (guid, stamp)); None for anything that is not a page of ours. A
    line from before the change marks (``path\\tstamp``) has no guid."""
    path, _, rest = line.partition("\t")
    if not rest or not path.endswith(PAGE_END) or not plain_path(path):
        return None
    guid, _, stamp = rest.partition("\t") if rest.count("\t") else ("", "", rest)
    return path, (guid, stamp)


def _parse(lines: Iterable[str]) -> Iterable[tuple[str, Held]]:
    for line in lines:
        if (parsed := _held(line)) is not None:
            yield parsed


def _delta_lines(lines: Iterable[str]) -> dict[str, Held | None]:
    delta: dict[str, Held | None] = {}
    for line in lines:
        if "\t" not in line:
            if line.endswith(PAGE_END) and plain_path(line):
                delta[line] = None
        elif (parsed := _held(line)) is not None:
            delta[parsed[0]] = parsed[1]
    return delta


def _read_header(line: str) -> Header:
    head = json.loads(line)
    return Header(str(head["fingerprint"]), _mark(head), _built(head))


def held_pages(output: Path) -> HeldPages | None:
    """The manifest (with its delta, when there is one) on disk; None if it is missing or
    unreadable (every page is then compared, none is known to delete)."""
    try:
        base = (output / MANIFEST).read_bytes()
        first, _, lines = base.partition(b"\n")
        header = _read_header(first.decode("utf-8"))
        delta: dict[str, Held | None] = {}
        try:
            text = (output / DELTA).read_text(encoding="utf-8")
        except FileNotFoundError:
            pass
        else:
            head, *rest = text.splitlines() or [""]
            header, delta = _read_header(head), _delta_lines(rest)
        return HeldPages(header, b"\n" + lines, delta)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_header(output: Path) -> Header:
    """The header of the delta, or of the manifest without one; an empty one if neither is
    readable (the manifest missing: the delta is not used)."""
    try:
        with (output / MANIFEST).open(encoding="utf-8") as handle:
            header = _read_header(handle.readline())
        try:
            with (output / DELTA).open(encoding="utf-8") as handle:
                return _read_header(handle.readline())
        except FileNotFoundError:
            return header
    except (OSError, ValueError, KeyError, TypeError):
        return Header()


def read_manifest(output: Path) -> Manifest:
    """Every page the manifest and its delta hold; an empty manifest if unreadable."""
    held = held_pages(output)
    return Manifest() if held is None else held.whole(held.header)


def _mark(head: dict[str, object]) -> Mark | None:
    match head.get("mark"):
        case [int(seq), str(guid)]:
            return Mark(seq, guid)
    return None


def _built(head: dict[str, object]) -> datetime | None:
    built = head.get("built")
    if not isinstance(built, str) or not built:
        return None
    moment = datetime.fromisoformat(built)
    return moment if moment.tzinfo is not None else None
