"""Real HTTP servers on 127.0.0.1 for feed-source and WebSub tests: feeds served with
ETag / Last-Modified (and 304s), hostile answers, and a WebSub hub stand-in that counts pings.

    with FeedServer() as server:
        server.add("/rss", static(RSS, "application/rss+xml", etag='"v1"'))
        server.add("/slow", never_answer())
        server.url("/rss")   # http://127.0.0.1:PORT/rss
        server.seen("/rss")  # the requests it got: path and headers
"""

from __future__ import annotations

import contextlib
import gzip
import ssl
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

Route = Callable[["_Handler"], None]
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: FeedServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _dispatch(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urllib.parse.urlsplit(self.path).path
        headers = {name.lower(): value for name, value in self.headers.items()}
        with owner.lock:
            owner.requests.append(Seen(self.command, path, headers, body))
        route = owner.routes.get(path)
        if route is None:
            self.answer(404, b"not found", "text/plain")
            return
        self.body = body
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            route(self)

    do_GET = _dispatch
    do_POST = _dispatch

    @property
    def owner(self) -> FeedServer:
        return self.server.owner

    def answer(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.write(body)

    def write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()
        with self.owner.lock:
            self.owner.bytes_sent[urllib.parse.urlsplit(self.path).path] += len(data)


class FeedServer:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.bytes_sent: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.stop = threading.Event()  # hanging handlers give up when it is set
        self.tls = tls is not None
        self._server = _Server(self)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def seen(self, path: str) -> list[Seen]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


# --- routes ------------------------------------------------------------------------------


class Static:
    """A document with validators; answers 304 to a request that names them. ``body`` and
    the validators may be replaced between requests."""

    def __init__(
        self,
        body: bytes,
        content_type: str = "application/xml",
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        self.body = body
        self.content_type = content_type
        self.etag = etag
        self.last_modified = last_modified
        self.served = 0  # 200 answers
        self.not_modified = 0  # 304 answers

    def __call__(self, handler: _Handler) -> None:
        headers = {}
        if self.etag:
            headers["ETag"] = self.etag
        if self.last_modified:
            headers["Last-Modified"] = self.last_modified
        etag_hit = self.etag and handler.headers.get("If-None-Match") == self.etag
        date_hit = (
            self.last_modified and handler.headers.get("If-Modified-Since") == self.last_modified
        )
        if etag_hit or (date_hit and not handler.headers.get("If-None-Match")):
            self.not_modified += 1
            handler.send_response(304)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Connection", "close")
            handler.end_headers()
            return
        self.served += 1
        handler.answer(200, self.body, self.content_type, headers)


def static(body: bytes, content_type: str = "application/xml", **validators: str) -> Static:
    return Static(body, content_type, **validators)


def never_answer() -> Route:
    """Reads the request, then says nothing until the server stops."""

    def route(handler: _Handler) -> None:
        handler.owner.stop.wait(30)

    return route


def trickle(interval: float, total: int = 10_000) -> Route:
    """A 200 whose body comes one byte every ``interval`` seconds."""

    def route(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        for _ in range(total):
            if handler.owner.stop.wait(interval):
                return
            handler.write(b" ")

    return route


def trickle_head(interval: float) -> Route:
    """A status line and headers that do not end, one byte every ``interval`` seconds (for
    400 bytes: a fetch that ignores its deadline fails rather than hangs)."""

    def route(handler: _Handler) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nX-Slow: "
        for index in range(400):
            if handler.owner.stop.wait(interval):
                return
            try:
                handler.write(head[index : index + 1] or b"x")
            except OSError:
                return

    return route


def huge(size: int, *, declare_length: bool, encoding: str = "") -> Route:
    """``size`` bytes of a feed-looking body, streamed in 64 KiB chunks; with
    ``declare_length`` it says how long it is, else it is sent chunked. With encoding
    "gzip" the bytes are a gzip stream of ``size`` zero bytes instead (a decompression bomb)."""

    def chunks() -> Iterable[bytes]:
        if encoding == "gzip":
            yield gzip.compress(b"\0" * size, compresslevel=9)
            return
        yield b'<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>'
        filler = b"<!--" + b"x" * (CHUNK - 7) + b"-->"
        for _ in range(size // len(filler)):
            yield filler

    def route(handler: _Handler) -> None:
        parts = chunks()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        if encoding:
            handler.send_header("Content-Encoding", encoding)
        if declare_length and not encoding:
            handler.send_header("Content-Length", str(size))
        else:
            handler.send_header("Transfer-Encoding", "chunked")
        handler.send_header("Connection", "close")
        handler.end_headers()
        for part in parts:
            if declare_length and not encoding:
                handler.write(part)
            else:
                handler.write(b"%x\r\n%s\r\n" % (len(part), part))
        if not declare_length or encoding:
            handler.write(b"0\r\n\r\n")

    return route


def redirect(location: str, status: int = 302) -> Route:
    def route(handler: _Handler) -> None:
        handler.answer(status, b"", "text/plain", {"Location": location})

    return route


# --- a WebSub hub stand-in ------------------------------------------------------------------


class Hub:
    """Counts publish pings (hub.mode=publish, hub.url=...); answers the scripted statuses
    first, then 204 like a hub that accepted the ping."""

    def __init__(self, *statuses: int) -> None:
        self.script = list(statuses)
        self.pings: list[dict[str, list[str]]] = []  # every request's form
        self.accepted: Counter[str] = Counter()  # hub.url → pings answered 2xx
        self.lock = threading.Lock()

    def __call__(self, handler: _Handler) -> None:
        form = urllib.parse.parse_qs(handler.body.decode("ascii"))
        with self.lock:
            self.pings.append(form)
            status = self.script.pop(0) if self.script else 204
            if 200 <= status < 300:
                for url in form.get("hub.url", []):
                    self.accepted[url] += 1
        handler.answer(status, b"", "text/plain")


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()
