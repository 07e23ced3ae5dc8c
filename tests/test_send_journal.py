"""SMTP claims a batch and sends it message by message; the send's journal (pipeline.journal)
keeps a SIGKILL mid-batch to one message in doubt: the messages before it sent, the ones
after it pending again."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from tests.smtp_server import free_port
from tests.test_crash import NOW, WEEK, send, write_site

from syndicate.config import load_settings
from syndicate.models import DeliveryState, SubscriberStatus
from syndicate.pipeline import gather
from syndicate.pipeline.journal import journal_path, read_journal
from syndicate.store import Store

SECRET = "O_iz6H3BghLJ83tv0BXLBpOK3eVxUZgabTGgA0W57dM"
READERS = 12
HANG_AT = 4  # the message whose answer never comes (the kill lands while it waits)


class HangingInbox:
    """Accepts each message, but holds the answer to the HANG_AT-th until ``release``."""

    def __init__(self) -> None:
        self.copies: Counter[str] = Counter()
        self.hanging = threading.Event()
        self.release = asyncio.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.copies.update(address.lower() for address in envelope.rcpt_tos)
        if sum(self.copies.values()) == HANG_AT:
            self.hanging.set()
            await self.release.wait()
        return "250 OK"


@pytest.mark.slow
def test_a_kill_mid_batch_leaves_one_message_in_doubt(tmp_path: Path) -> None:
    inbox, port = HangingInbox(), free_port()
    config = write_site(tmp_path, port)
    settings = load_settings(config, env={})
    env = dict(os.environ, SYNDICATE_SECRET_KEY=SECRET, SYNDICATE_NOW=NOW)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    now = datetime.fromisoformat(NOW)
    readers = [f"reader{i}@example.com" for i in range(READERS)]
    with Store(settings.database_url) as store:
        gather(settings, store, now=now)
        for address in readers:
            store.add_subscriber(address, "", (), SubscriberStatus.ACTIVE, now)
    try:
        first = send(config, env)
        assert inbox.hanging.wait(timeout=60), "the send never reached the hanging message"
        with Store(settings.database_url) as store:  # one claim took the whole batch
            assert store.delivery_counts(f"weekly:{WEEK}")["submitting"] == READERS
            (sender,) = store.senders()
        assert journal_path(settings, sender.id).exists()
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        controller.loop.call_soon_threadsafe(inbox.release.set)
        final = send(config, env)
        _, err = final.communicate(timeout=60)
        assert final.returncode == 0, err.decode()
    finally:
        controller.stop()
    with Store(settings.database_url) as store:
        rows = store.deliveries(f"weekly:{WEEK}")
    states = Counter(row.state for row in rows)
    assert states == {DeliveryState.SENT: READERS - 1, DeliveryState.UNCERTAIN: 1}
    (doubt,) = [row for row in rows if row.state == DeliveryState.UNCERTAIN]
    assert doubt.id == min(row.id for row in rows) + HANG_AT - 1
    assert inbox.copies == Counter(readers), "every reader exactly once"
    # the messages after the kill were taken back, not resent as a second attempt
    assert all(row.attempts == 1 for row in rows)
    assert b"1 recipients were in flight with a dead sender" in err
    assert not journal_path(settings, sender.id).exists()


def test_the_journal_reads_whole_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "x.journal"
    assert read_journal(path) is None  # no journal: judged without one
    # 1 and 2 accepted, 3 answer lost, 4 refused, 5 begun and not answered, "b 6" cut short
    path.write_bytes(b"b 1\ns 1\nb 2\ns 2\nb 3\nu 3\nb 4\nn 4\nb 5\nb 6")
    assert read_journal(path) == ({1, 2}, {3, 5})
    path.write_bytes(b"b 1\ngarbage\n")
    assert read_journal(path) is None
