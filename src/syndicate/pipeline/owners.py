"""Senders that know each other (issue 10): who is sending, and who is dead.

Each send registers this process as a sender (a random instance id, its machine, its pid)
and a thread renews its heartbeat every quarter of ``delivery.owner_timeout`` until the send
ends. The batches it claims carry its id. Another sender takes it for dead only when

- its heartbeat is older than ``owner_timeout`` on the judge's clock, or
- it ran on the same machine (same host name, boot and process namespace) and its pid has
  exited: a SIGKILLed sender is known dead at once, without waiting out the timeout.

Only a dead sender's ``submitting`` rows become ``uncertain``; a live one's are left alone,
and a second send beside it takes the batches nobody has claimed.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from types import TracebackType

from syndicate.config import Settings
from syndicate.pipeline.journal import journal_path, read_journal
from syndicate.store import SenderRow, Store

Clock = Callable[[], datetime]
BEATS_PER_TIMEOUT = 4


@cache
def this_host() -> str:
    """The machine and process namespace, as far as they can be told: pids are compared only
    between senders of the same one."""
    parts = [socket.gethostname()]
    try:
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip())
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    except OSError:
        parts.append("no-boot-id")  # without them, no pid is judged: only heartbeats
    return "/".join(parts)[:255]


def process_exited(pid: int) -> bool:
    """Whether ``pid`` is no running process of this machine (a zombie counts as exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def gone_senders(rows: Iterable[SenderRow]) -> set[str]:
    """The senders of this machine whose process has exited."""
    host = this_host()
    if host.endswith("/no-boot-id"):
        return set()
    mine = os.getpid()
    return {
        row.id for row in rows if row.host == host and row.pid != mine and process_exited(row.pid)
    }


def cutoff(settings: Settings, now: datetime) -> datetime:
    """A heartbeat older than this is a dead sender's."""
    return now - settings.delivery.owner_timeout


def recover_dead(settings: Settings, store: Store, week: str, now: datetime) -> int:
    """The week's rows in flight with a dead sender become uncertain, how many; a dead
    sender of this machine that kept a journal (pipeline.journal) leaves uncertain only the
    rows its journal shows in doubt: the others become sent or pending again."""
    gone = gone_senders(store.senders())
    paths = {sender: journal_path(settings, sender) for sender in gone}
    journals = {}
    for sender, path in paths.items():
        read = read_journal(path)
        if read is not None:
            journals[sender] = read
    recovered = store.recover_interrupted(week, now, cutoff(settings, now), gone, journals)
    for sender in journals:
        paths[sender].unlink(missing_ok=True)
    return recovered


def requeue_uncertain(
    settings: Settings, store: Store, week: str, now: datetime
) -> tuple[int, list[tuple[SenderRow, int]]]:
    """The operator's resend: (rows queued again, [(live sender, its uncertain rows kept)])."""
    rows = store.senders()
    gone = gone_senders(rows)
    moved, kept = store.reset_uncertain_unowned(week, now, cutoff(settings, now), gone)
    by_id = {row.id: row for row in rows}
    return moved, [(by_id[owner], n) for owner, n in sorted(kept.items()) if owner in by_id]


def describe(row: SenderRow) -> str:
    host = row.host.partition("/")[0]
    return f"sender {row.id[:8]} (pid {row.pid} on {host}, since {row.started_at.isoformat()})"


class Heartbeat:
    """This process as a registered sender while a send runs: ``with Heartbeat(…) as me``.

    The thread's pace is real time (``wait``), the values written are the injected clock's.
    Leaving deregisters; a crash leaves the row behind, and its heartbeat ages.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        week: str,
        clock: Clock,
        wait: Callable[[threading.Event, float], bool] | None = None,
    ) -> None:
        self.store, self.clock = store, clock
        self.id = secrets.token_hex(16)
        self.week = week
        every: timedelta = settings.delivery.owner_timeout / BEATS_PER_TIMEOUT
        self.every = every.total_seconds()
        self._wait = wait or (lambda event, seconds: event.wait(seconds))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []

    def row(self, now: datetime) -> SenderRow:
        return SenderRow(self.id, this_host(), os.getpid(), self.week, now, now)

    def __enter__(self) -> Heartbeat:
        self.store.register_sender(self.row(self.clock()))
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{self.id[:8]}")
        self._thread.daemon = True
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._wait(self._stop, self.every):
            self.beat()

    def beat(self) -> None:
        """Renew the heartbeat (register again if another sender reaped this one)."""
        try:
            if not self.store.beat(self.id, self.clock()):
                self.store.register_sender(self.row(self.clock()))
        except Exception as exc:  # a failed beat is retried at the next; the send goes on
            self.errors.append(" ".join(str(exc).split()))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.store.deregister_sender(self.id)
        except Exception as error:  # the row stays; its heartbeat ages out (owner_timeout)
            self.errors.append(" ".join(str(error).split()))
            if exc is None:
                raise
