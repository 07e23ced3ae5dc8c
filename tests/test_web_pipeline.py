"""pipeline.subscriptions and pipeline.archive without HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tests.web_helpers import SECRET, SENT_WEEK, Site, add_reader, open_site

from syndicate.audience import AddressError
from syndicate.models import SubscriberStatus
from syndicate.pipeline.archive import archive_email, archived_edition
from syndicate.pipeline.subscriptions import (
    NotConfigured,
    choose_categories,
    confirmation_batch,
    subscribe,
)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    yield from open_site(tmp_path, f"sqlite:///{tmp_path / 'site.db'}")


def test_choose_categories_keeps_known_ones_and_all_means_none() -> None:
    available = ["Events", "Sky Guide", "Equipment"]
    assert choose_categories(available, ["events", "Nope", "SKY GUIDE"]) == {"Events", "Sky Guide"}
    assert choose_categories(available, []) == frozenset()
    assert choose_categories(available, ["Equipment", "events", "Sky Guide"]) == frozenset()
    assert choose_categories([], ["Events"]) == frozenset()


@pytest.mark.parametrize("status", [SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED])
def test_bounced_and_complained_addresses_get_no_mail(site: Site, status: SubscriberStatus) -> None:
    sid = add_reader(site.store, "ann@example.org")
    site.store.set_status(sid, status, site.clock())
    result = subscribe(
        site.settings, site.store, site.sender(), email="ann@example.org", name="", categories=(),
        now=site.clock(),
    )  # fmt: skip
    assert result.action == "unchanged" and result.outcome is None
    assert site.mails() == []
    found = site.store.get_subscriber(sid)
    assert found is not None and found.status is status


def test_subscribe_checks_the_address_and_the_secret(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AddressError):
        subscribe(
            site.settings, site.store, site.sender(), email="nope", name="", categories=(),
            now=site.clock(),
        )  # fmt: skip
    monkeypatch.delenv("SYNDICATE_SECRET_KEY")
    with pytest.raises(NotConfigured, match="SYNDICATE_SECRET_KEY"):
        subscribe(
            site.settings, site.store, site.sender(), email="a@example.org", name="",
            categories=(), now=site.clock(),
        )  # fmt: skip
    assert site.store.find_subscriber("a@example.org") is None


def test_the_confirmation_mail_keeps_names_on_one_line(site: Site) -> None:
    sid = add_reader(site.store, "ann@example.org", "Ann\r\nBcc: evil@example.org")
    subscriber = site.store.get_subscriber(sid)
    assert subscriber is not None
    batch = confirmation_batch(
        site.settings,
        subscriber,
        "http://testserver/confirm?token=t",
        timedelta(hours=2),
        site.clock(),
    )
    assert "Hi Ann," in batch.text  # the first name only, on its line
    assert not any(line.startswith("Bcc") for line in batch.text.splitlines())
    assert "\r" not in batch.subject and "\n" not in batch.subject
    assert "<Test>" not in batch.html and "&lt;Test&gt;" in batch.html


def test_the_archived_email_has_no_placeholder_left(site: Site) -> None:
    archived = archived_edition(site.settings, site.store, SENT_WEEK)
    assert archived is not None and len(archived.headlines) == 5
    html, text = archive_email(site.settings, archived.edition)
    for part in (html, text):
        assert "%%unsubscribe_url%%" not in part and "%%name%%" not in part
    assert "Unsubscribe: http://testserver/unsubscribe" in text
    assert archived_edition(site.settings, site.store, "2026-W60") is None
