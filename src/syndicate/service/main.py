"""Wiring `syndicate run`: logging, the store, the lease, the web front, the signals."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from syndicate.config import Settings
from syndicate.delivery import Sender
from syndicate.delivery.registry import make_sender
from syndicate.errors import ServiceError
from syndicate.service.lease import Lease, make_lease
from syndicate.service.logs import EventLog, configure_logging, log_handler
from syndicate.service.runner import (
    Service,
    ServiceClock,
    Stopped,
    instance_id,
    secret_values,
)
from syndicate.service.signals import StopFlag, stop_on_signals
from syndicate.service.webserver import WebError, WebServer, build_app
from syndicate.store import Store, StoreError


def run_service(
    settings: Settings,
    *,
    start_at: datetime | None = None,
    web: bool = True,
    stream: TextIO | None = None,
) -> Stopped:
    """Run until SIGTERM or SIGINT. Raises ServiceError when it cannot start."""
    configure_logging(log_handler(secret_values(settings), stream))
    log = EventLog("syndicate.service")
    stop = StopFlag()
    with stop_on_signals(stop):
        try:
            stopped = _run(settings, start_at, web, stop, log)
        except ServiceError as exc:
            log.error("service.refused", error=str(exc))
            raise
        log.info(
            "service.stopped",
            reason=stop.reason,
            clean=stopped.clean,
            abandoned=stopped.abandoned,
        )
    for handler in logging.getLogger().handlers:
        handler.flush()
    return stopped


def _run(
    settings: Settings, start_at: datetime | None, web: bool, stop: StopFlag, log: EventLog
) -> Stopped:
    clock = ServiceClock(start_at)
    instance = instance_id()
    try:
        store = Store(settings.database_url)
    except StoreError as exc:
        raise ServiceError(f"storage.url: {exc}") from None
    lease = make_lease(settings.database_url, instance)
    try:
        _refuse_a_second_instance(lease)
        if not settings.secret_key:
            log.warning(
                "service.no_secret_key",
                message="SYNDICATE_SECRET_KEY is not set: digests cannot be sent",
            )
        service = Service(
            settings,
            store,
            lease,
            clock=clock,
            sender_factory=_sender_factory(settings, clock),
            instance=instance,
            stop=stop,
            log=log,
        )
        if web:
            service.web = _start_web(settings, store, service, clock, log)
        return service.run()
    finally:
        lease.release()
        store.close()


def _refuse_a_second_instance(lease: Lease) -> None:
    if lease.shared or lease.acquire():
        return
    holder = lease.holder() or "another process"
    raise ServiceError(
        f"another `syndicate run` ({holder}) is running on this SQLite database "
        f"({lease.description}); stop it first, or use PostgreSQL for several instances"
    )


def _sender_factory(settings: Settings, clock: ServiceClock) -> Callable[[], Sender]:
    return lambda: make_sender(settings, clock)


def _start_web(
    settings: Settings, store: Store, service: Service, clock: ServiceClock, log: EventLog
) -> WebServer:
    try:
        app = build_app(
            settings,
            store,
            sender_factory=_sender_factory(settings, clock),
            clock=clock,
            health=service.health,
        )
    except ImportError as exc:  # a broken install: mails with one-click links need /unsubscribe
        raise ServiceError(f"the web front cannot be loaded ({exc}); not starting") from None
    server = WebServer(app, settings.web, log)
    try:
        server.start()
    except WebError as exc:
        raise ServiceError(str(exc)) from None
    return server


def exit_now_if_abandoned(stopped: Stopped) -> None:
    """A job that outlived the stop timeout (a hung source) would keep the process alive:
    its state is in the database, so leave without waiting for it."""
    if not stopped.clean:
        sys.stderr.flush()
        os._exit(0)
