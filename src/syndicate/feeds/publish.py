"""The I/O edge: write files atomically, and only the ones whose bytes changed; remove the
ones no longer published."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from syndicate.fileio import write_file_atomically

INDEX = "index.html"  # a folder's page: the front page, an article's page


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def plain_path(relative: str) -> bool:
    """A relative path with no "", ".", ".." or doubled "/" components, no backslash or NUL
    (string checks only: a manifest of 100,000 pages is checked line by line)."""
    if not relative or "\\" in relative or "\x00" in relative:
        return False
    return not any(part in _NOT_PLAIN for part in relative.split("/"))


_NOT_PLAIN = frozenset({"", ".", ".."})  # "" also catches a leading, trailing or doubled "/"


def _target(root: Path, relative: str) -> Path:
    """``root / relative``, refusing anything that is not a plain path inside root."""
    if not plain_path(relative):
        raise ValueError(f"{relative!r}: not a plain relative path under {root}")
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise ValueError(f"{relative!r}: resolves outside {root} (a symlink?)")
    return target


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except FileNotFoundError:
        return False


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_match(root: Path, digests: Mapping[str, str]) -> bool:
    """Whether each file (path relative to root) holds the bytes of its digest."""
    base = root.resolve()
    for relative, expected in digests.items():
        try:
            if digest(_target(base, relative).read_bytes()) != expected:
                return False
        except (OSError, ValueError):
            return False
    return True


def write_atomically(root: Path, files: Mapping[str, bytes]) -> WriteReport:
    """Write each file (path relative to root) by temp file + fsync + rename.

    A file whose bytes are already on disk is not touched (its mtime stays). Every path is
    checked before anything is written, so one bad path writes nothing.
    """
    base = root.resolve()
    targets = [(relative, _target(base, relative)) for relative in files]
    report = WriteReport()
    for relative, target in targets:
        data = files[relative]
        if _same_bytes(target, data):
            report.unchanged.append(relative)
        else:
            write_file_atomically(target, data)
            report.written.append(relative)
    return report


def remove_files(root: Path, paths: Sequence[str]) -> list[str]:
    """Delete these files (paths relative to root, each checked as write_atomically checks
    them), and each folder they leave empty up to root; the ones that were there."""
    base = root.resolve()
    targets = [(relative, _target(base, relative)) for relative in paths]
    removed = []
    for relative, target in targets:
        try:
            target.unlink()
        except FileNotFoundError:
            continue
        removed.append(relative)
        folder = target.parent
        while folder != base:
            try:
                folder.rmdir()  # only when empty
            except OSError:
                break
            folder = folder.parent
    return removed
