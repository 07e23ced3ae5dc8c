"""The I/O edge: write files atomically, and only the ones whose bytes changed."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

PUBLISHED_MODE = 0o644  # new files must be readable by the web server


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _target(root: Path, relative: str) -> Path:
    """``root / relative``, refusing anything that is not a plain path inside root."""
    parts = PurePosixPath(relative).parts
    bad = (
        not relative
        or "\\" in relative
        or "\x00" in relative
        or PurePosixPath(relative).is_absolute()
        or relative.split("/") != list(parts)  # "", "." or doubled "/" components
        or ".." in parts
    )
    if bad:
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


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = PUBLISHED_MODE
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


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
            _replace(target, data)
            report.written.append(relative)
    return report
