"""Log lines: one per event, JSON off a terminal, text on one; secrets and tokens never
appear, even when the jobs fail with them at hand."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from tests.sendgrid_standin import Fault, SendGridStandIn
from tests.service_support import (
    FakeClock,
    captured_logs,
    site_settings,
    subscribe,
    utc,
    write_articles,
)

from syndicate.config import Settings
from syndicate.delivery.registry import make_sender
from syndicate.service.jobs import JobEnv, Jobs
from syndicate.service.logs import REDACTED, EventLog, log_handler
from syndicate.service.runner import secret_values

API_KEY = "SG.marker-api-key-7f3a9c"
SECRET_KEY = "V1cH0sVahW3nsFOhs4BjHzkYUXDjhDoMvWQ7p_Bo8-Q"
W14_AT = utc(2026, 3, 30, 6, 0)


def test_an_event_is_one_json_line_with_ts_level_event_and_fields() -> None:
    with captured_logs() as logs:
        EventLog("syndicate.t").info("gather.finished", new=3, note="two\nlines")
    (line,) = logs.text.splitlines()
    data = json.loads(line)
    assert list(data)[:3] == ["ts", "level", "event"]
    assert data["event"] == "gather.finished" and data["level"] == "info"
    assert data["new"] == 3 and data["note"] == "two\nlines"
    assert data["ts"].endswith("+00:00")


def test_an_exception_stays_on_one_line_with_its_traceback_inside() -> None:
    with captured_logs() as logs:
        try:
            raise ValueError("bad\nthing")
        except ValueError:
            EventLog("syndicate.t").exception("digest.failed", week="2026-W14")
    (line,) = logs.text.splitlines()
    data = json.loads(line)
    assert data["level"] == "error" and data["error"] == "ValueError: bad thing"
    assert "Traceback" in data["traceback"] and data["week"] == "2026-W14"


def test_other_libraries_records_become_events_named_after_their_logger() -> None:
    with captured_logs() as logs:
        logging.getLogger("tests.some_library").warning("port %d busy", 8080)
    (event,) = logs.events()
    assert event["event"] == "tests.some_library" and event["message"] == "port 8080 busy"
    assert event["level"] == "warning"


def test_on_a_terminal_the_line_is_text() -> None:
    with captured_logs(json_lines=False) as logs:
        EventLog("syndicate.t").info("lease.acquired", instance="host:1", note="a b")
    line = logs.text.strip()
    assert "lease.acquired" in line and "instance=host:1" in line and 'note="a b"' in line
    assert not line.startswith("{")


def test_a_handler_on_a_file_or_pipe_writes_json(tmp_path: Path) -> None:
    logger = logging.getLogger("syndicate.to-a-file")
    with (tmp_path / "log").open("w") as stream:
        handler = log_handler([], stream)
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.INFO)
        try:
            EventLog(logger.name).info("event.name", n=1)
        finally:
            logger.removeHandler(handler)
            logger.propagate = True
    assert json.loads((tmp_path / "log").read_text())["event"] == "event.name"


def test_secrets_and_tokens_are_redacted_wherever_they_appear() -> None:
    tricky = 'quote"and\\slash-secret'
    with captured_logs([API_KEY, tricky, "ab"]) as logs:
        log = EventLog("syndicate.t")
        log.error("digest.failed", error=f"401 for key {API_KEY}", other=tricky)
        logging.getLogger("tests.access").info(
            '%s - "%s %s HTTP/1.1" %d',
            "127.0.0.1",
            "POST",
            "/unsubscribe?token=abc.DEF-123_x&lang=en",
            200,
        )
        log.info("short.secrets.are.not.hunted", word="about")
    assert API_KEY not in logs.text and "quote" not in logs.text
    assert logs.text.count(REDACTED) >= 3
    assert "token=abc" not in logs.text and "&lang=en" in logs.text
    assert "about" in logs.text


def test_secret_values_include_the_database_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET_KEY)
    settings = site_settings(tmp_path, "postgresql+psycopg://app:db-pass-9d8e@db.example/site")
    assert {API_KEY, SECRET_KEY, "db-pass-9d8e"} <= set(secret_values(settings))


def test_jobs_failing_against_sendgrid_never_log_the_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET_KEY)
    write_articles(tmp_path, W14_AT - timedelta(days=1), 2)
    with SendGridStandIn(API_KEY) as standin:
        standin.inject(Fault.status(500), Fault.status(401, f"bad key {API_KEY}"))
        settings = Settings.model_validate(
            {
                **site_settings(tmp_path, f"sqlite:///{tmp_path / 'site.db'}").model_dump(),
                "delivery": {
                    "backend": "sendgrid",
                    "sendgrid": {"base_url": standin.base_url, "max_retries": 0, "timeout": 2},
                },
                "root": tmp_path,
            }
        )
        clock = FakeClock(W14_AT)
        from syndicate.store import Store

        with Store(settings.database_url) as store, captured_logs(secret_values(settings)) as logs:
            subscribe(store, 3, W14_AT)
            env = JobEnv(
                settings,
                store,
                clock,
                lambda: make_sender(settings, clock),
                "host:1",
                lambda: False,
                EventLog("syndicate.t"),
            )
            jobs = Jobs(env)
            assert jobs.gather().outcome == "ok"
            (run,) = jobs.digest()
            try:
                raise RuntimeError(f"unexpected with {SECRET_KEY} and {API_KEY}")
            except RuntimeError:
                EventLog("syndicate.t").exception("job.crashed")
    assert run.outcome == "failed"
    assert "digest.finished" in logs.names() or "digest.failed" in logs.names()
    assert API_KEY not in logs.text and SECRET_KEY not in logs.text
    assert "job.crashed" in logs.names() and REDACTED in logs.text
