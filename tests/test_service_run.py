"""`syndicate run` as an operator starts it: a real process on an example site, its clock set
just after a missed Monday, stopped with SIGTERM or SIGINT; a second instance on the same
SQLite database; two instances on one PostgreSQL database, the leader killed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from tests.service_support import subscribe, utc, write_articles

from syndicate.cli import main
from syndicate.store import Store

SYNDICATE = Path(sys.executable).with_name("syndicate")
API_KEY = "SG.marker-run-key-51c0"
SECRET_KEY = "TTjbTGG0ACfkatIldobupYd_oUek3JthJoXNhpdE8us"
W14_AT = utc(2026, 3, 30, 6, 0)  # mon 08:00 Europe/Berlin
NOW = (W14_AT + timedelta(hours=2)).isoformat()  # the service was down at 08:00
READERS = 3

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServiceProcess:
    """`syndicate run` in a subprocess; its JSON log lines collected as they come."""

    def __init__(self, site: Path, env: dict[str, str], *extra: str) -> None:
        args = [str(SYNDICATE), "--config", str(site / "config" / "syndicate.toml")]
        self.process = subprocess.Popen(
            [*args, "--now", NOW, "run", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=site,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def events(self) -> list[dict[str, Any]]:
        with self._changed:
            return [json.loads(line) for line in self.lines]

    def wait_for(self, test: Callable[[list[dict[str, Any]]], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not test([json.loads(line) for line in self.lines]):
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError("not seen in the log:\n" + "\n".join(self.lines))
                self._changed.wait(min(left, 0.2))

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> tuple[int, float]:
        begun = time.monotonic()
        self.process.send_signal(signum)
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code, time.monotonic() - begun

    def output(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.read() + "\n".join(self.lines)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def count(name: str, **fields: Any) -> Callable[[list[dict[str, Any]]], int]:
    def counted(events: list[dict[str, Any]]) -> int:
        return sum(
            1
            for e in events
            if e["event"] == name and all(e.get(k) == v for k, v in fields.items())
        )

    return counted


def seen(name: str, times: int = 1, **fields: Any) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda events: count(name, **fields)(events) >= times


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    result = CliRunner().invoke(main, ["init", str(site)])
    assert result.exit_code == 0, result.output
    write_articles(site, W14_AT - timedelta(days=1), 3)
    return site


def service_env(site: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env.update(
        SENDGRID_API_KEY=API_KEY,
        SYNDICATE_SECRET_KEY=SECRET_KEY,
        SYNDICATE_METRICS_TOKEN="run-metrics-token-77b2",
        SYNDICATE_DIGEST__TIMEZONE="Europe/Berlin",
        SYNDICATE_SCHEDULE__GATHER_EVERY="1s",
        SYNDICATE_SCHEDULE__LEASE_CHECK="0.2s",
        SYNDICATE_WEB__PORT=str(free_port()),
        PYTHONUNBUFFERED="1",
    )
    env.update({f"SYNDICATE_{key.upper()}": value for key, value in settings.items()})
    return env


def add_readers(database_url: str) -> list[str]:
    with Store(database_url) as store:
        store.record_first_run(W14_AT - timedelta(weeks=4))  # a site that ran before
        return subscribe(store, READERS, W14_AT)


@pytest.fixture
def services() -> Iterator[list[ServiceProcess]]:
    started: list[ServiceProcess] = []
    yield started
    for service in started:
        service.kill()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_service_gathers_sends_the_missed_monday_and_stops_cleanly(
    site: Path, services: list[ServiceProcess], signum: int
) -> None:
    env = service_env(site)
    add_readers(f"sqlite:///{site / 'var' / 'syndicate.db'}")
    service = ServiceProcess(site, env)
    services.append(service)
    service.wait_for(seen("gather.finished", 2))
    service.wait_for(seen("digest.finished", outcome="ok"))
    due = next(e for e in service.events() if e["event"] == "digest.due")
    assert due["week"] == "weekly:2026-W13" and due["action"] == "send"
    assert due["trigger"] == "startup"
    events = service.events()
    if count("web.listening")(events):
        port = env["SYNDICATE_WEB__PORT"]
        token = {"Authorization": f"Bearer {env['SYNDICATE_METRICS_TOKEN']}"}
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", headers=token, timeout=5)
        assert health.status_code == 200, health.text
        assert health.json()["scheduler"]["leader"] is True
    else:
        assert count("web.unavailable")(events) == 1

    code, took = service.stop(signum)
    assert code == 0 and took < 30
    events = service.events()
    assert events[-1]["event"] == "service.stopped" and events[-1]["clean"] is True
    assert events[-1]["reason"] == signal.Signals(signum).name
    assert all(line.startswith("{") for line in service.lines)  # one JSON line per event
    output = service.output()
    assert API_KEY not in output and SECRET_KEY not in output
    sent = sorted(p.name for p in (site / "var" / "outbox" / "sent").glob("*.eml"))
    assert len(sent) == READERS and all(name.startswith("weekly_2026-W13-") for name in sent)


def test_a_second_instance_on_the_same_sqlite_database_refuses_to_start(
    site: Path, services: list[ServiceProcess]
) -> None:
    first = ServiceProcess(site, service_env(site), "--no-web")
    services.append(first)
    first.wait_for(seen("lease.acquired"))
    second = subprocess.run(
        [str(SYNDICATE), "--config", str(site / "config" / "syndicate.toml"), "run", "--no-web"],
        env=service_env(site),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=site,
    )
    assert second.returncode == 1
    message = second.stderr.splitlines()[-1]
    assert message.startswith("Error: another `syndicate run`")
    assert "syndicate.db.lock" in message and "PostgreSQL" in message
    assert first.stop()[0] == 0


def test_two_instances_on_postgresql_one_leads_the_other_takes_over(
    site: Path, database_url: str, services: list[ServiceProcess]
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    emails = add_readers(database_url)
    common = {"storage__url": database_url}
    env_a = service_env(site, delivery__outbox_dir=str(site / "out-a"), **common)
    env_b = service_env(site, delivery__outbox_dir=str(site / "out-b"), **common)
    leader = ServiceProcess(site, env_a, "--no-web")
    services.append(leader)
    leader.wait_for(seen("digest.finished", outcome="ok"))
    follower = ServiceProcess(site, env_b, "--no-web")
    services.append(follower)
    follower.wait_for(seen("lease.waiting"))
    time.sleep(1.0)  # the leader gathers every second; the follower runs nothing
    assert count("gather.finished")(follower.events()) == 0

    leader.kill()  # the holder dies: its connection, and so its lease, go with it
    follower.wait_for(seen("lease.acquired"), timeout=15)
    follower.wait_for(seen("gather.finished"))
    follower.wait_for(seen("digest.nothing_due"))  # the week went out already
    assert count("digest.due")(follower.events()) == 0
    assert follower.stop()[0] == 0

    sent = [p.name for d in ("out-a", "out-b") for p in (site / d / "sent").glob("*.eml")]
    assert len(sent) == READERS
    assert sorted(name.split("-", 3)[3] for name in sent) == sorted(f"{e}.eml" for e in emails)


FAULT = """
import importlib.abc, sys

class BrokenWeb(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "syndicate.web.app":
            raise ImportError("injected fault in syndicate.web.app")
        return None

sys.meta_path.insert(0, BrokenWeb())
"""


def test_a_fault_in_the_web_package_stops_the_service_instead_of_running_without_it(
    site: Path, tmp_path: Path
) -> None:
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(FAULT)
    env = service_env(site)
    env["PYTHONPATH"] = str(inject)
    args = [str(SYNDICATE), "--config", str(site / "config" / "syndicate.toml"), "--now", NOW]
    done = subprocess.run(
        [*args, "run"], env=env, cwd=site, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "injected fault in syndicate.web.app" in done.stderr
    assert "Traceback" not in done.stderr
    assert "jobs only" not in done.stderr


class CountingInbox:
    """A real SMTP server that accepts each message after a short pause, so sends overlap."""

    def __init__(self) -> None:
        self.copies: Counter[str] = Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.01)
        self.copies.update(address.lower() for address in envelope.rcpt_tos)
        return "250 OK"


def test_two_digest_sends_beside_the_service_on_postgresql_deliver_each_reader_once(
    site: Path, database_url: str, services: list[ServiceProcess]
) -> None:
    """Issue 10: the service sends the missed Monday while two `digest send` processes
    start beside it; they share the send (SKIP LOCKED), and no live sender's row is taken
    for a crash's."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    with Store(database_url) as store:
        store.record_first_run(W14_AT - timedelta(weeks=4))  # a site that ran before
        emails = subscribe(store, 150, W14_AT)
    inbox = CountingInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    env = service_env(
        site,
        storage__url=database_url,
        delivery__backend="smtp",
        delivery__smtp__host="127.0.0.1",
        delivery__smtp__port=str(port),
        delivery__smtp__security="none",
        email__from_address="digest@astro.example.net",
        site__url="https://astro.example.net/",
        site__postal_address="1 Observatory Rd",
    )
    try:
        service = ServiceProcess(site, env, "--no-web")
        services.append(service)
        service.wait_for(seen("digest.due"))
        week = next(e["week"] for e in service.events() if e["event"] == "digest.due")
        cli = [str(SYNDICATE), "--config", str(site / "config" / "syndicate.toml"), "--now", NOW]
        helpers = [
            subprocess.Popen(
                [*cli, "digest", "send", "--week", week.removeprefix("weekly:")],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                cwd=site,
            )
            for _ in range(2)
        ]
        outputs = [helper.communicate(timeout=120) for helper in helpers]
        service.wait_for(seen("digest.finished"), timeout=120)
        assert service.stop()[0] == 0
    finally:
        controller.stop()
    for helper, (out, err) in zip(helpers, outputs, strict=True):
        assert helper.returncode == 0, out + err
        assert "uncertain" not in err, err
    assert dict(inbox.copies) == {email.lower(): 1 for email in emails}
    with Store(database_url) as store:
        counts = store.delivery_counts(week)
        status = store.send_status(week)
        assert store.senders() == []
    assert counts["sent"] == len(emails) and counts["uncertain"] == 0
    assert status is not None and status.finished_at is not None
