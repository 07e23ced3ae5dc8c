"""The lease that lets one `syndicate run` instance fire the jobs.

- PostgreSQL: a session advisory lock, taken with ``pg_try_advisory_lock`` on a connection of
  its own that the holder keeps open. It ends with that connection: when the holder exits or
  dies, the server drops the session (TCP keepalives are set short so a vanished host is
  noticed in about half a minute) and another instance's next try takes it.
- SQLite: one machine, one instance: ``flock`` on a lock file beside the database, which the
  kernel releases when the holder dies.

The lease saves duplicate work; it is not what keeps a digest from going out twice. The
ledger does that (recipients are frozen once, batches are claimed with row locks), so an
instance that lost its lease a moment ago and still finishes a batch sends no one a second
copy.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import zlib
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

# pg_try_advisory_lock(int4, int4): this class, and a key from the schema name, so that
# two sites sharing one database in different schemas do not share a lease.
LEASE_CLASS = 0x53594E52  # "SYNR"
_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
    "connect_timeout": 10,
}
_SERVER_KEEPALIVES = (
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
)


class Lease(Protocol):
    # True: a second instance waits and takes over; False: it refuses to start.
    shared: bool
    last_error: str  # why the last try or check failed, for the log

    @property
    def description(self) -> str: ...

    def acquire(self) -> bool:
        """Try once, without waiting; True if this instance holds the lease now."""
        ...

    def check(self) -> bool:
        """True if this instance still holds the lease."""
        ...

    def holder(self) -> str | None:
        """Who holds it, if someone else does and that can be told."""
        ...

    def release(self) -> None: ...


class NullLease:
    """For a database only one process can open (SQLite in memory)."""

    description = "no lease (in-memory database)"
    shared = False
    last_error = ""

    def __init__(self) -> None:
        self._held = False

    def acquire(self) -> bool:
        self._held = True
        return True

    def check(self) -> bool:
        return self._held

    def holder(self) -> str | None:
        return None

    def release(self) -> None:
        self._held = False


class FileLease:
    shared = False
    last_error = ""

    def __init__(self, path: Path, instance: str) -> None:
        self.path, self.instance = path, instance
        self._fd: int | None = None

    @property
    def description(self) -> str:
        return f"lock file {self.path}"

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{self.instance}\n".encode())
        self._fd = fd
        return True

    def check(self) -> bool:
        return self._fd is not None

    def holder(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class PgAdvisoryLease:
    shared = True

    def __init__(self, url: str, instance: str, key: int | None = None) -> None:
        self.instance = instance
        name = f"syndicate run {instance}"[:63]
        self._engine: Engine = create_engine(
            url, poolclass=NullPool, connect_args={**_KEEPALIVES, "application_name": name}
        )
        self._key = key
        self._conn: Connection | None = None
        self._mutex = threading.Lock()  # the job threads check while the main loop renews
        self.last_error = ""

    @property
    def description(self) -> str:
        where = self._engine.url.render_as_string(hide_password=True)
        return f"PostgreSQL advisory lock ({LEASE_CLASS}, {self._key}) on {where}"

    def acquire(self) -> bool:
        with self._mutex:
            if self._conn is not None:
                return self._still_held()
            try:
                conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            except SQLAlchemyError as exc:
                self.last_error = _short(exc)
                return False
            try:
                for statement in _SERVER_KEEPALIVES:
                    conn.exec_driver_sql(statement)
                key = self._lease_key(conn)
                got = conn.scalar(text("SELECT pg_try_advisory_lock(:a, :b)"), _args(key))
            except SQLAlchemyError as exc:
                self.last_error = _short(exc)
                _discard(conn)
                return False
            if got:
                self._conn = conn
                return True
            conn.close()
            return False

    def check(self) -> bool:
        with self._mutex:
            return self._conn is not None and self._still_held()

    def _still_held(self) -> bool:
        assert self._conn is not None and self._key is not None
        try:
            held = self._conn.scalar(_HELD_BY_ME, _args(self._key))
        except SQLAlchemyError as exc:
            self.last_error = _short(exc)
            held = False
        if not held:
            _discard(self._conn)
            self._conn = None
        return bool(held)

    def _lease_key(self, conn: Connection) -> int:
        if self._key is None:
            schema = conn.scalar(text("SELECT current_schema()")) or ""
            self._key = zlib.crc32(str(schema).encode()) & 0x7FFFFFFF
        return self._key

    def holder(self) -> str | None:
        if self._key is None:
            return None
        try:
            with self._engine.connect() as conn:
                name = conn.scalar(_HOLDER, _args(self._key))
        except SQLAlchemyError:
            return None
        return None if name is None else str(name)

    def release(self) -> None:
        with self._mutex:
            conn, self._conn = self._conn, None
            if conn is not None and self._key is not None:
                try:
                    conn.scalar(text("SELECT pg_advisory_unlock(:a, :b)"), _args(self._key))
                    conn.close()
                except SQLAlchemyError:
                    _discard(conn)
        self._engine.dispose()


_LOCK_ROW = (
    "l.locktype = 'advisory' AND l.classid::bigint = :a AND l.objid::bigint = :b "
    "AND l.objsubid = 2 AND l.granted"
)
_HELD_BY_ME = text(
    f"SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE {_LOCK_ROW} AND l.pid = pg_backend_pid())"
)
_HOLDER = text(
    "SELECT coalesce(nullif(a.application_name, ''), 'pid ' || a.pid::text) "
    f"FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE {_LOCK_ROW} LIMIT 1"
)


def _args(key: int) -> dict[str, int]:
    return {"a": LEASE_CLASS, "b": key}


def _discard(conn: Connection) -> None:
    with contextlib.suppress(SQLAlchemyError):
        conn.invalidate()
    with contextlib.suppress(SQLAlchemyError):
        conn.close()


def _short(exc: BaseException) -> str:
    return " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]


def make_lease(url: str, instance: str) -> Lease:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return PgAdvisoryLease(url, instance)
    database = parsed.database or ""
    if backend != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return NullLease()
    path = Path(database).expanduser()
    return FileLease(path.with_name(path.name + ".lock"), instance)
