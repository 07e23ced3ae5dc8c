"""Issue 10, item 8: `syndicate announce FILE.md` sends a one-off message to the list through
the ledger (owners, crash safety, the digest's headers and links) and it appears in the
archive. The CLI as an operator runs it, the real SendGrid client against the loopback
stand-in, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient
from tests.feedcheck import check_atom
from tests.sendgrid_standin import Fault, SendGridStandIn
from tests.test_cli_delivery import make_site

from syndicate.cli import main
from syndicate.config import Settings, load_settings
from syndicate.delivery.outbox import OutboxSender
from syndicate.models import DeliveryState
from syndicate.pipeline.archive import (
    archive_email,
    archive_entries,
    archive_feed,
    archived_edition,
)
from syndicate.store import Store
from syndicate.web import create_app

NOW = "2026-11-23T08:00:00+00:00"
KEY = "announcement:2026-11-23-we-are-moving"
API_KEY = "SG.announce-key"
T_NOW = datetime.fromisoformat(NOW)

MESSAGE = """---
subject: We are moving
preheader: A new dome for the club in spring
---
# The short of it

We move to the **hill site** in March. <script>alert(1)</script>

- bring boots
- bring %%name%% tags
"""


@pytest.fixture
def site(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    made = make_site(tmp_path / "site", monkeypatch)
    monkeypatch.setenv("SYNDICATE_STORAGE__URL", database_url)
    (made / "move.md").write_text(MESSAGE, encoding="utf-8")
    assert run(made, "gather")[0] == 0
    run(made, "subscribers", "add", "ann@example.com", "--name", "Ann")
    run(made, "subscribers", "add", "bob@example.com", "--categories", "Observing Reports")
    run(made, "subscribers", "add", "cat@example.com", "--categories", "Events")
    run(made, "subscribers", "add", "dan@example.com")
    run(made, "subscribers", "remove", "dan@example.com")
    return made


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[SendGridStandIn]:
    with SendGridStandIn(API_KEY) as running:
        monkeypatch.setenv("SENDGRID_API_KEY", API_KEY)
        monkeypatch.setenv("SYNDICATE_DELIVERY__BACKEND", "sendgrid")
        monkeypatch.setenv("SYNDICATE_DELIVERY__SENDGRID__BASE_URL", running.base_url)
        yield running


def run(site: Path, *args: str) -> tuple[int, str, str]:
    config = str(site / "config" / "syndicate.toml")
    result = CliRunner().invoke(main, ["--config", config, "--now", NOW, *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def settings_of(site: Path) -> Settings:
    return load_settings(site / "config" / "syndicate.toml")


def test_an_announcement_reaches_every_active_subscriber_once_and_is_archived(
    site: Path, standin: SendGridStandIn
) -> None:
    code, out, _ = run(site, "announce", str(site / "move.md"), "--dry-run")
    assert code == 0 and f"{KEY}: would send to 3 subscribers" in out
    settings = settings_of(site)
    with Store(settings.database_url) as store:
        assert store.get_announcement(KEY) is None, "a dry run writes nothing"
    code, out, err = run(site, "announce", str(site / "move.md"))
    assert code == 0, out + err
    assert "3 sent" in out
    by_address = {m.email: m for m in standin.messages}
    assert set(by_address) == {"ann@example.com", "bob@example.com", "cat@example.com"}
    ann = by_address["ann@example.com"]
    assert ann.subject == "We are moving" and ann.custom_args["week"] == KEY
    assert ann.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe?token=" in ann.headers["List-Unsubscribe"] and "List-Id" in ann.headers
    assert "<strong>hill site</strong>" in ann.html and "<script" not in ann.html
    assert "A new dome for the club in spring" in ann.html
    assert "Hi Ann," in ann.text and "hill site" in ann.text and "Unsubscribe:" in ann.text
    assert "bring Ann tags" not in ann.text, "no placeholder in the operator's text"
    assert "because you subscribed" in ann.text and "1 Observatory Rd" in ann.text

    code, out, _ = run(site, "announce", str(site / "move.md"))
    assert code == 0 and standin.requests == 1, "announced again: nobody gets it twice"
    code, out, _ = run(
        site, "--now", "2026-11-24T00:01:00+00:00", "announce", str(site / "move.md")
    )
    assert code == 0 and standin.requests == 1 and out.startswith(f"digest {KEY}:")
    with Store(settings.database_url) as store:
        (entry,) = [e for e in archive_entries(settings, store) if e.week == KEY]
        assert entry.label == "Announcement · November 23, 2026"
        assert entry.url.endswith("/archive/announcement-2026-11-23-we-are-moving/")
        archived = archived_edition(settings, store, entry.path)
        assert archived is not None and archived.subject == "We are moving"
        assert "<strong>hill site</strong>" in archived.body
        mailed, _ = archive_email(settings, archived.edition, archived.announcement)
        assert "Hi there," in mailed and "%%" not in mailed.replace("%\u2060%", "")
        feed = archive_feed(settings, store)
        web = TestClient(
            create_app(settings, store, sender_factory=OutboxSender, clock=lambda: T_NOW)
        )
        index = web.get("/archive/")
        page = web.get(f"/{entry.url.split('/', 3)[3]}")
        mailed_page = web.get(f"/{entry.url.split('/', 3)[3]}email.html")
    assert f'href="{settings.web_url}archive/announcement-2026-11-23-we-are-moving/"' in index.text
    assert page.status_code == 200 and "<strong>hill site</strong>" in page.text
    assert "<script" not in page.text.split("<main", 1)[-1] and "We are moving" in page.text
    assert mailed_page.status_code == 200 and "Hi there," in mailed_page.text
    check_atom(feed)
    assert b"We are moving" in feed and b"announcement-2026-11-23-we-are-moving" in feed


def test_an_announcement_to_categories_skips_readers_of_others_only(
    site: Path, standin: SendGridStandIn
) -> None:
    code, out, err = run(site, "announce", str(site / "move.md"), "--categories", "events")
    assert code == 0, out + err
    assert set(standin.copies) == {"ann@example.com", "cat@example.com"}  # ann takes all
    code, _, err = run(site, "announce", str(site / "move.md"), "--categories", "Comets")
    assert code == 1 and "--categories: unknown category 'Comets'" in err


def test_a_lost_answer_leaves_the_announcement_uncertain_and_never_resends_it(
    site: Path, standin: SendGridStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATE_DELIVERY__SENDGRID__TIMEOUT", "1")
    standin.inject(Fault.accept_then_hang(max_seconds=3))
    _, out, _ = run(site, "announce", str(site / "move.md"))
    assert "3 uncertain" in out
    code, out, _ = run(site, "announce", str(site / "move.md"))
    assert code == 0 and max(standin.copies.values()) == 1
    with Store(settings_of(site).database_url) as store:
        assert len(store.deliveries(KEY, DeliveryState.UNCERTAIN)) == 3


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("---\npreheader: x\n---\nBody\n", "front matter: 'subject' is missing or empty"),
        ("Just text\n", "no front matter"),
        ("---\nsubject: Hi\nsubjet: typo\n---\nBody\n", "unknown key 'subjet'"),
        ("---\nsubject: Hi\n---\n\n", "the message below the front matter is empty"),
    ],
)
def test_a_bad_file_is_one_line_naming_it(site: Path, text: str, problem: str) -> None:
    path = site / "bad.md"
    path.write_text(text, encoding="utf-8")
    code, _, err = run(site, "announce", str(path), "--dry-run")
    assert code == 1
    (line,) = err.strip().splitlines()
    assert line.startswith(f"Error: {path}: ") and problem in line


def test_another_text_under_the_same_key_is_refused(site: Path, standin: SendGridStandIn) -> None:
    assert run(site, "announce", str(site / "move.md"))[0] == 0
    (site / "move.md").write_text(MESSAGE.replace("March", "April"), encoding="utf-8")
    code, _, err = run(site, "announce", str(site / "move.md"))
    assert code == 1 and "announced already" in err and "slug:" in err
    assert standin.requests == 1
