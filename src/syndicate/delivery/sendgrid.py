"""SendGrid v3 mail/send through the ``sendgrid`` package's client.

One request per batch, one personalization per recipient. What a failure means for the
ledger depends on whether the request can have reached SendGrid:

- python_http_client sends through urllib, whose ``do_open`` wraps every OSError raised while
  connecting or writing the request in ``URLError``; then the whole request was not handed to
  the socket, so SendGrid cannot have accepted it: retried, and finally "retry".
- anything raised after that (read timeout, reset, remote end closed while we wait for or
  read the answer) may follow an acceptance: "uncertain", never resent here.

The request goes through the client's own ``Client._make_request`` (the urllib opener and
the mapping of HTTP errors that ``SendGridAPIClient.send`` uses) with a body we encode, not
through ``send()``: its ``http_request`` formats the whole payload into a debug message on
every call, whatever the log level (~4 ms per 1 MB request, 4 s per million recipients),
and logs the Authorization header at DEBUG.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import python_http_client.exceptions as http_errors
from sendgrid import SendGridAPIClient

from syndicate.delivery.base import Batch, Outcome, OutcomeState, Recipient, SendAborted
from syndicate.delivery.retry import Backoff, rate_limit_wait
from syndicate.delivery.sendgrid_request import (
    RequestBody,
    encode,
    error_text,
    whole_request_error,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.sendgrid.com"
REDACTED = "********"


# --- what one request came to ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Accepted:
    pass


@dataclass(frozen=True, slots=True)
class _Rejected:
    """400/413: SendGrid read the request and refused it; nothing of it was sent."""

    error: str
    whole_request: bool


@dataclass(frozen=True, slots=True)
class _Settled:
    """Every recipient of the request ends in ``state`` ("retry" or "uncertain")."""

    state: OutcomeState
    error: str


_Answer = _Accepted | _Rejected | _Settled


@dataclass(slots=True)
class _Try:
    """One attempt that may be repeated after ``wait`` seconds (None: use the backoff)."""

    error: str
    wait: float | None = None


# --- the sender ------------------------------------------------------------------------


class SendGridSender:
    """Sends batches of up to 1000 recipients, one mail/send request each.

    Safe to call ``send`` from several threads at once (each request opens its own
    connection); ``sleep``, ``clock`` (epoch seconds) and ``rng`` are injectable for tests.
    """

    max_batch = 1000

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_wait: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        tracking: bool = False,
    ) -> None:
        if not api_key:
            raise ValueError("SendGrid API key is empty: set SENDGRID_API_KEY")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"delivery.sendgrid.base_url: not an http(s) URL: {base_url!r}")
        if timeout <= 0 or max_retries < 0 or max_wait < 0:
            raise ValueError("SendGrid sender: timeout must be > 0, max_retries and max_wait >= 0")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_wait = max_wait
        self._backoff = Backoff(backoff_base, backoff_cap)
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._secret = api_key
        self.tracking = tracking
        # python_http_client.Client for /v3/mail/send, with the auth and user-agent headers
        self._endpoint = SendGridAPIClient(api_key=api_key, host=self.base_url).client.mail.send
        self._url: str = self._endpoint._build_url(None)
        self._headers = {**self._endpoint.request_headers, "Content-Type": "application/json"}

    def __repr__(self) -> str:
        return (
            f"SendGridSender(base_url={self.base_url!r}, timeout={self.timeout}, "
            f"max_retries={self.max_retries}, tracking={self.tracking})"
        )

    def close(self) -> None:
        pass  # every request has its own connection

    def send(self, batch: Batch) -> list[Outcome]:
        """One outcome per recipient, in order. A duplicate address (case-insensitive) fails
        as "duplicate in batch". Raises SendAborted on 401/403 and other unusable answers;
        its ``outcomes`` hold what was settled before (a split batch may be partly sent)."""
        recipients = list(batch.recipients)
        if len(recipients) > self.max_batch:
            raise ValueError(f"a SendGrid batch holds at most {self.max_batch} recipients")
        results: dict[int, Outcome] = {}
        unique: list[int] = []
        seen: set[str] = set()
        for index, recipient in enumerate(recipients):
            address = recipient.email.strip().lower()
            if address in seen:
                results[index] = Outcome(recipient.delivery_id, "failed", "duplicate in batch")
            else:
                seen.add(address)
                unique.append(index)
        if unique:
            template = RequestBody.build(
                batch, [recipients[i] for i in unique], tracking=self.tracking
            )
            items = [(i, template.personalization(recipients[i])) for i in unique]
            try:
                self._deliver(template, items, recipients, results)
            except SendAborted as exc:
                exc.outcomes = [results[i] for i in sorted(results)]
                raise
        return [results[i] for i in range(len(recipients))]

    def _deliver(
        self,
        template: RequestBody,
        items: list[tuple[int, dict[str, Any]]],
        recipients: Sequence[Recipient],
        results: dict[int, Outcome],
    ) -> None:
        answer = self._post(template.body([p for _, p in items]))
        if isinstance(answer, _Rejected) and len(items) > 1 and not answer.whole_request:
            middle = len(items) // 2
            log.info("SendGrid refused %d recipients (%s); splitting", len(items), answer.error)
            self._deliver(template, items[:middle], recipients, results)
            self._deliver(template, items[middle:], recipients, results)
            return
        state: OutcomeState
        if isinstance(answer, _Accepted):
            state, error = "sent", ""
        elif isinstance(answer, _Rejected):
            state, error = "failed", answer.error
        else:
            state, error = answer.state, answer.error
        for index, _ in items:
            results[index] = Outcome(recipients[index].delivery_id, state, error)

    def _post(self, body: dict[str, Any]) -> _Answer:
        """One request, repeated after 429, 5xx and failures to connect, within bounds."""
        attempt = 0
        while True:
            outcome = self._attempt(body)
            if not isinstance(outcome, _Try):
                return outcome
            if attempt >= self.max_retries:
                return _Settled("retry", f"{outcome.error} (gave up after {attempt + 1} tries)")
            wait = outcome.wait
            if wait is None:
                wait = self._backoff.delay(attempt, self._rng)
            wait = min(wait, self.max_wait)
            attempt += 1
            log.warning("SendGrid: %s; try %d in %.1f s", outcome.error, attempt + 1, wait)
            self._sleep(wait)

    def _attempt(self, body: dict[str, Any]) -> _Answer | _Try:
        request = urllib.request.Request(self._url, data=encode(body), headers=self._headers)
        try:
            response = self._endpoint._make_request(
                urllib.request.build_opener(_NoRedirect), request, timeout=self.timeout
            )
        except http_errors.HTTPError as exc:
            return self._judge(exc)
        except urllib.error.URLError as exc:
            return _Try(self._clean(f"could not connect or send the request: {exc.reason}"))
        except (OSError, http.client.HTTPException) as exc:
            return _Settled(
                "uncertain",
                self._clean(
                    f"no answer after the request was sent ({type(exc).__name__}: {exc}); "
                    "it may have been accepted"
                ),
            )
        with contextlib.suppress(OSError, http.client.HTTPException), response:
            response.read()  # the status said accepted; the body does not matter
        return _Accepted()

    def _judge(self, exc: Any) -> _Answer | _Try:
        status = int(exc.status_code)
        reason = self._clean(error_text(exc.body))
        if status in (401, 403):
            raise SendAborted(
                f"SendGrid refused the API key (HTTP {status}: {reason}); "
                "check SENDGRID_API_KEY and the key's mail-send permission"
            )
        if status in (400, 413):
            whole = status == 400 and whole_request_error(exc.body)
            return _Rejected(f"SendGrid {status}: {reason}", whole_request=whole)
        if status == 429:
            headers = exc.headers
            wait = rate_limit_wait(
                headers.get("X-RateLimit-Reset") if headers else None,
                headers.get("Retry-After") if headers else None,
                self._clock(),
            )
            return _Try(f"rate limited (HTTP 429: {reason})", wait)
        if status >= 500:
            return _Try(f"SendGrid {status}: {reason}")
        raise SendAborted(f"SendGrid answered HTTP {status} ({reason}); check the base URL")

    def _clean(self, text: str) -> str:
        return text.replace(self._secret, REDACTED)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other (urllib would resend a POST as a GET)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
