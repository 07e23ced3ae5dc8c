"""The web front of `syndicate run`: the Starlette app on uvicorn, in a thread of its own.

The main thread keeps the signals; uvicorn installs no handlers of its own off the main
thread, and is told to exit by the service.

What uvicorn would otherwise decide by its defaults is said here: forwarded addresses are
believed only from ``web.trusted_proxies`` (uvicorn's default trusts any 127.0.0.1 peer, and
reads $FORWARDED_ALLOW_IPS), and a connection whose request headers trickle in is closed
after ``web.header_timeout`` (uvicorn has no such timeout: every byte resets its keep-alive
timer).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from syndicate.config import Settings, WebSettings
from syndicate.delivery import Sender
from syndicate.errors import ServiceError
from syndicate.service.logs import EventLog
from syndicate.store import Store

Health = Callable[[], Mapping[str, Any]]
_log = EventLog("syndicate.web")


class WebError(ServiceError):
    """The web front cannot start (the port is taken, say)."""


def build_app(
    settings: Settings,
    store: Store,
    *,
    sender_factory: Callable[[], Sender],
    clock: Callable[[], datetime],
    health: Health,
) -> ASGIApp:
    """The web front's ASGI app. Imported here, not at the top, so that commands that never
    serve (and tests of the scheduler) do not load Starlette; an error inside the web package
    stops the service rather than leaving it running without /unsubscribe."""
    from syndicate.web import create_app

    return create_app(settings, store, sender_factory=sender_factory, clock=clock, health=health)


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, with a deadline for each request's line and headers: armed
    when the connection opens and after each response, disarmed once h11 has a whole
    request head. When it passes with the head still incomplete the connection is closed.

    A response sent before its request's body was all in (413, 429, or 408 past
    web.body_timeout) leaves the rest of the body the same time to arrive; then the
    connection is closed too."""

    header_timeout: float = 10.0
    _deadline: asyncio.TimerHandle | None = None
    _draining = False  # answered; the request's body is still coming

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        state = self.conn.their_state
        if self._draining and state is not h11.SEND_BODY:
            self._draining = False  # the body is in: the next request's head is awaited
            self._arm()
        elif not self._draining and state is not h11.IDLE:
            self._disarm()

    def on_response_complete(self) -> None:
        self._draining = self.conn.their_state is h11.SEND_BODY
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_timeout, self._late)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _late(self) -> None:
        self._deadline = None
        waiting = self.conn.their_state is h11.IDLE or (
            self._draining and self.conn.their_state is h11.SEND_BODY
        )
        if waiting and not self.transport.is_closing():
            _log.debug("web.header_timeout", seconds=self.header_timeout)
            self.transport.close()


def server_config(app: ASGIApp, web: WebSettings) -> uvicorn.Config:
    """uvicorn's configuration, with proxies, forwarded headers and timeouts said outright."""
    protocol = type(
        "SyndicateH11Protocol",
        (HeaderDeadlineProtocol,),
        {"header_timeout": web.header_timeout.total_seconds()},
    )
    trusted = list(web.trusted_proxies)
    return uvicorn.Config(
        app,
        host=web.host,
        port=web.port,
        log_config=None,  # its records go through the service's handler
        access_log=False,  # the web front logs one line per request itself
        lifespan="auto",
        server_header=False,
        timeout_graceful_shutdown=5,
        http=protocol,
        # Without trusted proxies no X-Forwarded-* header is read at all; with them uvicorn
        # takes the right-most address in X-Forwarded-For that is not one of them.
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,
    )


class WebServer:
    def __init__(self, app: ASGIApp, web: WebSettings, log: EventLog) -> None:
        self.server = uvicorn.Server(server_config(app, web))
        self.where = f"http://{web.host}:{web.port}/"
        self.log = log
        self._thread = threading.Thread(target=self.server.run, name="web", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise WebError(f"web: cannot serve on {self.where} (see the log line before)")
            time.sleep(0.02)
        self.log.info("web.listening", url=self.where)

    def stop(self, timeout: float) -> None:
        self.server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.server.force_exit = True
            self._thread.join(1.0)
