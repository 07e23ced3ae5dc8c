"""SIGKILL the sender mid-send, run it again: one copy each, at most one request uncertain."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from tests.smtp_server import free_port

from syndicate.config import load_settings
from syndicate.models import DeliveryState, SubscriberStatus
from syndicate.pipeline import gather
from syndicate.store import Store

NOW = "2026-11-23T08:00:00+00:00"
WEEK = "2026-W47"  # the week that just ended: what the Monday send covers
READERS = 60

ARTICLE = """Meteors over the dam

November 20, 2026

We counted forty meteors before the clouds came in.

Continue reading
November 20, 2026
Observing Reports
Meteors over the dam
A short night with a long list.
Read article
"""


class SlowInbox:
    """Accepts each message after a short delay, so a kill lands mid-send."""

    def __init__(self) -> None:
        self.copies: Counter[str] = Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.02)
        self.copies.update(address.lower() for address in envelope.rcpt_tos)
        return "250 OK"


def write_site(root: Path, port: int) -> Path:
    (root / "articles").mkdir(parents=True)
    (root / "articles" / "meteors.txt").write_text(ARTICLE, encoding="utf-8")
    config = root / "config" / "syndicate.toml"
    config.parent.mkdir()
    config.write_text(
        f"""
[site]
title = "Crash test"
url = "https://crash.example.net/"
postal_address = "1 Test Rd"

[[sources]]
name = "articles"
path = "articles"

[email]
from_address = "digest@crash.example.net"

[delivery]
backend = "smtp"

[delivery.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
timeout = 5
""",
        encoding="utf-8",
    )
    return config


def send(config: Path, env: dict[str, str], *edition: str) -> subprocess.Popen[bytes]:
    code = "from syndicate.cli import main; main()"
    which = list(edition) or ["--week", WEEK]
    args = [sys.executable, "-c", code, "--config", str(config), "digest", "send", *which]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def kill_mid_send(
    running: list[subprocess.Popen[bytes]], inbox: SlowInbox, kills: int, rng: random.Random
) -> int:
    """SIGKILL the running senders at a moment drawn from the send's own progress, not from
    the clock: in start-up, the freeze or the claim (a quarter of the rounds), or just after
    the inbox has taken a drawn number of further copies, mid-message or between two.
    Returns how many processes were still running and were killed."""
    done = sum(inbox.copies.values())
    left = READERS - done - kills  # each earlier kill may have left one reader uncertain
    if rng.random() < 0.25:
        time.sleep(rng.uniform(0.0, 0.3))  # a send of READERS takes over a second
    else:
        target = done + rng.randint(1, max(1, left - 1))
        deadline = time.monotonic() + 60  # only catches a hang
        while sum(inbox.copies.values()) < target and time.monotonic() < deadline:
            if all(process.poll() is not None for process in running):
                break
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 0.015))  # within one message's delay at the inbox
    killed = 0
    for process in running:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait(timeout=30)
    return killed


@pytest.mark.slow
def test_sigkill_at_any_moment_never_duplicates_nor_skips(tmp_path: Path) -> None:
    inbox = SlowInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    config = write_site(tmp_path, port)
    env = {
        **os.environ,
        "SYNDICATE_SECRET_KEY": "O_iz6H3BghLJ83tv0BXLBpOK3eVxUZgabTGgA0W57dM",
        "SYNDICATE_NOW": NOW,
    }
    settings = load_settings(config, env={})
    readers = [f"reader{i}@example.com" for i in range(READERS)]
    with Store(settings.database_url) as store:
        gather(settings, store, now=datetime_now())
        for address in readers:
            store.add_subscriber(address, "", (), SubscriberStatus.ACTIVE, datetime_now())
    rng = random.Random(1234)
    kills = 0
    try:
        for _ in range(8):
            kills += kill_mid_send([send(config, env)], inbox, kills, rng)
            if sum(inbox.copies.values()) >= READERS - kills:
                break
        final = send(config, env)
        _, err = final.communicate(timeout=60)
        assert final.returncode == 0, err.decode()
    finally:
        controller.stop()
    assert kills >= 2, "fewer than two kills landed mid-send"
    with Store(settings.database_url) as store:
        rows = {row.email: row for row in store.deliveries(f"weekly:{WEEK}")}
    uncertain = {email for email, row in rows.items() if row.state == DeliveryState.UNCERTAIN}
    assert max(inbox.copies.values()) == 1, "a reader got two copies"
    assert len(uncertain) <= kills, "more than one request in flight per kill"
    for address in readers:
        state = rows[address].state
        if address in uncertain:
            assert inbox.copies[address] <= 1
        else:
            assert state == DeliveryState.SENT and inbox.copies[address] == 1, address
    if uncertain:
        assert b"uncertain" in err


def datetime_now() -> Any:
    from datetime import datetime

    return datetime.fromisoformat(NOW)


DAILY = ("--cadence", "daily", "--period", "2026-11-22")  # Monday 08:00 sends both
WEEKLY = ("--cadence", "weekly", "--period", WEEK)
SUNDAY = ARTICLE.replace("November 20", "November 22").replace("Meteors over", "Frost on")


@pytest.mark.slow
def test_sigkill_of_a_daily_and_a_weekly_send_at_the_same_minute(tmp_path: Path) -> None:
    """Issue 10: the daily and the weekly edition go out at the same minute (Monday 08:00),
    in two processes killed at random moments; every reader gets their own edition once."""
    inbox = SlowInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    config = write_site(tmp_path, port)
    (tmp_path / "articles" / "frost.txt").write_text(SUNDAY, encoding="utf-8")
    with config.open("a", encoding="utf-8") as extra:
        extra.write('\n[digest]\ncadences = ["daily", "weekly"]\ndaily = "08:00"\n')
    env = {
        **os.environ,
        "SYNDICATE_SECRET_KEY": "O_iz6H3BghLJ83tv0BXLBpOK3eVxUZgabTGgA0W57dM",
        "SYNDICATE_NOW": NOW,
    }
    settings = load_settings(config, env={})
    readers = {f"reader{i}@example.com": ("daily", "weekly")[i % 2] for i in range(READERS)}
    with Store(settings.database_url) as store:
        gather(settings, store, now=datetime_now())
        for address, cadence in readers.items():
            store.add_subscriber(
                address, "", (), SubscriberStatus.ACTIVE, datetime_now(), cadence=cadence
            )
    rng = random.Random(4321)
    kills = 0
    try:
        for _ in range(8):
            running = [send(config, env, *DAILY), send(config, env, *WEEKLY)]
            kills += kill_mid_send(running, inbox, kills, rng)
            if sum(inbox.copies.values()) >= READERS - kills:
                break
        for edition in (DAILY, WEEKLY):
            final = send(config, env, *edition)
            _, err = final.communicate(timeout=60)
            assert final.returncode == 0, err.decode()
    finally:
        controller.stop()
    assert kills >= 2, "fewer than two kills landed mid-send"
    with Store(settings.database_url) as store:
        rows = {
            row.email: (key, row)
            for key in ("daily:2026-11-22", f"weekly:{WEEK}")
            for row in store.deliveries(key)
        }
    assert {email: key.partition(":")[0] for email, (key, _) in rows.items()} == readers
    uncertain = {e for e, (_, row) in rows.items() if row.state == DeliveryState.UNCERTAIN}
    assert max(inbox.copies.values()) == 1, "a reader got two copies"
    assert len(uncertain) <= kills, "more than one request in flight per kill"
    for address in readers:
        if address not in uncertain:
            assert rows[address][1].state == DeliveryState.SENT, address
            assert inbox.copies[address] == 1, address
