"""create_app: the Starlette application of the web front.

The faces build it (``syndicate run`` mounts it under uvicorn with a health callback); it
owns no backend of its own: mail goes through ``sender_factory()``, time comes from
``clock()``. Store calls are synchronous, so every one runs in a worker thread.

Run it under uvicorn with ``access_log=False``: uvicorn's access log prints the query
string, and ours holds tokens. The app logs its own access lines (logger
``syndicate.web.access``) without it, and puts a filter on uvicorn's loggers that blanks
any ``token=`` value, should their access log be on all the same.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from syndicate.config import Settings
from syndicate.log import EventLog
from syndicate.store import Store
from syndicate.web import archive, ops, static, subscription, webhooks
from syndicate.web.context import Clock, HealthCallback, SenderFactory, WebContext, WebOptions
from syndicate.web.pages import Pages
from syndicate.web.security import (
    DEFAULT_HEADERS,
    BodyDeadline,
    SecurityHeaders,
    protect_server_logs,
)

log = EventLog("syndicate.web")

_TITLES = {
    400: "Bad request",
    404: "Not found",
    405: "Not allowed",
    408: "Too slow",
    413: "Too large",
    429: "Too many requests",
}


def create_app(
    settings: Settings,
    store: Store,
    *,
    sender_factory: SenderFactory,
    clock: Clock,
    health: HealthCallback | None = None,
    options: WebOptions | None = None,
) -> Starlette:
    """The web front: feeds and index.html from ``feeds.output_dir``, /subscribe, /confirm,
    /unsubscribe, /preferences, /archive/, /healthz, /metrics and /webhooks/sendgrid."""
    pages = Pages(settings)
    ctx = WebContext(
        settings=settings,
        store=store,
        sender_factory=sender_factory,
        clock=clock,
        health=health,
        options=options or WebOptions.from_settings(settings),
        pages=pages,
    )
    protect_server_logs()
    if not settings.secret_key:
        log.warning(
            "web.no_secret_key",
            message="SYNDICATE_SECRET_KEY is not set: subscribe and unsubscribe pages answer 503",
        )
    first, last = static.routes(ctx)
    routes = [
        *first,
        *subscription.routes(ctx),
        *archive.routes(ctx),
        *ops.routes(ctx),
        *webhooks.routes(ctx),
        *last,
    ]

    def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        title = _TITLES.get(exc.status_code, "Error")
        detail = exc.detail if exc.detail and exc.detail != title else "The request was refused."
        return pages.message(exc.status_code, title, detail, headers=exc.headers)

    def server_error(request: Request, exc: Exception) -> Response:
        # Outside the middleware stack: give the headers here.
        return pages.message(
            500, "Something went wrong", "Please try again later.", headers=DEFAULT_HEADERS
        )

    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(BodyDeadline, seconds=ctx.options.body_seconds),
        ],
        exception_handlers={HTTPException: http_error, 500: server_error},
    )
