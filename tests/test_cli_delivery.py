"""Subscribers and sending from the command line, as an operator runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.sendgrid_standin import Fault, SendGridStandIn

from syndicate.cli import main

NOW = "2026-11-23T08:00:00+00:00"
WEEK = "2026-W47"  # the Monday send covers the week before
KEY = f"weekly:{WEEK}"

ARTICLE = """Dark skies at the dam

November 21, 2026

Clear and steady all night.

Continue reading
November 21, 2026
Observing Reports
Dark skies at the dam
Clear and steady all night.
Read article
"""

CSV = """email,name,categories
ann@example.com,Ann,
bob@example.com,Bob,"Observing Reports"
not-an-address,Carl,
,Dora,
ANN@example.com,Ann again,
eve@example.com,Eve,Events,extra
"""


SITE_FLAGS = [
    "--url",
    "https://astro.example.net/",
    "--from-address",
    "news@astro.example.net",
    "--postal-address",
    "1 Observatory Rd, Hollis",
]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_site(tmp_path / "site", monkeypatch)


def make_site(site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    result = CliRunner().invoke(main, ["init", str(site), *SITE_FLAGS])
    assert result.exit_code == 0, result.output
    config = site / "config" / "syndicate.toml"
    config.write_text(
        config.read_text().replace("[categories]\n", '[categories]\nEvents = ["star party"]\n')
    )
    (site / "articles" / "dam.txt").write_text(ARTICLE, encoding="utf-8")
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", "tfFJOIr8vHjz46ain_Wx2fIRn9TLkDdErWQAliSwFwM")
    return site


def run(site: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    config = str(site / "config" / "syndicate.toml")
    result = CliRunner().invoke(main, ["--config", config, "--now", NOW, *args], input=stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_import_reports_bad_rows_by_line_and_is_idempotent(site: Path) -> None:
    path = site / "people.csv"
    path.write_text(CSV, encoding="utf-8")
    assert run(site, "gather")[0] == 0  # the site's categories come from its articles
    code, out, err = run(site, "subscribers", "import", str(path))
    assert code == 1
    assert "import: 2 added, 0 unchanged, 4 rejected" in out
    lines = err.strip().splitlines()
    assert [line.split(": ")[1] for line in lines] == ["line 4", "line 5", "line 6", "line 7"]
    assert "duplicate" in lines[2] and "line 2" in lines[2]
    code, out, _ = run(site, "subscribers", "import", str(path))
    assert "import: 0 added, 2 unchanged, 4 rejected" in out
    code, out, _ = run(site, "subscribers", "export")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["email"], r["categories"], r["status"]) for r in rows] == [
        ("ann@example.com", "", "active"),
        ("bob@example.com", "Observing Reports", "active"),
    ]


def test_add_list_remove(site: Path) -> None:
    assert run(site, "subscribers", "add", "zoe@example.com", "--name", "Zoe")[0] == 0
    code, _, err = run(site, "subscribers", "add", "ZOE@example.com")
    assert code == 1 and "already subscribed" in err
    code, _, err = run(site, "subscribers", "add", "zoe@@example")
    assert code == 2 and "EMAIL" in err
    code, out, _ = run(site, "subscribers", "list", "--status", "active")
    assert "zoe@example.com" in out and "1 subscribers" in out
    assert run(site, "subscribers", "remove", "zoe@example.com")[0] == 0
    code, _, err = run(site, "subscribers", "remove", "zoe@example.com")
    assert code == 1 and "no such subscriber" in err


def test_dry_run_then_send_through_sendgrid_then_nothing_new(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(site, "gather")[0] == 0
    for address in ("ann@example.com", "bob@example.com"):
        run(site, "subscribers", "add", address)
    run(site, "subscribers", "add", "cat@example.com", "--categories", "Events")
    code, out, _ = run(site, "digest", "send", "--week", WEEK, "--dry-run")
    assert code == 0 and "would send 2 messages" in out
    with SendGridStandIn("SG.cli-key") as standin:
        monkeypatch.setenv("SENDGRID_API_KEY", "SG.cli-key")
        monkeypatch.setenv("SYNDICATE_DELIVERY__BACKEND", "sendgrid")
        monkeypatch.setenv("SYNDICATE_DELIVERY__SENDGRID__BASE_URL", standin.base_url)
        code, out, err = run(site, "digest", "send", "--week", WEEK)
        assert code == 0, err
        assert "2 sent" in out
        code, out, _ = run(site, "digest", "send", "--week", WEEK)
        assert code == 0 and standin.requests == 1
        assert dict(standin.copies) == {"ann@example.com": 1, "bob@example.com": 1}


def test_a_wrong_api_key_pauses_with_a_clear_message(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(site, "gather")
    run(site, "subscribers", "add", "ann@example.com")
    with SendGridStandIn("SG.right") as standin:
        monkeypatch.setenv("SENDGRID_API_KEY", "SG.wrong-key-value")
        monkeypatch.setenv("SYNDICATE_DELIVERY__BACKEND", "sendgrid")
        monkeypatch.setenv("SYNDICATE_DELIVERY__SENDGRID__BASE_URL", standin.base_url)
        code, out, err = run(site, "digest", "send", "--week", WEEK)
    assert code == 2 and "PAUSED" in out and "API key" in out
    assert "SG.wrong-key-value" not in out + err


def test_test_send_writes_one_message_outside_the_ledger(site: Path) -> None:
    run(site, "gather")
    code, out, _ = run(site, "digest", "test-send", "me@example.com", "--week", WEEK)
    assert code == 0 and "sent" in out
    sent = list((site / "var" / "outbox" / "sent").glob("*.eml"))
    assert len(sent) == 1
    code, out, _ = run(site, "status")
    assert code == 0


def test_uncertain_is_reported_and_only_the_operator_requeues_it(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(site, "gather")
    run(site, "subscribers", "add", "ann@example.com")
    with SendGridStandIn("SG.key") as standin:
        monkeypatch.setenv("SENDGRID_API_KEY", "SG.key")
        monkeypatch.setenv("SYNDICATE_DELIVERY__BACKEND", "sendgrid")
        monkeypatch.setenv("SYNDICATE_DELIVERY__SENDGRID__BASE_URL", standin.base_url)
        monkeypatch.setenv("SYNDICATE_DELIVERY__SENDGRID__TIMEOUT", "1")
        standin.inject(Fault.accept_then_hang(max_seconds=3))
        code, out, err = run(site, "digest", "send", "--week", WEEK)
        assert code == 0 and "1 uncertain" in out and "resend-uncertain" in err
        assert "1 uncertain (the request's answer was lost" in err
        run(site, "digest", "send", "--week", WEEK)
        assert standin.copies["ann@example.com"] == 1
        code, out, _ = run(site, "digest", "resend-uncertain", "--week", WEEK, "--list")
        assert "ann@example.com" in out and "1 uncertain recipients" in out
        code, out, _ = run(site, "digest", "resend-uncertain", "--week", WEEK, stdin="y\n")
        assert code == 0 and "1 recipients queued again" in out
        run(site, "digest", "send", "--week", WEEK)
        assert standin.copies["ann@example.com"] == 2  # the operator chose a second copy


def test_send_refuses_the_example_defaults_naming_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert CliRunner().invoke(main, ["init", str(tmp_path / "new")]).exit_code == 0
    site = tmp_path / "new"
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", "0ZuiqOvWsK4s0ZxRCiRj62SVof4kjkmbozWYvSFNOFw")
    monkeypatch.setenv("SYNDICATE_WEB__BASE_URL", "https://list.example.org/")
    (site / "articles" / "dam.txt").write_text(ARTICLE, encoding="utf-8")
    run(site, "gather")
    run(site, "subscribers", "add", "ann@example.net")
    code, _, err = run(site, "digest", "send", "--week", WEEK)
    assert code == 1 and err.count("\n") == 1
    for named in ("email.from_address", "site.url", "web.base_url", "site.postal_address"):
        assert named in err
    assert not (site / "var" / "outbox" / "sent").exists()
    assert run(site, "digest", "preview", "--week", WEEK)[0] == 0  # a preview is fine
    assert run(site, "digest", "send", "--week", WEEK, "--dry-run")[0] == 0


def test_dry_run_names_who_would_get_nothing_and_json(site: Path) -> None:
    run(site, "gather")
    run(site, "subscribers", "add", "ann@example.com")
    run(site, "subscribers", "add", "bob@example.com", "--categories", "Observing Reports")
    run(site, "subscribers", "add", "cat@example.com", "--categories", "Events")
    code, out, _ = run(site, "digest", "send", "--week", WEEK, "--dry-run")
    assert code == 0 and "would send 2 messages" in out
    assert "1 active subscribers would get nothing" in out
    assert "cat@example.com: chose Events; this edition has no article in them" in out
    code, out, _ = run(site, "digest", "send", "--week", WEEK, "--dry-run", "--json")
    assert json.loads(out) == {
        "week": KEY,
        "messages": 2,
        "variants": {"Observing Reports": 1, "all categories": 1},
        "left_out": [
            {
                "email": "cat@example.com",
                "why": "chose Events; this edition has no article in them "
                "(it has Observing Reports)",
            }
        ],
    }


def test_status_shows_the_send_and_its_run(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(site, "gather")
    run(site, "subscribers", "add", "ann@example.com")
    _, out, _ = run(site, "status")
    assert "last runs: none" in out
    with SendGridStandIn("SG.right") as standin:
        monkeypatch.setenv("SENDGRID_API_KEY", "SG.wrong-key-value")
        monkeypatch.setenv("SYNDICATE_DELIVERY__BACKEND", "sendgrid")
        monkeypatch.setenv("SYNDICATE_DELIVERY__SENDGRID__BASE_URL", standin.base_url)
        assert run(site, "digest", "send", "--week", WEEK)[0] == 2
        _, out, _ = run(site, "status", "--json")
        (edition,) = json.loads(out)["editions"]
        assert edition["week"] == KEY and edition["send"]["state"] == "paused"
        assert "API key" in edition["send"]["paused_reason"]
        assert edition["send"]["counts"]["pending"] == 1
        assert edition["send"]["counts"]["sent"] == 0
        _, out, _ = run(site, "status")
        assert f"{KEY}  1 articles" in out and "send: paused (" in out
        assert "0 sent, 0 failed, 0 uncertain, 1 pending" in out
        assert "send" in out.split("last runs:")[1] and "failed" in out.split("last runs:")[1]
        monkeypatch.setenv("SENDGRID_API_KEY", "SG.right")
        assert run(site, "digest", "send", "--week", WEEK)[0] == 0
    _, out, _ = run(site, "status", "--json")
    data = json.loads(out)
    assert data["editions"][0]["send"]["state"] == "done"
    assert data["editions"][0]["send"]["counts"]["sent"] == 1
    assert [r["job"] for r in data["last_runs"]] == ["send", "send"]
    assert data["last_runs"][0]["outcome"] == "ok"


def test_status_mid_send(site: Path) -> None:
    from datetime import datetime

    from syndicate.config import load_settings
    from syndicate.pipeline.edition import prepare_edition
    from syndicate.store import Store

    run(site, "gather")
    for address in ("ann@example.com", "bob@example.com"):
        run(site, "subscribers", "add", address)
    assert run(site, "digest", "send", "--week", WEEK, "--dry-run")[0] == 0  # stores nothing
    now = datetime.fromisoformat(NOW)
    settings = load_settings(site / "config" / "syndicate.toml")
    with Store(f"sqlite:///{site / 'var' / 'syndicate.db'}") as store:
        assert store.get_edition(KEY) is None
        edition = prepare_edition(settings, store, WEEK, now=now)
        assert edition is not None
        store.freeze_edition(edition, now)  # what a send does first
        ((variant, _),) = store.pending_variants(KEY)
        assert len(store.claim_batch(KEY, variant, 1, now)) == 1  # one in flight
    _, out, _ = run(site, "status", "--json")
    (edition,) = json.loads(out)["editions"]
    assert edition["send"]["state"] == "sending" and edition["send"]["paused_reason"] is None
    counts = edition["send"]["counts"]
    assert (counts["submitting"], counts["pending"], counts["sent"]) == (1, 1, 0)
