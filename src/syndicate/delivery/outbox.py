"""The outbox backend: one ``.eml`` file per message in a folder, for development.

A file is written whole or not at all (temporary file, fsync, rename), and its name comes
from the edition week, the ledger id and the address, so sending the same delivery again
replaces its file instead of adding a second one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from syndicate.config import Settings
from syndicate.delivery.base import WEEK_ARG, Batch, Messages, Outcome, Recipient
from syndicate.delivery.registry import Clock, NoSettings, SenderKind
from syndicate.fileio import write_file_atomically

_UNSAFE = re.compile(r"[^A-Za-z0-9._+@-]+")


def _now() -> datetime:
    return datetime.now(UTC)


def eml_name(week: str, delivery_id: int, address: str) -> str:
    """``2026-W47-000042-ann@example.com.eml``: safe on any file system."""
    week_part = _UNSAFE.sub("_", week).strip("._") or "no-week"
    address_part = _UNSAFE.sub("_", address.lower()).strip("._")[:100] or "unknown"
    return f"{week_part}-{delivery_id:06d}-{address_part}.eml"


class OutboxSender:
    max_batch = 100

    def __init__(self, folder: Path, *, clock: Callable[[], datetime] = _now) -> None:
        self.folder = Path(folder)
        self._clock = clock
        self._messages = Messages()

    def __repr__(self) -> str:
        return f"OutboxSender(folder={str(self.folder)!r})"

    def send(self, batch: Batch) -> list[Outcome]:
        week = batch.custom_args.get(WEEK_ARG, "")
        return [self._write(batch, week, recipient) for recipient in batch.recipients]

    def close(self) -> None:
        pass

    def _write(self, batch: Batch, week: str, recipient: Recipient) -> Outcome:
        try:
            data = self._messages.render(batch, recipient, self._clock())
        except ValueError as exc:
            return Outcome(recipient.delivery_id, "failed", f"cannot build the message: {exc}")
        path = self.folder / eml_name(week, recipient.delivery_id, recipient.email)
        try:
            write_file_atomically(path, data)
        except OSError as exc:
            return Outcome(recipient.delivery_id, "retry", f"cannot write {path}: {exc}")
        return Outcome(recipient.delivery_id, "sent")


def _build(settings: Settings, options: NoSettings, clock: Clock) -> OutboxSender:
    return OutboxSender(settings.path(settings.delivery.outbox_dir) / "sent", clock=clock)


KIND = SenderKind("outbox", ".eml files in the outbox folder, for development", _build)
