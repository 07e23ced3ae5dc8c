"""SendGrid v3 mail/send: one request per batch, one personalization per recipient.

The request is a plain HTTPS POST over one keep-alive httpx client, with a body we encode
(orjson) and validate ourselves (sendgrid_request), not the ``sendgrid`` package's
``send()``: that formats the whole payload into a debug message on every call (~4 ms per
1 MB request) and logs the Authorization header at DEBUG, and reaching past it means calling
its private methods. What a failure means for the ledger depends on whether the request can
have reached SendGrid:

- no connection, or the body could not be written (connect/pool/write errors and timeouts):
  SendGrid cannot have accepted it: retried, and finally "retry";
- anything after the request was sent (read timeout, reset, the server closed while we wait
  for or read the answer) may follow an acceptance: "uncertain", never resent here.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import sendgrid

from syndicate.delivery.base import (
    Batch,
    Outcome,
    OutcomeState,
    RecipientRows,
    SendAborted,
)
from syndicate.delivery.retry import Backoff, rate_limit_wait
from syndicate.delivery.sendgrid_request import (
    RequestBody,
    error_text,
    whole_request_error,
)
from syndicate.errors import ConfigError
from syndicate.log import EventLog

log = EventLog(__name__)

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

    Safe to call ``send`` from several threads at once (one keep-alive httpx client; its
    pool gives each request in flight a connection of its own); ``sleep``, ``clock`` (epoch
    seconds) and ``rng`` are injectable for tests.
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
            raise ConfigError("SendGrid API key is empty: set SENDGRID_API_KEY")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"delivery.sendgrid.base_url: not an http(s) URL: {base_url!r}")
        if timeout <= 0 or max_retries < 0 or max_wait < 0:
            raise ConfigError("SendGrid sender: timeout must be > 0, max_retries and max_wait >= 0")
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
        self._url = f"{self.base_url}/v3/mail/send"
        self._last: RequestBody | None = None  # the variant's request parts, built once
        # One keep-alive client, safe to share between threads. A redirect is an answer like
        # any other (never followed: a POST must not be resent elsewhere); no proxy from the
        # environment sees the key.
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            headers={
                "Authorization": f"Bearer {api_key}",
                "User-Agent": f"sendgrid/{sendgrid.__version__};python (syndicate)",
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
        )

    def __repr__(self) -> str:
        return (
            f"SendGridSender(base_url={self.base_url!r}, timeout={self.timeout}, "
            f"max_retries={self.max_retries}, tracking={self.tracking})"
        )

    def close(self) -> None:
        self._client.close()

    def send(self, batch: Batch) -> list[Outcome]:
        """One outcome per recipient, in order. A duplicate address (case-insensitive) fails
        as "duplicate in batch". Raises SendAborted on 401/403 and other unusable answers;
        its ``outcomes`` hold what was settled before (a split batch may be partly sent)."""
        recipients = batch.recipients
        if len(recipients) > self.max_batch:
            raise ValueError(f"a SendGrid batch holds at most {self.max_batch} recipients")
        rows = RecipientRows.of(recipients)
        ids = rows.column(0) if rows is not None else [r.delivery_id for r in recipients]
        emails = rows.column(1) if rows is not None else [r.email for r in recipients]
        results: dict[int, Outcome] = {}
        unique = _unique(ids, emails, results)
        if unique:
            template = self._template(batch)
            escaped, texts = template.texts(recipients, rows, unique, batch.headers_checked)
            items = list(zip(unique, texts, strict=True))
            try:
                self._deliver(template, escaped, items, ids, results)
            except SendAborted as exc:
                exc.outcomes = [results[i] for i in sorted(results)]
                raise
        return [results[i] for i in range(len(recipients))]

    def _template(self, batch: Batch) -> RequestBody:
        template = self._last
        if template is None or not template.fits(batch, self.tracking):
            template = self._last = RequestBody(batch, tracking=self.tracking)
        return template

    def _deliver(
        self,
        template: RequestBody,
        escaped: frozenset[str],
        items: list[tuple[int, bytes]],
        ids: Sequence[int],
        results: dict[int, Outcome],
    ) -> None:
        answer = self._post(template.body([p for _, p in items], escaped))
        if isinstance(answer, _Rejected) and len(items) > 1 and not answer.whole_request:
            middle = len(items) // 2
            log.info("sendgrid.split", recipients=len(items), error=answer.error)
            self._deliver(template, escaped, items[:middle], ids, results)
            self._deliver(template, escaped, items[middle:], ids, results)
            return
        state: OutcomeState
        if isinstance(answer, _Accepted):
            state, error = "sent", ""
        elif isinstance(answer, _Rejected):
            state, error = "failed", answer.error
        else:
            state, error = answer.state, answer.error
        for index, _ in items:
            results[index] = Outcome(ids[index], state, error)

    def _post(self, data: bytes) -> _Answer:
        """One request, repeated after 429, 5xx and failures to connect, within bounds."""
        attempt = 0
        while True:
            outcome = self._attempt(data)
            if not isinstance(outcome, _Try):
                return outcome
            if attempt >= self.max_retries:
                return _Settled("retry", f"{outcome.error} (gave up after {attempt + 1} tries)")
            wait = outcome.wait
            if wait is None:
                wait = self._backoff.delay(attempt, self._rng)
            wait = min(wait, self.max_wait)
            attempt += 1
            log.warning(
                "sendgrid.retry", error=outcome.error, attempt=attempt + 1, wait=round(wait, 1)
            )
            self._sleep(wait)

    def _attempt(self, data: bytes) -> _Answer | _Try:
        written = _Written(data)
        try:
            response = self._client.post(
                self._url, content=written, headers={"Content-Length": str(len(data))}
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return _Try(self._clean(f"could not connect: {type(exc).__name__}: {exc}"))
        except httpx.TransportError as exc:
            if not written.whole:  # the body never left whole: SendGrid cannot have taken it
                return _Try(self._clean(f"could not send the request: {type(exc).__name__}"))
            return _Settled(
                "uncertain",
                self._clean(
                    f"no answer after the request was sent ({type(exc).__name__}: {exc}); "
                    "it may have been accepted"
                ),
            )
        if response.is_success:
            return _Accepted()  # the status said accepted; the body does not matter
        return self._judge(response)

    def _judge(self, response: httpx.Response) -> _Answer | _Try:
        status = response.status_code
        reason = self._clean(error_text(response.content))
        if status in (401, 403):
            raise SendAborted(
                f"SendGrid refused the API key (HTTP {status}: {reason}); "
                "check SENDGRID_API_KEY and the key's mail-send permission"
            )
        if status in (400, 413):
            whole = status == 400 and whole_request_error(response.content)
            return _Rejected(f"SendGrid {status}: {reason}", whole_request=whole)
        if status == 429:
            wait = rate_limit_wait(
                response.headers.get("X-RateLimit-Reset"),
                response.headers.get("Retry-After"),
                self._clock(),
            )
            return _Try(f"rate limited (HTTP 429: {reason})", wait)
        if status >= 500:
            return _Try(f"SendGrid {status}: {reason}")
        raise SendAborted(f"SendGrid answered HTTP {status} ({reason}); check the base URL")

    def _clean(self, text: str) -> str:
        return text.replace(self._secret, REDACTED)


def _unique(ids: Sequence[int], emails: Sequence[str], results: dict[int, Outcome]) -> list[int]:
    """The indexes of the batch's first recipient of each address (case-insensitive); a
    later one fails as "duplicate in batch" (into ``results``)."""
    addresses = [email.strip().lower() for email in emails]
    if len(set(addresses)) == len(addresses):
        return list(range(len(addresses)))
    unique: list[int] = []
    seen: set[str] = set()
    for index, address in enumerate(addresses):
        if address in seen:
            results[index] = Outcome(ids[index], "failed", "duplicate in batch")
        else:
            seen.add(address)
            unique.append(index)
    return unique


class _Written:
    """The request body as httpx's stream: ``whole`` once every byte was handed to the socket.

    httpcore swallows an error while writing the body (to read an early answer) and then
    reports only that the server closed; whether the body went out whole is what tells a
    request SendGrid cannot have accepted from one it may have."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.whole = False

    def __iter__(self) -> Iterator[bytes]:
        yield self.data
        self.whole = True  # resumed only after the write of the last chunk returned
