"""Writing a file so that a reader sees the old bytes or the new, never a part."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

NEW_FILE_MODE = 0o644  # readable by a web server or a mail pickup


def write_file_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same folder (a dot name ending in .part, so ``*.eml``/``*.xml``
    globs never see it), fsync, rename over ``path``, fsync the folder. An existing file's
    mode is kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = NEW_FILE_MODE
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def describe_os_error(exc: OSError, fallback: Path | None = None) -> str:
    """``PATH: reason`` for an OSError (both paths of a rename), naming the path it was about;
    ``fallback`` when the error names none."""
    reason = exc.strerror or str(exc)
    first = exc.filename if exc.filename is not None else fallback
    if first is None:
        return reason
    paths = [first] + ([exc.filename2] if exc.filename2 is not None else [])
    return f"{' -> '.join(str(p) for p in paths)}: {reason}"
