"""/healthz and /metrics, with and without the scheduler's health callback."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine
from starlette.testclient import TestClient
from tests.web_helpers import SECRET, SENT_KEY, SENT_WEEK, Site, add_reader, open_site

from syndicate.config import DeliverySettings
from syndicate.models import DeliveryState, SubscriberStatus
from syndicate.store import Store
from syndicate.web import create_app
from syndicate.web.ops import Exposition

NEXT_GATHER = "2026-11-25T09:45:00+00:00"


def scheduler_state(running: bool = True) -> Mapping[str, Any]:
    return {
        "scheduler": {"running": running, "leader": True},
        "jobs": {
            "gather": {
                "last_success": 1_764_062_100.5,
                "last_duration_seconds": 0.25,
                "next_run": NEXT_GATHER,
            },
            'dig"est': {"last_success": None, "last_duration_seconds": None, "next_run": None},
        },
    }


@pytest.fixture
def site(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    monkeypatch.setenv("SYNDICATE_METRICS_TOKEN", METRICS_TOKEN)
    yield from open_site(tmp_path, database_url)


METRICS_TOKEN = "metrics-token-4c1e9a"
OPERATOR = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def client_for(site: Site, health: Any = None, *, public: bool = False) -> TestClient:
    """A client that, unless ``public``, carries the operator's bearer token."""
    app = create_app(
        site.settings,
        site.store,
        sender_factory=site.sender,
        clock=site.clock,
        health=health,
    )
    return TestClient(app, headers={} if public else OPERATOR)


def test_healthz_without_a_scheduler(site: Site) -> None:
    response = client_for(site).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "scheduler": None,
        "next_runs": {},
        "problems": [],
        "degraded": [],
    }


def test_healthz_is_degraded_when_sending_cannot_work(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.store.mark_send_paused(SENT_KEY, "SendGrid refused the API key (401)")
    monkeypatch.delenv("SYNDICATE_SECRET_KEY")
    response = client_for(site).get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded" and body["problems"] == []
    assert body["degraded"] == [
        "SYNDICATE_SECRET_KEY is not set: no subscribing, no sending",
        f"the send of {SENT_KEY} is paused: SendGrid refused the API key (401)",
    ]
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    site.store.mark_send_paused(SENT_KEY, None)
    assert client_for(site).get("/healthz").status_code == 200


def test_healthz_is_degraded_without_the_sendgrid_key(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    monkeypatch.setenv("SYNDICATE_METRICS_TOKEN", METRICS_TOKEN)
    for site in open_site(tmp_path, database_url):
        settings = site.settings.model_copy(
            update={"delivery": DeliverySettings(backend="sendgrid")}
        )
        app = create_app(settings, site.store, sender_factory=site.sender, clock=site.clock)
        response = TestClient(app).get("/healthz", headers=OPERATOR)
        assert response.status_code == 503
        assert response.json()["degraded"] == ["$SENDGRID_API_KEY is not set: no sending"]
        public = TestClient(app).get("/healthz")
        assert (public.status_code, public.json()) == (503, {"status": "degraded"})


def test_healthz_reports_the_scheduler_and_next_runs(site: Site) -> None:
    body = client_for(site, scheduler_state).get("/healthz").json()
    assert body["scheduler"] == {"running": True, "leader": True}
    assert body["next_runs"] == {"gather": NEXT_GATHER, 'dig"est': None}


def test_healthz_is_503_when_the_scheduler_stopped_or_the_callback_fails(site: Site) -> None:
    stopped = client_for(site, lambda: scheduler_state(running=False)).get("/healthz")
    assert stopped.status_code == 503
    assert stopped.json()["problems"] == ["scheduler not running"]

    def broken() -> Mapping[str, Any]:
        raise RuntimeError("boom")

    failing = client_for(site, broken).get("/healthz")
    assert failing.status_code == 503 and failing.json()["scheduler"] == {"error": "RuntimeError"}


def test_healthz_is_503_when_the_database_is_gone(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")

    def dead(self: Store) -> Engine:
        return gone

    monkeypatch.setattr(Store, "engine", property(dead))
    client = client_for(site, scheduler_state)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error: OperationalError"
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert "syndicate_database_up 0" in metrics.text and "syndicate_up 0" in metrics.text
    assert "syndicate_articles " not in metrics.text


def samples(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def test_metrics_in_prometheus_text_format(site: Site) -> None:
    ann = add_reader(site.store, "ann@example.org")
    add_reader(site.store, "bob@example.org")
    site.store.set_status(ann, SubscriberStatus.UNSUBSCRIBED, site.clock())
    week = "weekly:2026-W48"
    site.store.freeze_recipients(week, site.clock(), frozenset())
    claimed = site.store.claim_batch(week, "", 1, site.clock())
    site.store.finish_batch([(claimed[0][0].id, DeliveryState.SENT, "")], site.clock())

    response = client_for(site, scheduler_state).get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    found = samples(response.text)
    assert found["syndicate_up"] == 1 and found["syndicate_database_up"] == 1
    assert found["syndicate_articles"] == 7
    assert found['syndicate_articles_by_category{category="Events"}'] == 4
    assert found['syndicate_subscribers{status="active"}'] == 1
    assert found['syndicate_subscribers{status="unsubscribed"}'] == 1
    assert found["syndicate_editions"] == 2
    assert found[f'syndicate_deliveries{{week="{week}",state="sent"}}'] == 1
    assert found[f'syndicate_deliveries{{week="{week}",state="pending"}}'] == 0
    assert not any(SENT_WEEK in name for name in found), "only the newest edition sent"
    assert found["syndicate_scheduler_running"] == 1
    assert found['syndicate_job_last_success_timestamp_seconds{job="gather"}'] == 1_764_062_100.5
    assert found['syndicate_job_last_duration_seconds{job="gather"}'] == 0.25
    next_gather = datetime(2026, 11, 25, 9, 45, tzinfo=UTC).timestamp()
    assert found['syndicate_job_next_run_timestamp_seconds{job="gather"}'] == next_gather
    assert not any("dig" in name for name in found), "no sample for a job with no values"
    for line in response.text.splitlines():
        assert re.fullmatch(
            r"# (HELP|TYPE) \w+ .+|\w+(\{(\w+=\"([^\"\\]|\\.)*\",?)+\})? [-+\d.e]+|[-+]?Inf|NaN",
            line,
        ), line


def test_exposition_escapes_label_values() -> None:
    out = Exposition()
    out.gauge("x", "help", [({"job": 'a"b\\c\nd'}, 1.5), ({}, 2)])
    out.gauge("empty", "nothing", [])
    assert out.text() == '# HELP x help\n# TYPE x gauge\nx{job="a\\"b\\\\c\\nd"} 1.5\nx 2\n'


# --- issue 13: operational endpoints behind a credential ---------------------------------


def test_the_public_sees_only_ok_or_degraded(site: Site) -> None:
    healthy = client_for(site, scheduler_state, public=True).get("/healthz")
    assert (healthy.status_code, healthy.json()) == (200, {"status": "ok"})
    stopped = client_for(site, lambda: scheduler_state(running=False), public=True)
    response = stopped.get("/healthz")
    assert (response.status_code, response.json()) == (503, {"status": "degraded"})
    wrong = client_for(site, scheduler_state, public=True)
    response = wrong.get("/healthz", headers={"Authorization": "Bearer not-it"})
    assert response.json() == {"status": "ok"}


def test_metrics_need_the_token(site: Site) -> None:
    public = client_for(site, scheduler_state, public=True)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
        response = public.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "syndicate_subscribers" not in response.text
    assert client_for(site, scheduler_state).get("/metrics").status_code == 200


def test_metrics_without_a_configured_token_are_not_there(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNDICATE_METRICS_TOKEN")
    client = client_for(site, scheduler_state)
    assert client.get("/metrics").status_code == 404
    assert client.get("/healthz").json() == {"status": "ok"}


def test_metrics_public_opens_metrics_but_not_the_health_details(site: Site) -> None:
    settings = site.settings.model_copy(
        update={"web": site.settings.web.model_copy(update={"metrics_public": True})}
    )
    app = create_app(settings, site.store, sender_factory=site.sender, clock=site.clock)
    client = TestClient(app)
    assert client.get("/metrics").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}
