"""Listing a folder source: which files to read, and why any other entry is left out.

The only I/O of the folder source besides reading the files. Nothing outside the folder is
ever listed or read: a symbolic link is followed only when its target (resolved whole) is
inside the folder, each folder is listed once however many links lead to it, and FIFOs,
sockets and devices are never opened.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

TEXT_SUFFIXES = frozenset({".txt"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
ARTICLE_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES


@dataclass(frozen=True, slots=True)
class FileStat:
    relpath: str  # '/'-separated, relative to the scanned root
    size: int
    mtime_ns: int


@dataclass(slots=True)
class Scan:
    files: list[FileStat] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (relpath, what is wrong)

    def problem(self, relpath: str, what: str) -> None:
        self.problems.append((relpath, what))


def os_reason(exc: OSError) -> str:
    """An OSError in a few words, without the path (the caller names it)."""
    if exc.errno == errno.ELOOP:
        return "a loop of symbolic links"
    return (exc.strerror or type(exc).__name__).lower()


def scan_folder(root: Path) -> Scan:
    """Every article file under ``root``, recursively, sorted by path; hidden entries
    (a leading dot) are skipped. Raises OSError only when ``root`` itself cannot be listed."""
    scan = Scan()
    top = os.path.realpath(root)
    visited = {top}
    pending = [(os.fspath(root), "")]
    first = True
    while pending:
        directory, prefix = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError as exc:
            if first:
                raise
            scan.problem(prefix.rstrip("/"), f"cannot list this folder: {os_reason(exc)}")
            continue
        first = False
        for entry in entries:
            if not entry.name.startswith("."):
                _visit(entry, prefix + entry.name, top, visited, pending, scan)
    scan.files.sort(key=lambda f: f.relpath)
    scan.problems.sort()
    return scan


def _visit(
    entry: os.DirEntry[str],
    relpath: str,
    top: str,
    visited: set[str],
    pending: list[tuple[str, str]],
    scan: Scan,
) -> None:
    is_article = os.path.splitext(entry.name)[1].lower() in ARTICLE_SUFFIXES
    try:
        if entry.is_symlink():
            target = os.path.realpath(entry.path, strict=True)
            if not _inside(target, top):
                if is_article or os.path.isdir(target):
                    scan.problem(relpath, "symbolic link points outside the source folder: skipped")
                return
            info = os.stat(target)
        else:
            target = entry.path
            info = entry.stat(follow_symlinks=False)
    except OSError as exc:
        if is_article or exc.errno == errno.ELOOP:
            scan.problem(relpath, f"cannot read: {os_reason(exc)}")
        return
    if stat.S_ISDIR(info.st_mode):
        real = os.path.realpath(target)
        if real in visited:
            scan.problem(relpath, "folder reached a second time through a link: skipped")
            return
        visited.add(real)
        pending.append((target, relpath + "/"))
    elif is_article:
        if stat.S_ISREG(info.st_mode):
            scan.files.append(FileStat(relpath, info.st_size, info.st_mtime_ns))
        else:
            scan.problem(relpath, "not a regular file (a FIFO, socket or device): skipped")


def _inside(target: str, top: str) -> bool:
    return target == top or target.startswith(top.rstrip(os.sep) + os.sep)


def read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file; opening never blocks (a FIFO put in its place since the
    scan is refused, not waited on)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
