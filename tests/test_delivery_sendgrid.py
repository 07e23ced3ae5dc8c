"""SendGridSender (a plain HTTPS client) against the loopback stand-in, which the real sendgrid
client validates too."""

from __future__ import annotations

import logging
import random
import select
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from sendgrid_standin import Fault, SendGridStandIn
from syndicate.delivery.base import Batch, Outcome, Recipient, SendAborted
from syndicate.delivery.retry import Backoff, rate_limit_wait
from syndicate.delivery.sendgrid import SendGridSender
from syndicate.errors import ConfigError

KEY = "SG.test-key-never-shown-3b9f"
NOW = 1_900_000_000.0


def recipient(i: int, email: str = "", name: str = "", **subs: str) -> Recipient:
    return Recipient(
        delivery_id=i,
        email=email or f"reader{i}@example.com",
        name=name or f"Reader {i}",
        substitutions={"name": name or f"Reader {i}", "unsubscribe_url": f"https://x.test/u/{i}"}
        | subs,
        headers={
            "List-Unsubscribe": f"<https://x.test/u/{i}>, <mailto:leave@x.test?subject={i}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": "Weekly <weekly.x.test>",
        },
        message_id=f"<2026-W47.{i}@x.test>",
    )


def batch(recipients: list[Recipient], **changes: Any) -> Batch:
    values: dict[str, Any] = {
        "subject": "Week 47 for %%name%%",
        "html": "<p>Hello %%name%%</p><a href='%%unsubscribe_url%%'>leave</a>",
        "text": "Hello %%name%%\nLeave: %%unsubscribe_url%%",
        "from_address": "news@x.test",
        "from_name": "The Weekly",
        "recipients": recipients,
        "custom_args": {"week": "2026-W47"},
    } | changes
    return Batch(**values)


@pytest.fixture
def standin() -> Iterator[SendGridStandIn]:
    with SendGridStandIn(KEY, bad_addresses=["bounce@example.com"]) as server:
        yield server


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_sender(
    standin: SendGridStandIn, sleeps: Sleeps
) -> Iterator[Callable[..., SendGridSender]]:
    made: list[SendGridSender] = []

    def make(**options: Any) -> SendGridSender:
        api_key = options.pop("api_key", KEY)
        settings: dict[str, Any] = {
            "base_url": standin.base_url,
            "timeout": 0.5,
            "max_retries": 3,
            "sleep": sleeps,
            "clock": lambda: NOW,
            "rng": random.Random(7),
        } | options
        sender = SendGridSender(api_key, **settings)
        made.append(sender)
        return sender

    yield make
    for sender in made:
        sender.close()


def states(outcomes: list[Outcome]) -> list[str]:
    return [o.state for o in outcomes]


# --- the request ---------------------------------------------------------------------


def test_one_request_carries_every_recipient_personalized(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender]
) -> None:
    people = [recipient(1), recipient(2, name="Zoë <b>&</b> Co, Ltd"), recipient(3)]
    outcomes = make_sender().send(batch(people))

    assert outcomes == [Outcome(1, "sent"), Outcome(2, "sent"), Outcome(3, "sent")]
    assert standin.requests == 1
    got = {m.email: m for m in standin.messages}
    assert sorted(got) == [p.email for p in people]
    first = got["reader1@example.com"]
    assert first.custom_args == {"week": "2026-W47", "delivery_id": "1"}
    assert first.headers["Message-ID"] == "<2026-W47.1@x.test>"
    assert first.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first.headers["List-Unsubscribe"].startswith("<https://x.test/u/1>")
    assert [kind for kind, _ in first.content.parts] == ["text/plain", "text/html"]
    assert first.content.from_email == "news@x.test"
    assert first.content.from_name == "The Weekly"
    assert first.text == "Hello Reader 1\nLeave: https://x.test/u/1"
    assert first.rendered_subject == "Week 47 for Reader 1"
    # An untrusted name is markup-escaped in the HTML part only; ',' is dropped from to.name.
    second = got["reader2@example.com"]
    assert "Hello Zoë &lt;b&gt;&amp;&lt;/b&gt; Co, Ltd" in second.html
    assert "<b>" not in second.html
    assert second.text.startswith("Hello Zoë <b>&</b> Co, Ltd")
    assert second.name == "Zoë <b>&</b> Co Ltd"


def test_the_batch_headers_go_once_in_the_request_and_reach_every_message(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender]
) -> None:
    common = {"List-Id": "Weekly <weekly.x.test>", "Feedback-ID": "w47:weekly"}
    own = recipient(2)._replace(headers={"List-Id": "Own <own.x.test>"})
    make_sender().send(batch([recipient(1), own], headers=common))

    (body,) = standin.bodies
    assert body["headers"] == common
    assert all("Feedback-ID" not in p.get("headers", {}) for p in body["personalizations"])
    got = {m.email: m.headers for m in standin.messages}
    assert got["reader1@example.com"]["Feedback-ID"] == "w47:weekly"
    assert got["reader2@example.com"]["Feedback-ID"] == "w47:weekly"
    assert got["reader2@example.com"]["List-Id"] == "Own <own.x.test>"  # the recipient's wins


def test_batch_header_values_lose_cr_lf(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender]
) -> None:
    evil = {"Feedback-ID": "x\r\nBcc: victim@example.com"}
    assert states(make_sender().send(batch([recipient(1)], headers=evil))) == ["sent"]
    (message,) = standin.messages
    assert message.headers["Feedback-ID"] == "x Bcc: victim@example.com"


def test_no_escaped_twin_when_no_value_needs_escaping(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender]
) -> None:
    make_sender().send(batch([recipient(1), recipient(2)]))
    for message in standin.messages:
        assert set(message.substitutions) == {"%%name%%", "%%unsubscribe_url%%"}
        assert message.html.startswith(f"<p>Hello {message.name}</p>")


def test_header_values_lose_cr_lf(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender]
) -> None:
    evil = Recipient(1, "a@example.com", "A", {}, {"List-Id": "x\r\nBcc: victim@example.com"})
    assert states(make_sender().send(batch([evil], subject="Hi\r\nBcc: v@example.com"))) == ["sent"]
    (message,) = standin.messages
    assert message.headers["List-Id"] == "x Bcc: victim@example.com"
    assert message.content.subject == "Hi Bcc: v@example.com"


def test_a_value_with_cr_lf_gets_its_own_clean_subject(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender]
) -> None:
    people = [recipient(1), recipient(2, name="Eve\r\nBcc: victim@example.com")]
    assert states(make_sender().send(batch(people))) == ["sent", "sent"]
    plain, evil = sorted(standin.messages, key=lambda m: m.email)
    assert plain.subject == "Week 47 for %%name%%"  # SendGrid fills it in
    assert evil.rendered_subject == "Week 47 for Eve Bcc: victim@example.com"
    assert evil.text.startswith("Hello Eve\r\nBcc")  # the body keeps the value as it is


def test_a_full_batch_is_one_request_and_more_is_refused(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender]
) -> None:
    sender = make_sender()
    assert sender.max_batch == 1000
    outcomes = sender.send(batch([recipient(i) for i in range(1000)]))
    assert set(states(outcomes)) == {"sent"}
    assert standin.requests == 1
    assert len(standin.copies) == 1000
    with pytest.raises(ValueError, match="1000"):
        sender.send(batch([recipient(i) for i in range(1001)]))


def test_duplicate_address_fails_without_a_second_copy(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender]
) -> None:
    people = [recipient(1, "ann@example.com"), recipient(2), recipient(3, " ANN@Example.com")]
    outcomes = make_sender().send(batch(people))
    assert outcomes == [
        Outcome(1, "sent"),
        Outcome(2, "sent"),
        Outcome(3, "failed", "duplicate in batch"),
    ]
    assert standin.copies["ann@example.com"] == 1
    assert standin.requests == 1


# --- 400: split to find the bad addresses ----------------------------------------------


def test_bad_addresses_are_isolated_and_the_rest_go(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender]
) -> None:
    people = [recipient(i) for i in range(32)]
    people[5] = recipient(5, "bounce@example.com")
    people[20] = recipient(20, "not-an-address")
    outcomes = make_sender().send(batch(people))

    failed = {o.delivery_id: o.error for o in outcomes if o.state == "failed"}
    assert set(failed) == {5, 20}
    assert "Does not contain a valid address" in failed[5]
    assert "Does not contain a valid address" in failed[20]
    assert [o.delivery_id for o in outcomes] == list(range(32))
    assert all(o.state == "sent" for o in outcomes if o.delivery_id not in failed)
    assert sum(standin.copies.values()) == 30
    assert max(standin.copies.values()) == 1
    # binary search: at most 2 * bad * log2(n) + 1 requests, far fewer than one per recipient
    assert standin.requests <= 2 * 2 * 5 + 1


def test_a_request_wide_error_fails_the_batch_without_splitting(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender]
) -> None:
    outcomes = make_sender().send(batch([recipient(i) for i in range(8)], from_address="nobody"))
    assert states(outcomes) == ["failed"] * 8
    assert "from" in outcomes[0].error
    assert standin.requests == 1


# --- 401/403: stop ---------------------------------------------------------------------


def test_wrong_key_aborts_with_a_clear_message_without_the_key(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender]
) -> None:
    wrong = "SG.wrong-key-also-secret"
    with pytest.raises(SendAborted) as err:
        make_sender(api_key=wrong).send(batch([recipient(1)]))
    assert "401" in str(err.value) and "API key" in str(err.value)
    assert wrong not in str(err.value)
    assert err.value.outcomes == []
    assert standin.copies == {}


def test_403_after_part_of_a_split_batch_went_reports_what_was_sent(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender]
) -> None:
    people = [recipient(i) for i in range(4)]
    people[3] = recipient(3, "bounce@example.com")
    # request 1: the 400 of the whole batch; request 2: first half accepted; then 403
    standin.inject(None, None, Fault.status(403, "access forbidden"))
    with pytest.raises(SendAborted, match="403") as err:
        make_sender().send(batch(people))
    assert err.value.outcomes == [Outcome(0, "sent"), Outcome(1, "sent")]
    assert sorted(standin.copies) == ["reader0@example.com", "reader1@example.com"]


@pytest.mark.parametrize("status", [302, 404, 405])
def test_an_answer_that_no_retry_can_fix_aborts(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender], status: int
) -> None:
    # a redirect is not followed (urllib would turn the POST into a GET)
    standin.inject(Fault.status(status, headers={"Location": "/v3/mail/send"}))
    with pytest.raises(SendAborted, match=f"HTTP {status}.*base URL"):
        make_sender().send(batch([recipient(1)]))
    assert standin.requests == 1


# --- 429, 5xx, connection failures: retried --------------------------------------------


def test_429_waits_until_the_reset_time(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender], sleeps: Sleeps
) -> None:
    standin.inject(Fault.rate_limit(reset_at=NOW + 7), Fault.rate_limit(retry_after="3"))
    assert states(make_sender().send(batch([recipient(1)]))) == ["sent"]
    assert sleeps == [7.0, 3.0]
    assert standin.requests == 3
    assert standin.copies["reader1@example.com"] == 1


def test_5xx_is_retried_with_capped_jittered_backoff(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender], sleeps: Sleeps
) -> None:
    standin.inject(Fault.status(500), Fault.status(503))
    sender = make_sender(backoff_base=1.0, backoff_cap=1.5)
    assert states(sender.send(batch([recipient(1), recipient(2)]))) == ["sent", "sent"]
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 1.0 and 0 <= sleeps[1] <= 1.5
    assert standin.copies == {"reader1@example.com": 1, "reader2@example.com": 1}


def test_5xx_past_max_retries_leaves_the_batch_to_retry(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender], sleeps: Sleeps
) -> None:
    standin.inject(*[Fault.status(502)] * 3)
    outcomes = make_sender(max_retries=2).send(batch([recipient(1), recipient(2)]))
    assert states(outcomes) == ["retry", "retry"]
    assert "502" in outcomes[0].error and "3 tries" in outcomes[0].error
    assert standin.requests == 3
    assert len(sleeps) == 2
    assert standin.copies == {}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_refused_is_retried_then_left_to_retry(sleeps: Sleeps) -> None:
    sender = SendGridSender(
        KEY, base_url=f"http://127.0.0.1:{_closed_port()}", max_retries=2, sleep=sleeps
    )
    outcomes = sender.send(batch([recipient(1)]))
    assert states(outcomes) == ["retry"]
    assert "Connection refused" in outcomes[0].error
    assert len(sleeps) == 2


def test_connection_refused_then_the_server_comes_up() -> None:
    port = _closed_port()
    servers: list[SendGridStandIn] = []

    def come_up(seconds: float) -> None:
        servers.append(SendGridStandIn(KEY, port=port).start())

    sender = SendGridSender(KEY, base_url=f"http://127.0.0.1:{port}", sleep=come_up)
    try:
        assert states(sender.send(batch([recipient(1)]))) == ["sent"]
        assert servers[0].copies == {"reader1@example.com": 1}
    finally:
        for server in servers:
            server.stop()


def test_connect_timeout_is_not_sent(sleeps: Sleeps) -> None:
    # A listener whose accept queue is full drops new SYNs: connecting times out.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        fillers = []
        for _ in range(8):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(listener.getsockname())
            fillers.append(filler)
        _, connected, _ = select.select([], fillers, [], 2)
        assert connected, "no filler got into the accept queue"
        host, port = listener.getsockname()
        sender = SendGridSender(
            KEY, base_url=f"http://{host}:{port}", timeout=0.3, max_retries=1, sleep=sleeps
        )
        outcomes = sender.send(batch([recipient(1)]))
        for filler in fillers:
            filler.close()
    assert states(outcomes) == ["retry"]
    assert "timed out" in outcomes[0].error


def test_reset_while_the_request_is_still_being_sent_is_not_sent(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender]
) -> None:
    # A body far larger than the loopback socket buffers cannot all be written before the
    # reset arrives, so the client knows the request did not go out.
    big = "x" * 9000
    people = [recipient(i, padding=big) for i in range(1000)]
    standin.inject(Fault.reset_before_body(), Fault.reset_before_body())
    outcomes = make_sender(max_retries=1, timeout=5).send(batch(people))
    assert set(states(outcomes)) == {"retry"}, outcomes[0]
    assert standin.requests == 2
    assert standin.copies == {}


# --- lost answers: uncertain, never resent ---------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        Fault.accept_then_hang(max_seconds=5),
        Fault.accept_then_drop(),
        Fault.accept_then_drop(reset=True),
    ],
    ids=["timeout", "closed", "reset"],
)
def test_a_lost_answer_marks_the_batch_uncertain_and_is_not_resent(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender], fault: Fault
) -> None:
    standin.inject(fault)
    outcomes = make_sender(timeout=0.3).send(batch([recipient(1), recipient(2)]))
    assert states(outcomes) == ["uncertain", "uncertain"]
    assert "may have been accepted" in outcomes[0].error
    assert standin.requests == 1
    # the stand-in did accept it: resending would have made a second copy
    assert standin.copies == {"reader1@example.com": 1, "reader2@example.com": 1}


def test_reset_before_the_body_on_a_small_request_is_never_resent_blindly(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender]
) -> None:
    # The client may see this reset while sending (not sent: retried) or while awaiting the
    # answer (indistinguishable from a lost answer: uncertain). Either way, no duplicate.
    standin.inject(Fault.reset_before_body())
    (outcome,) = make_sender().send(batch([recipient(1)]))
    assert outcome.state in ("sent", "uncertain")
    expected_copies = 1 if outcome.state == "sent" else 0
    assert standin.copies.get("reader1@example.com", 0) == expected_copies


# --- concurrency and secrets -----------------------------------------------------------


def test_concurrent_sends_from_threads(
    standin: SendGridStandIn, make_sender: Callable[..., SendGridSender]
) -> None:
    sender = make_sender()
    results: list[list[Outcome]] = []

    def run(start: int) -> None:
        results.append(sender.send(batch([recipient(i) for i in range(start, start + 50)])))

    threads = [threading.Thread(target=run, args=(n * 50,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.delivery_id for r in results for o in r if o.state == "sent") == list(
        range(200)
    )
    assert len(standin.copies) == 200 and set(standin.copies.values()) == {1}


def test_the_key_is_not_in_repr_or_logs(
    standin: SendGridStandIn,
    make_sender: Callable[..., SendGridSender],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sender = make_sender()
    standin.inject(Fault.status(500))
    sender.send(batch([recipient(1)]))
    assert "httpcore" in caplog.text and "SendGrid 500" in caplog.text  # logged at DEBUG
    assert KEY not in caplog.text
    assert KEY not in repr(sender)


def test_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="SENDGRID_API_KEY"):
        SendGridSender("")
    with pytest.raises(ConfigError, match="base_url"):
        SendGridSender(KEY, base_url="api.sendgrid.com")


# --- the helpers -----------------------------------------------------------------------


def test_rate_limit_wait_reads_reset_then_retry_after() -> None:
    assert rate_limit_wait(str(int(NOW) + 12), "99", NOW) == 12
    assert rate_limit_wait(str(int(NOW) - 5), None, NOW) == 0
    assert rate_limit_wait(None, "4", NOW) == 4
    assert rate_limit_wait("garbage", "Wed, 21 Oct 2015 07:28:00 GMT", 1445412470.0) == 10
    assert rate_limit_wait(None, None, NOW) is None
    assert rate_limit_wait(None, "soon", NOW) is None


def test_backoff_is_capped_full_jitter() -> None:
    backoff = Backoff(base=0.5, cap=4.0)
    rng = random.Random(1)
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (10, 4.0), (200, 4.0)]:
        samples = [backoff.delay(attempt, rng) for _ in range(200)]
        assert min(samples) >= 0 and max(samples) <= ceiling
        assert max(samples) > ceiling * 0.8  # spread over the whole range


# --- the stand-in refuses what SendGrid refuses ----------------------------------------


FIRST_TO = "personalizations.0.to.0.email"


def _body(**changes: Any) -> dict[str, Any]:
    return {
        "personalizations": [{"to": [{"email": "a@example.com"}]}],
        "from": {"email": "news@x.test"},
        "subject": "s",
        "content": [{"type": "text/plain", "value": "t"}, {"type": "text/html", "value": "h"}],
    } | changes


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_body(personalizations=[]), "personalizations"),
        (
            _body(personalizations=[{"to": [{"email": f"r{i}@example.com"}]} for i in range(1001)]),
            "personalizations",
        ),
        (
            _body(
                personalizations=[
                    {"to": [{"email": f"r{i}@example.com"} for i in range(600)]},
                    {"to": [{"email": f"s{i}@example.com"} for i in range(600)]},
                ]
            ),
            "personalizations",
        ),
        (
            _body(
                personalizations=[
                    {"to": [{"email": "a@example.com"}]},
                    {"to": [{"email": "A@example.com"}]},
                ]
            ),
            "personalizations.1.to",
        ),
        (
            _body(
                content=[
                    {"type": "text/html", "value": "h"},
                    {"type": "text/plain", "value": "t"},
                ]
            ),
            "content",
        ),
        (
            _body(personalizations=[{"to": [{"email": "a@@example"}]}]),
            "personalizations.0.to.0.email",
        ),
        (
            _body(personalizations=[{"to": [{"email": "bounce@example.com"}]}]),
            "personalizations.0.to.0.email",
        ),
        (_body(**{"from": {}}), "from.email"),
        (_body(subject=""), "subject"),
        (_body(custom_args={"n": 1}), "custom_args"),
    ],
    ids=[
        "no-personalization",
        "1001-personalizations",
        "1200-recipients",
        "duplicate",
        "html-first",
        "bad-address",
        "listed-bad-address",
        "no-from",
        "no-subject",
        "non-string-arg",
    ],
)
def test_standin_validates_like_sendgrid(
    standin: SendGridStandIn, body: dict[str, Any], field: str
) -> None:
    client = SendGridAPIClient(api_key=KEY, host=standin.base_url)
    with pytest.raises(HTTPError) as err:
        client.send(body)
    assert err.value.status_code == 400
    assert field in [e["field"] for e in err.value.to_dict["errors"]]
    assert standin.copies == {}


def test_standin_wants_the_bearer_token(standin: SendGridStandIn) -> None:
    with pytest.raises(HTTPError) as err:
        SendGridAPIClient(api_key="SG.other", host=standin.base_url).send(_body())
    assert err.value.status_code == 401
    response = SendGridAPIClient(api_key=KEY, host=standin.base_url).send(_body())
    assert response.status_code == 202
    assert standin.copies == {"a@example.com": 1}
