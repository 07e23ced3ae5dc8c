"""Unsubscribe (GET changes nothing, POST is RFC 8058 one-click) and preferences, with the
links a real send put into the digest."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.web_helpers import (
    SECRET,
    UNSENT_WEEK,
    Site,
    add_reader,
    open_site,
    path_of,
    read_mail,
)

from syndicate import tokens
from syndicate.delivery.outbox import OutboxSender
from syndicate.models import SubscriberStatus
from syndicate.pipeline.send import PREFERENCES, UNSUBSCRIBE, send_edition
from syndicate.pipeline.subscriptions import CONFIRM

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def site(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    yield from open_site(tmp_path, database_url)


@pytest.fixture
def client(site: Site) -> TestClient:
    return TestClient(site.app())


def sent_links(site: Site, email: str = "ann@example.org") -> tuple[str, str]:
    """(unsubscribe path, preferences path) from the digest a real send wrote for ``email``."""
    outbox = site.root / "digests"
    report = send_edition(
        site.settings, site.store, OutboxSender(outbox, clock=site.clock), UNSENT_WEEK,
        clock=site.clock,
    )  # fmt: skip
    assert report.counts["sent"] >= 1
    (path,) = [p for p in outbox.glob("*.eml") if email in p.name]
    mail = read_mail(path)
    header = str(mail["List-Unsubscribe"])
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.search(r"<(http[^>]+)>", header)
    body = mail.get_body(preferencelist=("plain",))
    assert unsubscribe is not None and body is not None
    preferences = re.search(r"Choose categories: (\S+)", str(body.get_content()))
    assert preferences is not None
    return path_of(unsubscribe[1]), path_of(preferences[1])


def status(site: Site, sid: int) -> SubscriberStatus:
    found = site.store.get_subscriber(sid)
    assert found is not None
    return found.status


def test_get_shows_a_button_and_changes_nothing(client: TestClient, site: Site) -> None:
    sid = add_reader(site.store)
    unsubscribe, _ = sent_links(site)
    for _ in range(3):  # a mail scanner, a preview, the reader
        page = client.get(unsubscribe)
        assert page.status_code == 200
    assert status(site, sid) is SubscriberStatus.ACTIVE
    assert "ann@example.org" in page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert (
        action is not None and action[1].replace("&amp;", "&") == f"http://testserver{unsubscribe}"
    )
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"


def test_one_click_post_unsubscribes_without_cookies(client: TestClient, site: Site) -> None:
    sid = add_reader(site.store)
    unsubscribe, _ = sent_links(site)
    response = client.post(unsubscribe, data=ONE_CLICK)
    assert response.status_code == 200 and "You are unsubscribed" in response.text
    assert "set-cookie" not in response.headers
    assert status(site, sid) is SubscriberStatus.UNSUBSCRIBED
    again = client.post(unsubscribe, data=ONE_CLICK)
    assert again.status_code == 200, "a second click is harmless"
    assert status(site, sid) is SubscriberStatus.UNSUBSCRIBED


def test_one_click_as_multipart_and_from_another_origin(client: TestClient, site: Site) -> None:
    # RFC 8058 senders POST multipart/form-data, from the mail provider's servers.
    sid = add_reader(site.store)
    unsubscribe, _ = sent_links(site)
    response = client.post(
        unsubscribe,
        files={"List-Unsubscribe": (None, "One-Click")},
        headers={"Origin": "https://mail.provider.example"},
    )
    assert response.status_code == 200
    assert status(site, sid) is SubscriberStatus.UNSUBSCRIBED


def test_bounced_addresses_stay_bounced(client: TestClient, site: Site) -> None:
    sid = add_reader(site.store)
    unsubscribe, _ = sent_links(site)
    site.store.set_status(sid, SubscriberStatus.BOUNCED, site.clock())
    assert client.post(unsubscribe, data=ONE_CLICK).status_code == 200
    assert status(site, sid) is SubscriberStatus.BOUNCED


def forged_tokens(sid: int, site: Site, good: str) -> dict[str, str]:
    now = site.clock()
    return {
        "tampered": good[:-1] + ("A" if good[-1] != "A" else "B"),
        "other subscriber": good.split(".")[0][:-2] + "xx." + good.split(".")[1],
        "wrong key": tokens.sign(UNSUBSCRIBE, sid, secret="not-our-key", now=now, ttl=None),
        "preferences token": tokens.sign(PREFERENCES, sid, secret=SECRET, now=now, ttl=None),
        "confirm token": tokens.sign(CONFIRM, f"{sid}:x", secret=SECRET, now=now, ttl=None),
        "empty": "",
        "garbage": "%00<script>",
    }


def test_bad_tokens_get_400_and_change_nothing(client: TestClient, site: Site) -> None:
    sid = add_reader(site.store)
    unsubscribe, _ = sent_links(site)
    good = unsubscribe.split("token=")[1]
    for why, token in forged_tokens(sid, site, good).items():
        for method in ("GET", "POST"):
            response = client.request(method, f"/unsubscribe?token={token}", data=ONE_CLICK)
            expected = 200 if (why == "empty" and method == "GET") else 400
            assert response.status_code == expected, (why, method)
            assert "<script>" not in response.text
    assert status(site, sid) is SubscriberStatus.ACTIVE


def test_an_expired_token_is_refused(client: TestClient, site: Site) -> None:
    sid = add_reader(site.store)
    now = site.clock()
    short = tokens.sign(UNSUBSCRIBE, sid, secret=SECRET, now=now, ttl=timedelta(hours=1))
    site.clock.advance(hours=2)
    response = client.post(f"/unsubscribe?token={short}", data=ONE_CLICK)
    assert response.status_code == 400 and "expired" in response.text
    assert status(site, sid) is SubscriberStatus.ACTIVE


def test_unsubscribe_without_a_token(client: TestClient) -> None:
    page = client.get("/unsubscribe")
    assert page.status_code == 200 and "unsubscribe link at the end" in page.text
    assert client.post("/unsubscribe", data=ONE_CLICK).status_code == 400


def test_a_removed_subscriber_is_told_there_is_nothing_to_do(
    client: TestClient, site: Site
) -> None:
    add_reader(site.store)
    unsubscribe, _ = sent_links(site)
    site.store.remove_subscriber("ann@example.org")
    page = client.get(unsubscribe)
    assert page.status_code == 200 and "nothing to do" in page.text
    assert client.post(unsubscribe, data=ONE_CLICK).status_code == 200


# --- preferences --------------------------------------------------------------------------


def test_preferences_show_the_current_choice_and_save_a_new_one(
    client: TestClient, site: Site
) -> None:
    sid = add_reader(site.store, categories=("Events",))
    _, preferences = sent_links(site)
    page = client.get(preferences)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'value="Events" checked' in page.text
    assert 'value="Equipment">' in page.text and 'value="Sky Guide">' in page.text

    saved = client.post(
        preferences, data={"category": ["Equipment", "Sky Guide"], "action": "save"}
    )
    assert saved.status_code == 200 and "Saved." in saved.text
    assert 'value="Equipment" checked' in saved.text and 'value="Events">' in saved.text
    found = site.store.get_subscriber(sid)
    assert found is not None and found.categories == {"Equipment", "Sky Guide"}

    client.post(preferences, data={"action": "save"})  # none ticked: everything
    found = site.store.get_subscriber(sid)
    assert found is not None and found.categories == frozenset()
    assert found.status is SubscriberStatus.ACTIVE


def test_preferences_take_only_the_sites_categories(client: TestClient, site: Site) -> None:
    sid = add_reader(site.store, categories=("Events",))
    _, preferences = sent_links(site)
    saved = client.post(preferences, data={"category": ["sky guide"], "action": "save"})
    assert saved.status_code == 200
    found = site.store.get_subscriber(sid)
    assert found is not None and found.categories == {"Sky Guide"}  # the site's spelling
    refused = client.post(preferences, data={"category": ["Newz"], "action": "save"})
    assert refused.status_code == 400 and "Newz" in refused.text and "Equipment" in refused.text
    found = site.store.get_subscriber(sid)
    assert found is not None and found.categories == {"Sky Guide"}  # nothing changed


def test_the_preferences_page_can_unsubscribe(client: TestClient, site: Site) -> None:
    sid = add_reader(site.store)
    _, preferences = sent_links(site)
    assert client.get(preferences).text.count('value="unsubscribe"') == 1
    response = client.post(preferences, data={"action": "unsubscribe"})
    assert response.status_code == 200 and "You are unsubscribed" in response.text
    assert status(site, sid) is SubscriberStatus.UNSUBSCRIBED
    page = client.get(preferences)
    assert "does not get the digest" in page.text and 'value="unsubscribe"' not in page.text


def test_preferences_refuse_bad_tokens(client: TestClient, site: Site) -> None:
    sid = add_reader(site.store, categories=("Events",))
    unsubscribe, preferences = sent_links(site)
    good = preferences.split("token=")[1]
    unsubscribe_token = unsubscribe.split("token=")[1]
    for token in (good[:-1] + ("A" if good[-1] != "A" else "B"), unsubscribe_token, ""):
        assert client.get(f"/preferences?token={token}").status_code == 400
        response = client.post(f"/preferences?token={token}", data={"category": "Equipment"})
        assert response.status_code == 400
        response = client.post(f"/preferences?token={token}", data={"action": "unsubscribe"})
        assert response.status_code == 400
    found = site.store.get_subscriber(sid)
    assert found is not None and found.categories == {"Events"}
    assert found.status is SubscriberStatus.ACTIVE


def test_links_mailed_before_token_ids_still_unsubscribe_but_open_no_preferences(
    client: TestClient, site: Site
) -> None:
    sid = add_reader(site.store)
    now = site.clock()
    legacy_unsubscribe = tokens.sign(UNSUBSCRIBE, sid, secret=SECRET, now=now, ttl=None)
    legacy_preferences = tokens.sign(PREFERENCES, sid, secret=SECRET, now=now, ttl=None)
    # A row id in a preferences link would let a forger walk the ids and read addresses.
    response = client.get(f"/preferences?token={legacy_preferences}")
    assert response.status_code == 400 and "ann@example.org" not in response.text
    response = client.post(f"/unsubscribe?token={legacy_unsubscribe}", data=ONE_CLICK)
    assert response.status_code == 200
    assert status(site, sid) is SubscriberStatus.UNSUBSCRIBED


def test_sent_links_name_the_random_token_id(site: Site) -> None:
    sid = add_reader(site.store)
    unsubscribe, preferences = sent_links(site)
    ann = site.store.get_subscriber(sid)
    assert ann is not None
    for link, purpose in ((unsubscribe, UNSUBSCRIBE), (preferences, PREFERENCES)):
        token = link.split("token=")[1]
        assert tokens.verify(token, purpose, secret=SECRET, now=site.clock()) == ann.token_id
