"""File records on their way from the parsers to the store, kept on disk past one chunk.

A folder's gather parses every changed file first and saves them afterwards in one unit of
work, so that the store's write lock is held for the save only, not for the parsing. Held
in a list, the records of a first gather made the gatherer grow with the folder (966 MB
for 100,000 files); the spool keeps at most one chunk in memory and pickles the rest to an
anonymous temporary file (removed when closed, and by the system if the process dies).
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import IO

from syndicate.store import FileRecord

SAVE_CHUNK = 500  # records in memory at once, and per step of the save


class RecordSpool:
    """Used as ``with contextlib.closing(RecordSpool()) as records:``."""

    def __init__(self, chunk: int | None = None) -> None:
        self.chunk = chunk or SAVE_CHUNK
        self.count = 0
        self._buffer: list[FileRecord] = []
        self._file: IO[bytes] | None = None
        self._spilled = 0  # chunks in the file

    def add(self, record: FileRecord) -> None:
        self._buffer.append(record)
        self.count += 1
        if len(self._buffer) >= self.chunk:
            self._spill()

    def chunks(self) -> Iterator[list[FileRecord]]:
        """The records in the order added, at most ``chunk`` at a time."""
        if self._file is not None:
            self._file.seek(0)
            for _ in range(self._spilled):
                chunk: list[FileRecord] = pickle.load(self._file)  # written by _spill only
                yield chunk
        if self._buffer:
            yield self._buffer

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._buffer = []

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="syndicate-gather-")  # noqa: SIM115 (closed by close())
        self._file.seek(0, 2)  # chunks() may have read in between
        pickle.dump(self._buffer, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._spilled += 1
        self._buffer = []
