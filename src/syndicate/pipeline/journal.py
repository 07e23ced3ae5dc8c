"""A send's journal: what became of each message of the batch in flight, one line each.

A sender that sends a claimed batch message by message (SMTP) would otherwise leave the
whole batch ``submitting`` when killed, and the next send would make all of it uncertain.
The journal (``var/sending/<sender id>.journal``) gets ``b <id>`` before the byte that lets
the server accept a message is written, then ``s <id>`` (accepted), ``u <id>`` (answer lost)
or ``n <id>`` (certainly not accepted). Each line is one ``write`` to the file, so it is in
the kernel before the message goes on: a killed process loses none. It is emptied once the
batch's outcomes are in the ledger.

The journal is read only for a sender of this machine whose process has exited
(``owners.gone_senders``: same host, boot and pid namespace, so the page cache that holds the
lines survived). Its rows still ``submitting`` become: ``sent`` when the journal says
accepted; uncertain when it says begun but nothing after, or answer lost; ``pending`` again
(never sent) for the rest. A sender without a journal file (another machine's, or one that
could not write it) is judged as before: all its submitting rows are uncertain.
"""

from __future__ import annotations

import os
from pathlib import Path

from syndicate.config import Settings
from syndicate.delivery import OutcomeState
from syndicate.log import EventLog

log = EventLog(__name__)

FOLDER = "var/sending"
_MARKS: dict[OutcomeState, bytes] = {"sent": b"s", "uncertain": b"u"}  # else b"n"


def journal_path(settings: Settings, sender_id: str) -> Path:
    return settings.path(FOLDER) / f"{sender_id}.journal"


class SendJournal:
    """The journal of one sender (``delivery.base.Journal``); ``open`` or None."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self._fd = path, fd

    @classmethod
    def open(cls, settings: Settings, sender_id: str) -> SendJournal | None:
        """A new, empty journal; None (logged) when it cannot be written: the send then
        claims one message at a time."""
        path = journal_path(settings, sender_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        except OSError as exc:
            log.warning("send.journal_unavailable", path=str(path), error=str(exc))
            return None
        return cls(path, fd)

    def sending(self, delivery_id: int) -> None:
        os.write(self._fd, b"b %d\n" % delivery_id)

    def settled(self, delivery_id: int, state: OutcomeState) -> None:
        os.write(self._fd, b"%s %d\n" % (_MARKS.get(state, b"n"), delivery_id))

    def clear(self) -> None:
        """The batch's outcomes are in the ledger: forget them."""
        os.ftruncate(self._fd, 0)

    def close(self) -> None:
        """The send ended (its rows are settled): the journal goes."""
        os.close(self._fd)
        self.path.unlink(missing_ok=True)


def read_journal(path: Path) -> tuple[set[int], set[int]] | None:
    """(ids accepted, ids in doubt) from a dead sender's journal; None when it has none.
    Only whole lines count: a line cut short was being written, so its message had not
    gone on yet."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    sent: set[int] = set()
    doubt: set[int] = set()
    for line in data.split(b"\n")[:-1]:
        mark, _, number = line.partition(b" ")
        if not number.isdigit():
            return None  # not a journal this code wrote: judged without it
        delivery_id = int(number)
        if mark == b"b":
            doubt.add(delivery_id)
        elif mark == b"s":
            doubt.discard(delivery_id)
            sent.add(delivery_id)
        elif mark == b"n":
            doubt.discard(delivery_id)
    return sent, doubt
