"""A stand-in for SendGrid's v3 mail/send on loopback, for tests and the benchmark.

It validates what the real endpoint validates (bearer token, JSON, 1..1000 personalizations,
at most 1000 recipients, no address twice in a request, text/plain before text/html, address
syntax, from, subject, content, string custom_args, reserved headers), answers 202 like
SendGrid, and records what it accepted. Faults are scripted as a queue, one per request::

    with SendGridStandIn(api_key="SG.key") as standin:
        standin.inject(Fault.status(500), None, Fault.accept_then_hang())
        ...  # request 1 gets a 500, request 2 is normal, request 3 is accepted, never answered
        standin.copies["ann@example.com"]

Run as a program (``python tests/sendgrid_standin.py --api-key K --record addresses``) it
prints its base URL, serves until SIGTERM/SIGINT, and answers ``GET /_standin/stats``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import chain, repeat
from typing import Any, Literal

MAX_PERSONALIZATIONS = 1000
MAX_RECIPIENTS = 1000
RESERVED_HEADERS = frozenset(
    {
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "content-type",
        "content-transfer-encoding",
        "to",
        "from",
        "subject",
        "reply-to",
        "cc",
        "bcc",
    }
)
_ADDRESS = re.compile(
    r"^(?!\.)(?!.*\.\.)[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}(?<!\.)"
    r"@(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)

FaultKind = Literal["status", "rate_limit", "hang", "drop", "reset_before_body", "hold"]


@dataclass(frozen=True)
class Fault:
    """What to do to one request instead of the normal answer."""

    kind: FaultKind
    code: int = 0
    message: str = ""
    reset_at: float | None = None  # X-RateLimit-Reset (epoch seconds)
    reset_in: float | None = None  # ... or this many seconds from now
    retry_after: str | None = None
    max_seconds: float = 30.0  # how long a hang lasts at most
    reset: bool = False  # drop with RST instead of FIN
    headers: tuple[tuple[str, str], ...] = ()  # extra answer headers of a "status" fault

    @classmethod
    def status(cls, code: int, message: str = "", headers: dict[str, str] | None = None) -> Fault:
        """Answer ``code`` with a SendGrid-style error body; nothing is recorded."""
        extra = tuple((headers or {}).items())
        return cls("status", code=code, message=message or f"injected {code}", headers=extra)

    @classmethod
    def rate_limit(
        cls,
        *,
        reset_at: float | None = None,
        reset_in: float | None = None,
        retry_after: str | None = None,
    ) -> Fault:
        """429 with ``X-RateLimit-Reset`` (absolute or ``reset_in`` from now) and/or
        ``Retry-After``; nothing is recorded."""
        return cls("rate_limit", reset_at=reset_at, reset_in=reset_in, retry_after=retry_after)

    @classmethod
    def accept_then_hang(cls, max_seconds: float = 30.0) -> Fault:
        """Process and record the request as accepted, then never answer (until the client
        gives up and closes, or ``max_seconds``)."""
        return cls("hang", max_seconds=max_seconds)

    @classmethod
    def accept_then_drop(cls, *, reset: bool = False) -> Fault:
        """Process and record the request as accepted, then close without an answer."""
        return cls("drop", reset=reset)

    @classmethod
    def hold(cls, max_seconds: float = 60.0) -> Fault:
        """Keep the request in flight: ``held`` is set when it arrives, and it is answered
        normally once ``release`` is set (or after ``max_seconds``, a hang guard)."""
        return cls("hold", max_seconds=max_seconds)

    @classmethod
    def reset_before_body(cls) -> Fault:
        """Reset the connection after the request headers, before reading the body.

        The client sees the reset while still sending when the body is larger than what
        the socket buffers take (a few MB on loopback), else possibly while awaiting the
        answer: it cannot tell the latter from a lost answer.
        """
        return cls("reset_before_body")


@dataclass(frozen=True)
class Content:
    """The request-wide part of an accepted request, shared by its messages."""

    subject: str
    from_email: str
    from_name: str
    parts: tuple[tuple[str, str], ...]  # (type, value) in request order
    custom_args: dict[str, str]
    tracking_settings: dict[str, Any] = field(default_factory=dict)  # as the request set them


@dataclass(frozen=True)
class AcceptedMessage:
    """One accepted recipient, as SendGrid would mail it."""

    request: int  # 1-based number of the request that carried it
    email: str
    name: str
    subject: str  # the personalization's subject, else the request's
    substitutions: dict[str, str]
    headers: dict[str, str]
    custom_args: dict[str, str]  # request-wide merged with the personalization's
    content: Content = field(repr=False)

    def render(self, content_type: str) -> str:
        """The body part as the recipient gets it: substitutions applied like SendGrid
        (each tag replaced literally, everywhere)."""
        for kind, value in self.content.parts:
            if kind == content_type:
                return self._substitute(value)
        raise KeyError(content_type)

    @property
    def text(self) -> str:
        return self.render("text/plain")

    @property
    def html(self) -> str:
        return self.render("text/html")

    @property
    def rendered_subject(self) -> str:
        return self._substitute(self.subject)

    def _substitute(self, text: str) -> str:
        for tag, value in self.substitutions.items():
            text = text.replace(tag, value)
        return text


@dataclass(frozen=True)
class RequestLog:
    status: int  # 0: no answer (hang/drop/reset)
    personalizations: int
    fault: str = ""


# --- validation: pure ------------------------------------------------------------------


def _error(message: str, where: str | None) -> dict[str, Any]:
    return {"message": message, "field": where, "help": None}


def validate(body: Any, bad_addresses: Iterable[str] = ()) -> list[dict[str, Any]]:
    """SendGrid-style errors for a mail/send body; empty when it would be accepted."""
    if not isinstance(body, dict):
        return [_error("Bad Request", None)]
    bad = bad_addresses if isinstance(bad_addresses, set) else {a.lower() for a in bad_addresses}
    personalizations = body.get("personalizations")
    errors = []
    if not _personalizations_ok(personalizations, bad):
        errors += _check_personalizations(personalizations, bad)
    errors += _check_from(body.get("from"))
    errors += _check_content(body.get("content"))
    errors += _check_strings(body.get("custom_args"), "custom_args")
    errors += _check_headers(body.get("headers"), "headers")
    if not body.get("subject") and not (
        isinstance(personalizations, list)
        and all(isinstance(p, dict) and p.get("subject") for p in personalizations)
    ):
        errors.append(
            _error(
                "The subject is required. You can get around this requirement if you use a "
                "template with a subject defined or if every personalization has a subject "
                "defined.",
                "subject",
            )
        )
    return errors


def _personalizations_ok(items: Any, bad: set[str]) -> bool:
    """The common case checked in bulk (a million recipients go through here); only when it
    says no are the items walked one by one for SendGrid's error messages."""
    if not isinstance(items, list) or not 0 < len(items) <= MAX_PERSONALIZATIONS:
        return False
    try:
        if any("cc" in item or "bcc" in item for item in items):
            return False
        if not all(isinstance(item["to"], list) and item["to"] for item in items):
            return False
        emails = [person["email"].lower() for item in items for person in item["to"]]
        maps = [item.get(key) for item in items for key in ("substitutions", "custom_args")]
        headers = [item.get("headers") for item in items]
    except (TypeError, KeyError, AttributeError):
        return False
    if len(emails) > MAX_RECIPIENTS or len(set(emails)) != len(emails):
        return False
    if not bad.isdisjoint(emails) or not all(map(_ADDRESS.match, emails)):
        return False
    maps = [m for m in maps + headers if m is not None]
    if not all(map(isinstance, maps, repeat(dict))):
        return False
    values = list(chain.from_iterable(m.values() for m in maps))
    if not all(map(isinstance, values, repeat(str))):
        return False
    names = chain.from_iterable(h for h in headers if h)
    if not RESERVED_HEADERS.isdisjoint(map(str.lower, names)):
        return False
    header_values = "\0".join(chain.from_iterable(h.values() for h in headers if h))
    return "\r" not in header_values and "\n" not in header_values


def _check_personalizations(items: Any, bad: set[str]) -> Iterator[dict[str, Any]]:
    if not isinstance(items, list) or not items:
        yield _error(
            "The personalizations field is required and must have at least one personalization.",
            "personalizations",
        )
        return
    if len(items) > MAX_PERSONALIZATIONS:
        yield _error(
            f"The personalizations field is limited to {MAX_PERSONALIZATIONS} items.",
            "personalizations",
        )
    seen: set[str] = set()
    total = 0
    for i, item in enumerate(items):
        where = f"personalizations.{i}"
        if not isinstance(item, dict):
            yield _error("Invalid type. Expected: object.", where)
            continue
        for kind in ("to", "cc", "bcc"):
            people = item.get(kind)
            if people is None and kind != "to":
                continue
            if not isinstance(people, list) or not people:
                yield _error(
                    "The to array is required for all personalization objects, "
                    "and must have at least one email object with a valid email "
                    "address.",
                    f"{where}.{kind}",
                )
                continue
            for j, person in enumerate(people):
                total += 1
                address = person.get("email") if isinstance(person, dict) else None
                lower = address.lower() if isinstance(address, str) else ""
                if not lower or not _ADDRESS.match(lower) or lower in bad:
                    yield _error("Does not contain a valid address.", f"{where}.{kind}.{j}.email")
                    continue
                if lower in seen:
                    yield _error(
                        "Each email address in the personalization block should be unique "
                        "between to, cc, and bcc. We found the first duplicate instance of "
                        f"[{address}] in the {where}.{kind} field.",
                        f"{where}.{kind}",
                    )
                seen.add(lower)
        yield from _check_strings(item.get("substitutions"), f"{where}.substitutions")
        yield from _check_strings(item.get("custom_args"), f"{where}.custom_args")
        yield from _check_headers(item.get("headers"), f"{where}.headers")
    if total > MAX_RECIPIENTS:
        yield _error(
            "The total number of recipients must be no more than 1000. This includes all "
            "recipients defined within the to, cc, and bcc parameters, across each object "
            "that you include in the personalizations array.",
            "personalizations",
        )


def _check_from(sender: Any) -> list[dict[str, Any]]:
    address = sender.get("email") if isinstance(sender, dict) else None
    if not isinstance(address, str) or not _ADDRESS.match(address):
        return [
            _error(
                "The from object must be provided for every email send. It is an object that "
                "requires the email parameter, but may also contain a name parameter.",
                "from.email",
            )
        ]
    return []


def _check_content(content: Any) -> list[dict[str, Any]]:
    if not isinstance(content, list) or not content:
        return [
            _error(
                "Unless a valid template_id is provided, the content parameter is "
                "required. There must be at least one defined content block.",
                "content",
            )
        ]
    errors = []
    kinds = []
    for i, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            errors.append(_error("Content types must be strings.", f"content.{i}.type"))
            continue
        if not isinstance(part.get("value"), str) or not part["value"]:
            errors.append(
                _error(
                    "The content value must be a string at least one character in length.",
                    f"content.{i}.value",
                )
            )
        kinds.append(part["type"])
    known = [k for k in kinds if k in ("text/plain", "text/html")]
    ordered = [k for k in ("text/plain", "text/html") if k in kinds]
    if known != ordered or kinds[: len(known)] != known:
        errors.append(
            _error(
                "If present, text/plain must be first, followed by text/html, "
                "followed by any other content.",
                "content",
            )
        )
    return errors


def _check_strings(mapping: Any, where: str) -> list[dict[str, Any]]:
    # JSON object keys are always strings; the values need checking.
    if mapping is None:
        return []
    if not isinstance(mapping, dict) or not all(map(isinstance, mapping.values(), repeat(str))):
        return [_error("Keys and values must be strings.", where)]
    return []


def _check_headers(headers: Any, where: str) -> list[dict[str, Any]]:
    errors = _check_strings(headers, where)
    if errors or not headers:
        return errors
    for name in sorted(RESERVED_HEADERS.intersection(map(str.lower, headers))):
        errors.append(_error(f"You may not overwrite the reserved header {name}.", where))
    values = "\0".join(headers.values())
    if "\r" in values or "\n" in values:
        errors.append(_error("Header values may not contain CR or LF.", where))
    return errors


def accepted_messages(body: dict[str, Any], request: int) -> Iterator[AcceptedMessage]:
    sender = body["from"]
    request_args = dict(body.get("custom_args") or {})
    request_headers = dict(body.get("headers") or {})  # a personalization's own win
    content = Content(
        subject=body.get("subject") or "",
        from_email=sender["email"],
        from_name=sender.get("name", ""),
        parts=tuple((p["type"], p["value"]) for p in body["content"]),
        custom_args=request_args,
        tracking_settings=dict(body.get("tracking_settings") or {}),
    )
    for item in body["personalizations"]:
        for kind in ("to", "cc", "bcc"):
            for person in item.get(kind) or ():
                yield AcceptedMessage(
                    request=request,
                    email=person["email"],
                    name=person.get("name", ""),
                    subject=item.get("subject") or content.subject,
                    substitutions=dict(item.get("substitutions") or {}),
                    headers={**request_headers, **(item.get("headers") or {})},
                    custom_args={**request_args, **(item.get("custom_args") or {})},
                    content=content,
                )


# --- the server ------------------------------------------------------------------------


class SendGridStandIn:
    """The server: ``start()``/``stop()`` or a ``with`` block; ``base_url`` for the client.

    ``record="messages"`` keeps every AcceptedMessage; ``"addresses"`` keeps only the copy
    count per address (for a million recipients).
    """

    def __init__(
        self,
        api_key: str = "SG.standin-key",
        *,
        bad_addresses: Iterable[str] = (),
        record: Literal["messages", "addresses"] = "messages",
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 0.0,
    ) -> None:
        self.api_key = api_key
        self.delay = delay  # seconds each request waits before it is answered
        self.held = threading.Event()  # a Fault.hold request has arrived
        self.release = threading.Event()  # ... and may now be answered
        self.bad_addresses = {a.lower() for a in bad_addresses}
        self.record = record
        self.messages: list[AcceptedMessage] = []
        self.bodies: list[dict[str, Any]] = []  # accepted request bodies (record="messages")
        self.copies: Counter[str] = Counter()  # lower-cased address -> accepted copies
        self.log: list[RequestLog] = []
        self._faults: deque[Fault | None] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.standin = self  # type: ignore[attr-defined]
        self._server.handle_error = _quiet_handle_error  # type: ignore[method-assign]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> int:
        """mail/send requests received (every attempt, whatever the answer)."""
        with self._lock:
            return len(self.log)

    @property
    def accepted_recipients(self) -> int:
        with self._lock:
            return sum(self.copies.values())

    def start(self) -> SendGridStandIn:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def __enter__(self) -> SendGridStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, *faults: Fault | None) -> None:
        """Queue faults for the next requests in order; None means "answer normally"."""
        with self._lock:
            self._faults.extend(faults)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            statuses = Counter(str(entry.status) for entry in self.log)
            return {
                "requests": len(self.log),
                "statuses": dict(statuses),
                "accepted_recipients": sum(self.copies.values()),
                "distinct_recipients": len(self.copies),
                "duplicate_copies": sum(n - 1 for n in self.copies.values() if n > 1),
                "max_personalizations": max((e.personalizations for e in self.log), default=0),
            }

    # called by the handler threads

    def next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def accept(self, body: dict[str, Any]) -> None:
        with self._lock:
            if self.record == "messages":
                messages = list(accepted_messages(body, len(self.log) + 1))
                self.bodies.append(body)
                self.messages.extend(messages)
                self.copies.update(m.email.lower() for m in messages)
            else:
                self.copies.update(
                    person["email"].lower()
                    for item in body["personalizations"]
                    for kind in ("to", "cc", "bcc")
                    for person in item.get(kind) or ()
                )

    def note(self, entry: RequestLog) -> None:
        with self._lock:
            self.log.append(entry)


def _quiet_handle_error(request: Any, client_address: Any) -> None:
    exc = sys.exc_info()[1]
    if isinstance(exc, OSError):
        return  # the scripted faults break connections on purpose
    import traceback

    traceback.print_exc()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SendGridStandIn/1"

    @property
    def standin(self) -> SendGridStandIn:
        return self.server.standin  # type: ignore[attr-defined,no-any-return]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/_standin/stats":
            self._answer(200, self.standin.stats())
        else:
            self._answer(404, {"errors": [_error("Not found", None)]})

    def do_POST(self) -> None:
        if self.path.split("?")[0].rstrip("/") != "/v3/mail/send":
            self._answer(404, {"errors": [_error("Not found", None)]})
            return
        fault = self.standin.next_fault()
        if fault is not None and fault.kind == "hold":
            self.standin.held.set()
            self.standin.release.wait(fault.max_seconds)
            fault = None
        if self.standin.delay:
            time.sleep(self.standin.delay)
        if fault is not None and fault.kind == "reset_before_body":
            self.standin.note(RequestLog(0, 0, fault.kind))
            self._break(reset=True)
            return
        status, payload, count, headers = self._process(fault)
        if fault is not None and fault.kind in ("hang", "drop"):
            self.standin.note(RequestLog(0, count, fault.kind))
            if fault.kind == "hang":
                self._hang(fault.max_seconds)
            self._break(reset=fault.reset)
            return
        self.standin.note(RequestLog(status, count, fault.kind if fault else ""))
        self._answer(status, payload, headers)

    def _process(self, fault: Fault | None) -> tuple[int, Any, int, dict[str, str]]:
        """(status, JSON answer, personalizations, extra headers); records on acceptance."""
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            return 411, {"errors": [_error("Length Required", None)]}, 0, {}
        raw = self.rfile.read(int(length))
        if fault is not None and fault.kind == "status":
            return fault.code, {"errors": [_error(fault.message, None)]}, 0, dict(fault.headers)
        if fault is not None and fault.kind == "rate_limit":
            return 429, {"errors": [_error("too many requests", None)]}, 0, _limit_headers(fault)
        auth = self.headers.get("Authorization")
        if not auth:
            return 401, {"errors": [_error("authorization required", None)]}, 0, {}
        if auth != f"Bearer {self.standin.api_key}":
            message = "The provided authorization grant is invalid, expired, or revoked"
            return 401, {"errors": [_error(message, None)]}, 0, {}
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"errors": [_error("Invalid JSON", None)]}, 0, {}
        personalizations = body.get("personalizations") if isinstance(body, dict) else None
        count = len(personalizations) if isinstance(personalizations, list) else 0
        errors = validate(body, self.standin.bad_addresses)
        if errors:
            return 400, {"errors": errors}, count, {}
        self.standin.accept(body)
        return 202, None, count, {"X-Message-Id": f"standin-{time.monotonic_ns()}"}

    def _answer(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _hang(self, max_seconds: float) -> None:
        """Wait until the client closes its end, the server stops, or max_seconds."""
        deadline = time.monotonic() + max_seconds
        while not self.standin._stopping.is_set() and time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    if not self.connection.recv(65536):
                        return
                except OSError:
                    return

    def _break(self, *, reset: bool) -> None:
        """Close the connection with no answer: FIN, or RST when ``reset``."""
        self.close_connection = True
        if reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # rfile/wfile keep the socket open; close the descriptor itself so the RST goes now
            os.close(self.connection.detach())
        else:
            self.connection.shutdown(socket.SHUT_RDWR)


def _limit_headers(fault: Fault) -> dict[str, str]:
    headers = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0"}
    reset_at = fault.reset_at
    if reset_at is None and fault.reset_in is not None:
        reset_at = time.time() + fault.reset_in
    if reset_at is not None:
        headers["X-RateLimit-Reset"] = str(int(reset_at))
    if fault.retry_after is not None:
        headers["Retry-After"] = fault.retry_after
    return headers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-key", default="SG.standin-key")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--record", choices=("messages", "addresses"), default="addresses")
    parser.add_argument("--bad", action="append", default=[], help="an address to refuse")
    args = parser.parse_args(argv)
    standin = SendGridStandIn(
        args.api_key, bad_addresses=args.bad, record=args.record, port=args.port
    )
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    with standin:
        print(standin.base_url, flush=True)
        while not done.wait(0.5):
            pass
    print(json.dumps(standin.stats()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
