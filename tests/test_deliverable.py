"""Addresses we can deliver and names that fit a header (issue 13): the web form, the CLI
and the CSV import accept only what the configured sender can mail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient
from tests.web_helpers import SECRET, Site, open_site

from syndicate.audience import NAME_LIMIT
from syndicate.cli import main
from syndicate.models import SubscriberStatus
from syndicate.subscriber_csv import parse_subscriber_file

NOW = "2026-11-21T12:00:00+00:00"
LONG_NAME = "N" * 5_000


@pytest.fixture
def site(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    yield from open_site(tmp_path, database_url)


@pytest.fixture
def client(site: Site) -> TestClient:
    return TestClient(site.app())


def test_a_non_ascii_local_part_is_refused_by_the_form(client: TestClient, site: Site) -> None:
    response = client.post("/subscribe", data={"email": "üñí@exämple.com", "name": "U"})
    assert response.status_code == 400
    assert "does not look like an email address" in response.text
    assert site.store.subscriber_counts()["pending"] == 0 and site.mails() == []


def test_an_idna_domain_is_stored_in_its_ascii_form(client: TestClient, site: Site) -> None:
    response = client.post("/subscribe", data={"email": "joe@Exämple.com", "name": "Joe"})
    assert response.status_code == 200
    joe = site.store.find_subscriber("joe@xn--exmple-cua.com")
    assert joe is not None and joe.email == "joe@xn--exmple-cua.com"
    (mail,) = site.mails()
    assert mail["To"] == "Joe <joe@xn--exmple-cua.com>"


@pytest.mark.parametrize(
    "body",
    [
        b"email=caf\xe9%40example.com&name=x",  # raw Latin-1
        b"email=bob%40example.com&name=Caf%E9",  # percent-encoded Latin-1
    ],
)
def test_form_bodies_that_are_not_utf8_are_refused(
    client: TestClient, site: Site, body: bytes
) -> None:
    response = client.post(
        "/subscribe",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert site.store.subscriber_counts()["pending"] == 0


def test_form_names_are_capped_and_lose_control_characters(client: TestClient, site: Site) -> None:
    name = "Bob\x00\x1b[31m\r\nBcc: x@y" + LONG_NAME
    assert client.post("/subscribe", data={"email": "bob@example.org", "name": name}).status_code
    bob = site.store.find_subscriber("bob@example.org")
    assert bob is not None and len(bob.name) <= NAME_LIMIT
    assert bob.name.isprintable()


def test_the_csv_import_caps_names_and_refuses_undeliverable_addresses() -> None:
    rows, errors = parse_subscriber_file(
        f"email,name,categories\nann@example.com,{LONG_NAME},\n"
        "üñí@exämple.com,U,\nbob@exämple.com,Bob\x07,\n"
    )
    assert [(r.email, len(r.name)) for r in rows] == [
        ("ann@example.com", NAME_LIMIT),
        ("bob@xn--exmple-cua.com", 3),
    ]
    (error,) = errors
    assert error.startswith("line 3: bad address") and "@-sign" in error


@pytest.fixture
def cli_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    assert CliRunner().invoke(main, ["init", str(tmp_path / "site")]).exit_code == 0
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    return tmp_path / "site"


def cli(site: Path, *args: str) -> tuple[int, str, str]:
    config = str(site / "config" / "syndicate.toml")
    result = CliRunner().invoke(main, ["--config", config, "--now", NOW, *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_the_cli_caps_names_and_refuses_undeliverable_addresses(cli_site: Path) -> None:
    code, _, err = cli(cli_site, "subscribers", "add", "üñí@exämple.com", "--name", "U")
    assert code != 0 and "Traceback" not in err
    (reason,) = [line for line in err.splitlines() if line.startswith("Error:")]
    assert "EMAIL" in reason and "@-sign" in reason
    code, out, _ = cli(cli_site, "subscribers", "add", "ann@example.com", "--name", LONG_NAME)
    assert code == 0, out
    code, out, _ = cli(cli_site, "subscribers", "export")
    (line,) = [row for row in out.splitlines() if row.startswith("ann@")]
    assert line.split(",")[1] == "N" * NAME_LIMIT
    to_line = f"To: {'N' * NAME_LIMIT} <ann@example.com>"
    assert len(to_line) < 998


def test_statuses_are_unchanged_by_the_new_checks(site: Site) -> None:
    # An address stored before (say, with a Unicode domain) is still found by its key.
    site.store.add_subscriber("old@exämple.com", "", (), SubscriberStatus.ACTIVE, site.clock())
    assert site.store.find_subscriber("OLD@exämple.com") is not None
