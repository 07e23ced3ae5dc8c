"""The web front of `syndicate run`: the Starlette app on uvicorn, in a thread of its own.

The main thread keeps the signals; uvicorn installs no handlers of its own off the main
thread, and is told to exit by the service.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from syndicate.config import Settings
from syndicate.delivery import Sender
from syndicate.service.logs import EventLog
from syndicate.store import Store

Health = Callable[[], Mapping[str, Any]]


class WebError(Exception):
    """The web front cannot start (the port is taken, say)."""


def build_app(
    settings: Settings,
    store: Store,
    *,
    sender_factory: Callable[[], Sender],
    clock: Callable[[], datetime],
    health: Health,
) -> ASGIApp | None:
    """The web front's ASGI app, or None when this build has no web front."""
    try:
        from syndicate.web import create_app
    except ImportError:
        return None
    return create_app(settings, store, sender_factory=sender_factory, clock=clock, health=health)


class WebServer:
    def __init__(self, app: ASGIApp, host: str, port: int, log: EventLog) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,  # its records go through the service's handler
            access_log=False,  # the web front logs one line per request itself
            lifespan="auto",
            server_header=False,
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self.where = f"http://{host}:{port}/"
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
