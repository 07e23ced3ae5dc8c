"""POST /subscribe with double opt-in: the confirmation mail, /confirm, honeypot, limits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from tests.web_helpers import (
    SECRET,
    Site,
    add_reader,
    links,
    open_site,
    path_of,
    text_part,
)

from syndicate import tokens
from syndicate.delivery import Batch, Outcome
from syndicate.models import SubscriberStatus
from syndicate.pipeline.send import UNSUBSCRIBE
from syndicate.web import Limit, create_app
from syndicate.web.pages import TEMPLATE_DIR

FORM = {"email": "Bob@Example.ORG", "name": "Bob  Stargazer", "website": ""}


@pytest.fixture
def site(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    yield from open_site(tmp_path, database_url)


@pytest.fixture
def client(site: Site) -> TestClient:
    return TestClient(site.app())


def confirm_link(site: Site) -> str:
    (mail,) = [m for m in site.mails() if m["Subject"].startswith("Please confirm")]
    (url,) = links(text_part(mail), "confirm")
    assert url.startswith("http://testserver/confirm?token=")
    return path_of(url)


def test_the_form_offers_the_categories_and_a_honeypot(client: TestClient) -> None:
    response = client.get("/subscribe")
    assert response.status_code == 200
    for name in ("Equipment", "Events", "Sky Guide"):
        assert f'name="category" value="{name}"' in response.text
    assert 'name="website"' in response.text and 'class="trap"' in response.text
    assert 'action="http://testserver/subscribe"' in response.text
    # A "no-referrer" page's form POST would carry "Origin: null".
    assert response.headers["referrer-policy"] == "same-origin"
    assert not re.search(r"<script|\son[a-z]+\s*=", response.text, re.IGNORECASE)


def test_double_opt_in_from_form_to_mail_to_confirmation(client: TestClient, site: Site) -> None:
    form = {**FORM, "category": ["Events", "Sky Guide", "Nonsense"]}
    response = client.post("/subscribe", data=form)
    assert response.status_code == 200
    assert "Check your inbox" in response.text and "Bob@example.org" in response.text
    pending = site.store.find_subscriber("bob@example.org")
    assert pending is not None and pending.status is SubscriberStatus.PENDING
    assert pending.name == "Bob Stargazer"
    assert pending.categories == {"Events", "Sky Guide"}

    (mail,) = site.mails()
    assert mail["To"] == "Bob Stargazer <Bob@example.org>"
    assert mail["Subject"] == "Please confirm your subscription to Millbrook <Test> Society"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "valid for 48 hours" in text_part(mail)
    html_part = mail.get_body(preferencelist=("html",))
    assert html_part is not None and "Millbrook &lt;Test&gt; Society" in html_part.get_content()

    page = client.get(confirm_link(site))
    assert page.status_code == 200 and "Confirm my subscription" in page.text
    assert 'method="post"' in page.text and page.headers["cache-control"] == "no-store"
    still = site.store.find_subscriber("bob@example.org")
    assert still is not None and still.status is SubscriberStatus.PENDING, "GET changes nothing"
    confirmed = client.post(confirm_link(site))
    assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text
    assert confirmed.headers["cache-control"] == "no-store"
    active = site.store.find_subscriber("bob@example.org")
    assert active is not None and active.status is SubscriberStatus.ACTIVE
    assert active.confirmed_at is not None
    assert client.post(confirm_link(site)).status_code == 200, "following it twice is fine"
    assert "You are subscribed" in client.get(confirm_link(site)).text
    welcomes = [m for m in site.mails() if m["Subject"].startswith("Welcome")]
    assert len(welcomes) == 1, "one welcome mail, not one per click"


def test_a_welcome_mail_follows_the_confirmation_with_working_links(
    client: TestClient, site: Site
) -> None:
    client.post("/subscribe", data=FORM)
    client.post(confirm_link(site))
    (welcome,) = [m for m in site.mails() if m["Subject"].startswith("Welcome")]
    assert welcome["Subject"] == "Welcome to Millbrook <Test> Society"
    assert welcome["To"] == "Bob Stargazer <Bob@example.org>"
    assert welcome["Feedback-ID"].startswith("welcome:transactional:")
    assert welcome["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert welcome["List-Unsubscribe"].startswith("<http://testserver/unsubscribe?token=")
    text = text_part(welcome)
    assert text.startswith("Hi Bob,\r\n")
    (unsubscribe,) = links(text, "unsubscribe")
    page = client.get(path_of(unsubscribe))
    assert page.status_code == 200 and "<h1>Unsubscribe</h1>" in page.text
    html = welcome.get_body(preferencelist=("html",))
    assert html is not None and "<h1" in html.get_content()


def test_no_welcome_mail_when_it_is_switched_off(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    for quiet in open_site(tmp_path, database_url):
        quiet.settings = quiet.settings.model_copy(
            update={"email": quiet.settings.email.model_copy(update={"welcome": False})}
        )
        quiet_client = TestClient(quiet.app())
        quiet_client.post("/subscribe", data=FORM)
        quiet_client.post(confirm_link(quiet))
        assert [m["Subject"][:6] for m in quiet.mails()] == ["Please"]


def test_the_answer_tells_nobody_who_is_subscribed(client: TestClient, site: Site) -> None:
    add_reader(site.store, "ann@example.org")
    known = client.post("/subscribe", data={**FORM, "email": "ann@example.org"})
    unknown = client.post("/subscribe", data={**FORM, "email": "new@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("ann@", "X@") == unknown.text.replace("new@", "X@")
    ann = site.store.find_subscriber("ann@example.org")
    assert ann is not None and ann.status is SubscriberStatus.ACTIVE
    assert [m["To"] for m in site.mails()] == ["Bob Stargazer <new@example.org>"]


def test_a_pending_address_gets_a_fresh_link_and_the_new_choice(
    client: TestClient, site: Site
) -> None:
    client.post("/subscribe", data={**FORM, "category": "Events"})
    first = confirm_link(site)
    site.clock.advance(hours=1)
    client.post("/subscribe", data={**FORM, "category": "Equipment"})
    second = confirm_link(site)
    assert first != second
    bob = site.store.find_subscriber("bob@example.org")
    assert bob is not None and bob.categories == {"Equipment"}
    assert bob.status is SubscriberStatus.PENDING


def test_one_who_left_can_come_back_through_the_same_opt_in(client: TestClient, site: Site) -> None:
    sid = add_reader(site.store, "bob@example.org")
    site.store.set_status(sid, SubscriberStatus.UNSUBSCRIBED, site.clock())
    client.post("/subscribe", data=FORM)
    bob = site.store.get_subscriber(sid)
    assert bob is not None and bob.status is SubscriberStatus.UNSUBSCRIBED
    assert client.post(confirm_link(site)).status_code == 200
    bob = site.store.get_subscriber(sid)
    assert bob is not None and bob.status is SubscriberStatus.ACTIVE


def test_a_filled_honeypot_pretends_success_and_stores_nothing(
    client: TestClient, site: Site
) -> None:
    response = client.post("/subscribe", data={**FORM, "website": "http://spam.example"})
    assert response.status_code == 200 and "Check your inbox" in response.text
    assert site.store.find_subscriber("bob@example.org") is None
    assert site.mails() == []


def test_a_bad_address_shows_the_form_again(client: TestClient, site: Site) -> None:
    response = client.post(
        "/subscribe", data={**FORM, "email": "not-an-address<b>", "category": "Events"}
    )
    assert response.status_code == 400
    assert "does not look like an email address" in response.text
    assert 'value="not-an-address&lt;b&gt;"' in response.text
    assert 'value="Events" checked' in response.text
    assert site.mails() == [] and site.store.subscriber_counts()["pending"] == 0


def test_expired_tampered_and_foreign_tokens_confirm_nothing(
    client: TestClient, site: Site
) -> None:
    client.post("/subscribe", data=FORM)
    link = confirm_link(site)
    token = link.split("token=")[1]
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    pending = site.store.find_subscriber("bob@example.org")
    assert pending is not None
    unsubscribe = tokens.sign(UNSUBSCRIBE, pending.id, secret=SECRET, now=site.clock(), ttl=None)
    for bad in (f"/confirm?token={tampered}", f"/confirm?token={unsubscribe}", "/confirm"):
        for method in ("GET", "POST"):
            response = client.request(method, bad)
            assert response.status_code == 400, bad
            assert "Nothing was changed" in response.text
    site.clock.advance(hours=48)
    expired = client.post(link)
    assert expired.status_code == 400 and "expired" in expired.text
    bob = site.store.find_subscriber("bob@example.org")
    assert bob is not None and bob.status is SubscriberStatus.PENDING


def test_a_link_never_confirms_someone_else_with_the_same_id(
    client: TestClient, site: Site
) -> None:
    client.post("/subscribe", data=FORM)
    link = confirm_link(site)
    site.store.remove_subscriber("bob@example.org")
    client.post("/subscribe", data=FORM)  # the same address again: a new row
    assert client.post(link).status_code == 400
    assert client.get(link).status_code == 400
    bob = site.store.find_subscriber("bob@example.org")
    assert bob is not None and bob.status is SubscriberStatus.PENDING


def test_limits_per_client_address_and_per_mail_address(site: Site) -> None:
    app = site.app(subscribe_per_ip=Limit(2, 3600), subscribe_per_address=Limit(3, 86_400))
    one = TestClient(app, client=("192.0.2.1", 1000))
    other = TestClient(app, client=("192.0.2.2", 1000))
    third = TestClient(app, client=("192.0.2.3", 1000))
    assert one.post("/subscribe", data={**FORM, "email": "a@example.org"}).status_code == 200
    assert one.post("/subscribe", data={**FORM, "email": "b@example.org"}).status_code == 200
    refused = one.post("/subscribe", data={**FORM, "email": "c@example.org"})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "3600"
    assert site.store.find_subscriber("c@example.org") is None
    site.clock.advance(minutes=30)
    assert one.post("/subscribe", data=FORM).headers["retry-after"] == "1800"
    site.clock.advance(minutes=31)
    assert one.post("/subscribe", data={**FORM, "email": "c@example.org"}).status_code == 200

    # Three attempts a day for one address, from anywhere.
    assert other.post("/subscribe", data={**FORM, "email": "a@example.org"}).status_code == 200
    assert third.post("/subscribe", data={**FORM, "email": "A@example.org"}).status_code == 200
    assert third.post("/subscribe", data={**FORM, "email": "a@example.org"}).status_code == 429


def test_posts_from_other_sites_are_refused(client: TestClient, site: Site) -> None:
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/form"},
    ):
        response = client.post("/subscribe", data=FORM, headers=headers)
        assert response.status_code == 403, headers
    assert site.store.find_subscriber("bob@example.org") is None
    ok = client.post("/subscribe", data=FORM, headers={"Origin": "http://testserver"})
    assert ok.status_code == 200


def test_oversized_form_is_refused(client: TestClient, site: Site) -> None:
    response = client.post("/subscribe", data={**FORM, "name": "x" * 20_000})
    assert response.status_code == 413
    assert site.store.find_subscriber("bob@example.org") is None


def test_without_a_secret_key_the_pages_say_so(
    client: TestClient, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNDICATE_SECRET_KEY")
    assert client.post("/subscribe", data=FORM).status_code == 503
    assert client.get("/confirm?token=x.y").status_code == 503
    assert site.mails() == []


class RefusingSender:
    max_batch = 1

    def send(self, batch: Batch) -> list[Outcome]:
        return [Outcome(r.delivery_id, "retry", "relay down") for r in batch.recipients]

    def close(self) -> None:
        pass


def test_a_mail_that_cannot_go_out_is_logged_and_the_answer_stays_the_same(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(
        site.settings,
        site.store,
        sender_factory=RefusingSender,
        clock=site.clock,
    )
    response = TestClient(app).post("/subscribe", data=FORM)
    assert response.status_code == 200 and "Check your inbox" in response.text
    bob = site.store.find_subscriber("bob@example.org")
    assert bob is not None
    assert f'subscribe.confirmation_failed subscriber={bob.id} error="relay down"' in caplog.text


def test_a_site_may_override_a_page(site: Site) -> None:
    own = site.settings.root / "templates" / "pages"
    own.mkdir(parents=True)
    shipped = (TEMPLATE_DIR / "subscribe.html").read_text(encoding="utf-8")
    (own / "subscribe.html").write_text(shipped.replace("</form>", "</form><p>Our own words</p>"))
    response = TestClient(site.app()).get("/subscribe")
    assert response.status_code == 200 and "Our own words" in response.text
    assert 'action="http://testserver/subscribe"' in response.text


# --- issue 13: confirmations are POSTs and never undo a choice ---------------------------


def test_an_old_confirmation_link_never_undoes_an_unsubscribe(
    client: TestClient, site: Site
) -> None:
    client.post("/subscribe", data=FORM)
    link = confirm_link(site)
    assert client.post(link).status_code == 200
    bob = site.store.find_subscriber("bob@example.org")
    assert bob is not None and bob.status is SubscriberStatus.ACTIVE
    assert unsubscribe_via(site, bob.id) is SubscriberStatus.UNSUBSCRIBED
    # A person or a mail scanner opens the old link again, and presses its button.
    assert client.get(link).status_code == 400
    again = client.post(link)
    assert again.status_code == 400 and "Subscribe again" in again.text
    bob = site.store.find_subscriber("bob@example.org")
    assert bob is not None and bob.status is SubscriberStatus.UNSUBSCRIBED


def unsubscribe_via(site: Site, sid: int) -> SubscriberStatus:
    from syndicate.pipeline.subscriptions import unsubscribe

    bob = site.store.get_subscriber(sid)
    assert bob is not None
    token = tokens.sign(UNSUBSCRIBE, bob.token_id, secret=SECRET, now=site.clock(), ttl=None)
    left = unsubscribe(site.settings, site.store, token, now=site.clock())
    assert left is not None
    return left.status


def test_only_the_newest_request_confirms(client: TestClient, site: Site) -> None:
    client.post("/subscribe", data=FORM)
    first = confirm_link(site)
    site.clock.advance(minutes=5)
    client.post("/subscribe", data=FORM)
    second = confirm_link(site)
    assert client.post(first).status_code == 400
    bob = site.store.find_subscriber("bob@example.org")
    assert bob is not None and bob.status is SubscriberStatus.PENDING
    assert client.post(second).status_code == 200


@pytest.mark.parametrize("status", [SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED])
def test_bounced_and_complained_are_never_reactivated_by_a_link(
    client: TestClient, site: Site, status: SubscriberStatus
) -> None:
    client.post("/subscribe", data=FORM)
    link = confirm_link(site)
    bob = site.store.find_subscriber("bob@example.org")
    assert bob is not None
    site.store.set_status(bob.id, status, site.clock())
    for method in ("GET", "POST"):
        assert client.request(method, link).status_code == 400
    assert site.store.get_subscriber(bob.id).status is status  # type: ignore[union-attr]
    client.post("/subscribe", data=FORM)  # asking again sends nothing to such an address
    assert len(site.mails()) == 1


def test_links_name_a_random_token_id_not_the_row_id(client: TestClient, site: Site) -> None:
    client.post("/subscribe", data=FORM)
    token = confirm_link(site).split("token=")[1]
    bob = site.store.find_subscriber("bob@example.org")
    assert bob is not None
    subject = tokens.verify(token, "confirm", secret=SECRET, now=site.clock())
    assert isinstance(subject, str) and subject.startswith(f"{bob.token_id}:")
    assert str(bob.id) not in subject.split(":")
