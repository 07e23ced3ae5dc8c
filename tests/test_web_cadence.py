"""Issue 10, item 2: readers choose how often they hear from the site, on the subscribe form
and the preferences page, among digest.cadences only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.web_helpers import SECRET, Site, add_reader, open_site

from syndicate import tokens
from syndicate.config.digest import DigestSettings
from syndicate.pipeline.send import PREFERENCES


@pytest.fixture
def site(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    for opened in open_site(tmp_path, database_url):
        digest = DigestSettings.model_validate({"cadences": ["daily", "weekly"]})
        yield replace(opened, settings=opened.settings.model_copy(update={"digest": digest}))


def test_the_form_offers_the_enabled_cadences_and_stores_the_choice(site: Site) -> None:
    client = TestClient(site.app())
    page = client.get("/subscribe")
    assert 'name="cadence" value="daily"' in page.text
    assert 'name="cadence" value="weekly" checked' in page.text
    assert 'value="monthly"' not in page.text
    form = {"email": "bob@example.org", "name": "Bob", "website": "", "cadence": "daily"}
    assert client.post("/subscribe", data=form).status_code == 200
    bob = site.store.find_subscriber("bob@example.org")
    assert bob is not None and bob.cadence == "daily"
    # A value the form did not offer is the default, not an error page.
    tampered = {**form, "email": "cy@example.org", "cadence": "monthly"}
    assert client.post("/subscribe", data=tampered).status_code == 200
    cy = site.store.find_subscriber("cy@example.org")
    assert cy is not None and cy.cadence == "weekly"


def test_the_preferences_page_changes_the_cadence_among_the_enabled_ones(site: Site) -> None:
    sid = add_reader(site.store, "ann@example.org")
    ann = site.store.get_subscriber(sid)
    assert ann is not None and ann.cadence == "weekly"
    token = tokens.sign(PREFERENCES, ann.token_id, secret=SECRET, now=site.clock(), ttl=None)
    client = TestClient(site.app())
    page = client.get(f"/preferences?token={token}")
    assert 'name="cadence" value="weekly" checked' in page.text
    saved = client.post(f"/preferences?token={token}", data={"cadence": "daily"})
    assert saved.status_code == 200 and 'name="cadence" value="daily" checked' in saved.text
    refused = client.post(f"/preferences?token={token}", data={"cadence": "monthly"})
    assert refused.status_code == 400 and "Unknown cadence" in refused.text
    after = site.store.get_subscriber(sid)
    assert after is not None and after.cadence == "daily"


def test_one_cadence_offers_no_choice(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    for site in open_site(tmp_path, database_url):
        assert 'name="cadence"' not in TestClient(site.app()).get("/subscribe").text
