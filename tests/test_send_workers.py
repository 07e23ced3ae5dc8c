"""Several worker processes share one send through the ledger (issue 14): the real CLI,
``digest send --workers 2``, against a real SMTP server on loopback, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from tests.sendgrid_standin import SendGridStandIn
from tests.service_support import (
    FakeClock,
    RecordingSender,
    make_jobs,
    site_settings,
    subscribe,
    utc,
    write_articles,
)
from tests.smtp_server import Inbox, free_port
from tests.test_send import NOW, SECRET, article

from syndicate.config import Settings, load_settings
from syndicate.delivery import Batch, Outcome, Sender
from syndicate.delivery.sendgrid import SendGridSender
from syndicate.delivery.smtp import SmtpSender
from syndicate.digest.periods import parse_key
from syndicate.models import SubscriberStatus
from syndicate.pipeline.send import STOPPED, SendError, SendReport, send_edition
from syndicate.pipeline.workers import Workers
from syndicate.service.jobs import JobEnv, Jobs
from syndicate.service.logs import EventLog
from syndicate.store import SendStatus, Store

KEY = "weekly:2026-W47"
READERS = 40


class SlowInbox(Inbox):
    """Takes a moment over each message, as a real relay does: every worker gets a share
    of the send however fast the first one starts."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


def config(tmp_path: Path, url: str, port: int) -> Path:
    path = tmp_path / "syndicate.toml"
    path.write_text(
        "\n".join(
            [
                "[site]",
                'title = "Workers"',
                'url = "https://workers.syndicate.test/"',
                'postal_address = "1 Worker Road, Testville"',
                "[email]",
                'from_address = "digest@workers.syndicate.test"',
                "[storage]",
                f"url = {json.dumps(url)}",
                "[delivery]",
                'backend = "smtp"',
                f'smtp = {{ host = "127.0.0.1", port = {port}, security = "none" }}',
            ]
        )
        + "\n"
    )
    return path


def fill(url: str) -> list[str]:
    emails = [f"reader{i}@workers.syndicate.test" for i in range(READERS)]
    with Store(url) as store:
        store.upsert_articles([article(1, "News")], NOW)
        for email in emails:
            store.add_subscriber(email, "Reader", (), SubscriberStatus.ACTIVE, NOW)
    return emails


@dataclass
class Site:
    """A filled store, a slow SMTP server on loopback (started by ``send``) and the site's
    settings."""

    url: str
    emails: list[str]
    inbox: SlowInbox
    settings: Settings

    def smtp(self) -> SmtpSender:
        return SmtpSender("127.0.0.1", self.inbox.port, security="none")

    def send(
        self, make_sender: Callable[[], Sender] | None = None, **wait: Any
    ) -> tuple[SendReport, SendStatus | None]:
        """The edition sent by two workers: (their report, the send's status after)."""
        workers = Workers(
            self.settings,
            parse_key(KEY),
            2,
            clock=lambda: NOW,
            make_sender=make_sender or self.smtp,
        )
        controller = Controller(self.inbox, hostname=self.inbox.host, port=self.inbox.port)
        controller.start()
        try:
            with Store(self.url) as store:
                workers.start(store)
                return workers.wait(store, **wait), store.send_status(KEY)
        finally:
            controller.stop()


@pytest.fixture
def site(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Site:
    emails = fill(database_url)
    inbox = SlowInbox("127.0.0.1", free_port())
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    settings = load_settings(config(tmp_path, database_url, inbox.port))
    return Site(database_url, emails, inbox, settings)


@pytest.mark.slow
def test_two_workers_share_one_send_and_each_reader_gets_one_copy(
    tmp_path: Path, database_url: str
) -> None:
    emails = fill(database_url)
    inbox = SlowInbox("127.0.0.1", free_port())
    controller = Controller(inbox, hostname=inbox.host, port=inbox.port)
    controller.start()
    try:
        command = [sys.executable, "-m", "syndicate", "--config"]
        command += [str(config(tmp_path, database_url, inbox.port)), "--now", NOW.isoformat()]
        command += ["digest", "send", "--period", "2026-W47", "--workers", "2"]
        env = {**os.environ, "SYNDICATE_SECRET_KEY": SECRET}
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    finally:
        controller.stop()
    assert done.returncode == 0, done.stderr
    assert f"ledger: {READERS} sent" in done.stdout
    received = Counter(to for message in inbox.messages for to in message.recipients)
    assert received == Counter(emails)  # every reader exactly once
    with Store(database_url) as store, store.engine.connect() as conn:
        owners = conn.execute(
            text("SELECT owner, count(*) FROM deliveries WHERE week = :w GROUP BY owner"),
            {"w": KEY},
        ).all()
        assert store.senders() == []  # both deregistered
    assert len(owners) == 2 and all(owner and count > 0 for owner, count in owners), owners


@pytest.mark.slow
def test_the_progress_of_two_workers_comes_from_their_own_counts(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bar moves with what the workers settled, of what the first had waiting: the
    parent counts the ledger only for the report at the end (a count of a million rows took
    ~0.4 s of a core the workers shared), never the pending rows every second."""
    looks = _calls_of_every_process(monkeypatch, "pending_variants", tmp_path / "looks")
    tallied = _calls_of_every_process(monkeypatch, "delivery_counts", tmp_path / "counts")
    shown: list[tuple[int, int]] = []
    report, _ = site.send(progress=lambda done, total: shown.append((done, total)))
    assert report.counts["sent"] == READERS
    assert shown[-1] == (READERS, READERS)
    assert all(done <= total for done, total in shown)
    assert _by(os.getpid(), looks()) == []  # the parent never counted the pending rows
    assert _by(os.getpid(), tallied()) == [KEY]  # the ledger counted once, for the report


@pytest.mark.slow
def test_the_parent_concludes_the_send_once_all_workers_have_ended(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger is counted once, by the parent, with every worker ended: a worker that
    counted as it ended found the other's last batch in flight and looked again (1.2 s of
    the end of a million-row send, against 0.4 s so). The send was frozen just now, so the
    second worker does not look for a dead sender's rows as it starts either."""
    counted = _calls_of_every_process(monkeypatch, "delivery_counts", tmp_path / "counts")
    looked = _calls_of_every_process(monkeypatch, "in_flight_elsewhere", tmp_path / "looks")
    dead = _calls_of_every_process(monkeypatch, "recover_interrupted", tmp_path / "dead")
    report, status = site.send()
    assert report.counts["sent"] == READERS and report.elsewhere == 0
    assert counted() == [(os.getpid(), KEY)]  # the parent's one count; none by a worker
    assert looked() == []  # nothing was in flight once all had ended
    assert dead() == []  # frozen just now: nobody looked for a dead sender's rows
    assert status is not None and status.finished_at == NOW and status.paused_reason is None


@pytest.mark.slow
def test_no_worker_counts_the_pending_rows_of_a_send_frozen_just_now(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker that froze the edition knows its variants' rows from the freeze (all are
    pending); the others need only the variants' names. Each count walked a million rows
    (0.12-0.13 s) as the send started, while nothing was sent."""
    counted = _calls_of_every_process(monkeypatch, "pending_variants", tmp_path / "counts")
    report, _ = site.send()
    assert report.counts["sent"] == READERS
    assert report.variants == {"all categories": READERS}
    assert counted() == []


@pytest.mark.slow
def test_only_the_first_worker_looks_for_a_dead_senders_rows_as_a_send_resumes(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The others start once it has looked: a second look scanned the edition's rows again
    under the writer lock (0.15-0.2 s of a million-row send, while the first waited)."""
    with Store(site.url) as store:  # frozen, then stopped before its first batch
        stopped = send_edition(
            site.settings,
            store,
            site.smtp(),
            parse_key(KEY),
            clock=lambda: NOW,
            should_stop=lambda: True,
        )
    assert stopped.paused == STOPPED and stopped.frozen == READERS
    looked = _calls_of_every_process(monkeypatch, "recover_interrupted", tmp_path / "looks")
    counted = _calls_of_every_process(monkeypatch, "pending_variants", tmp_path / "counts")
    report, status = site.send()
    assert report.counts["sent"] == READERS and len(site.inbox.messages) == READERS
    assert [week for _, week in looked()] == [KEY]  # one look, by a worker
    assert looked()[0][0] != os.getpid()
    # What is left is counted once, by the first worker; the second needs no count.
    assert [week for _, week in counted()] == [KEY] and counted()[0][0] != os.getpid()
    assert report.variants == {"all categories": READERS}
    assert status is not None and status.paused_reason is None and status.finished_at == NOW


class DyingSender(SmtpSender):
    """Ends its process, as a kill would, in the middle of the first batch any worker sends:
    exactly one worker dies, holding that batch."""

    def __init__(self, port: int, mark: Path) -> None:
        super().__init__("127.0.0.1", port, security="none")
        self.mark = mark

    def send(self, batch: Batch) -> list[Outcome]:
        try:
            self.mark.open("x").close()
        except FileExistsError:
            return super().send(batch)
        os._exit(9)


@pytest.mark.slow
def test_the_rows_of_a_killed_worker_are_recovered_when_the_others_end(
    site: Site, tmp_path: Path
) -> None:
    """Its batch stays claimed under its name until the parent concludes (or the other
    worker, starting after it died, finds it dead): then no row is in flight (they are
    uncertain, or pending again where its journal shows a message never went, or sent by
    the other worker after that), the failure names the worker, and no reader got two
    copies."""
    with pytest.raises(SendError, match=r"worker \d: ended with exit code 9"):
        site.send(lambda: DyingSender(site.inbox.port, tmp_path / "died"))
    with Store(site.url) as store:
        counts, left = store.delivery_counts(KEY), store.senders()
    assert counts["submitting"] == 0
    assert sum(counts.values()) == READERS
    assert counts["sent"] == len(site.inbox.messages)
    received = Counter(to for message in site.inbox.messages for to in message.recipients)
    assert set(received) <= set(site.emails) and max(received.values()) == 1
    assert left == []  # the dead worker's sender row was reaped


@pytest.mark.slow
def test_a_workers_failure_is_reported_even_when_the_send_cannot_be_ended(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent's end of the send needs the database; when that fails too (the store
    went away), the failure says which worker failed, in one line, and the end's error."""
    parent, counts = os.getpid(), Store.delivery_counts

    def unreachable(store: Store, week: str) -> dict[str, int]:
        if os.getpid() == parent:
            raise OperationalError("SELECT …", {}, Exception("unable to open database file"))
        return counts(store, week)

    monkeypatch.setattr(Store, "delivery_counts", unreachable)
    with pytest.raises(SendError) as failed:
        site.send(lambda: DyingSender(site.inbox.port, tmp_path / "died"))
    message = str(failed.value)
    assert "\n" not in message and "ended with exit code 9" in message
    assert "the send's end:" in message and "unable to open database file" in message


def _calls_of_every_process(
    monkeypatch: pytest.MonkeyPatch, method: str, log: Path
) -> Callable[[], list[tuple[int, str]]]:
    """(pid, week) of each call of ``Store.<method>`` by this process or a forked worker, in
    the order they ended: each is a line appended to ``log``."""
    original = getattr(Store, method)

    def watched(store: Store, week: str, *args: Any, **kwargs: Any) -> Any:
        result = original(store, week, *args, **kwargs)
        with log.open("a") as lines:
            lines.write(f"{os.getpid()} {week}\n")
        return result

    monkeypatch.setattr(Store, method, watched)

    def calls() -> list[tuple[int, str]]:
        if not log.exists():
            return []
        return [(int(pid), week) for pid, week in map(str.split, log.read_text().splitlines())]

    return calls


def _by(pid: int, calls: list[tuple[int, str]]) -> list[str]:
    """The weeks of the calls one process made."""
    return [week for caller, week in calls if caller == pid]


@pytest.mark.slow
def test_the_service_shares_its_digest_send_among_delivery_workers(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`syndicate run` with ``delivery.workers = 2``: the digest job's send goes through two
    worker processes (the SendGrid client against the stand-in), and their parent ends it:
    each reader gets one copy, the job is recorded ok and the send finished."""
    monday = utc(2026, 3, 30, 6, 0)  # mon 08:00 Europe/Berlin: W13's digest
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    write_articles(tmp_path, monday - timedelta(days=1), 3)
    plain = site_settings(tmp_path, database_url)
    shared = plain.delivery.model_copy(update={"workers": 2})
    settings = plain.model_copy(update={"delivery": shared})
    claims = _calls_of_every_process(monkeypatch, "claim_rows", tmp_path / "claims")
    with SendGridStandIn("SG.workers-key") as standin, Store(database_url) as store:
        make_jobs(
            settings, store, FakeClock(monday - timedelta(hours=1)), RecordingSender()
        ).gather()
        readers = subscribe(store, 12, monday)

        def sender() -> SendGridSender:
            return SendGridSender("SG.workers-key", base_url=standin.base_url, max_retries=0)

        log = EventLog("syndicate.test")
        env = JobEnv(settings, store, FakeClock(monday), sender, "test:1", lambda: False, log)
        (run,) = Jobs(env).digest()
        status = store.send_status("weekly:2026-W13")
        left = store.senders()
    assert run.outcome == "ok", run.detail
    assert "ledger: 12 sent" in run.detail
    assert dict(standin.copies) == {email: 1 for email in readers}
    assert status is not None and status.finished_at == monday
    assert left == []
    assert claims() and os.getpid() not in {pid for pid, _ in claims()}  # workers claimed
