"""/archive/: the editions sent so far, one page each, the digest as mailed, an Atom feed.

Nothing here knows a subscriber: the pages come from the stored edition alone.
"""

from __future__ import annotations

from functools import lru_cache

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syndicate.models import Announcement, Edition
from syndicate.pipeline.archive import (
    ATOM_MEDIA_TYPE,
    archive_email,
    archive_entries,
    archive_feed,
    archived_edition,
)
from syndicate.web.context import WebContext
from syndicate.web.pages import EMAIL_CSP
from syndicate.web.static import conditional_response, representation

EMAIL_RENDERS_KEPT = 16  # premailer takes tens of milliseconds per edition: keep a few


def routes(ctx: WebContext) -> list[BaseRoute]:
    pages = ctx.pages
    cached = {"Cache-Control": ctx.cache_control}

    @lru_cache(maxsize=EMAIL_RENDERS_KEPT)
    def email_html(edition: Edition, announcement: Announcement | None) -> str:
        return archive_email(ctx.settings, edition, announcement)[0]

    def not_found() -> Response:
        return pages.message(
            404,
            "No such digest",
            "There is no digest of that week in the archive.",
            link=(f"{pages.base}archive/", "All digests"),
        )

    async def index(request: Request) -> Response:
        entries = await run_in_threadpool(archive_entries, ctx.settings, ctx.store)
        return pages.render("archive_index.html", headers=cached, entries=entries)

    async def feed(request: Request) -> Response:
        body = await run_in_threadpool(archive_feed, ctx.settings, ctx.store)
        rep = representation(body, f"{ATOM_MEDIA_TYPE}; charset=utf-8")
        return conditional_response(request, rep, cache_control=ctx.cache_control)

    async def edition(request: Request) -> Response:
        week = str(request.path_params["week"])
        archived = await run_in_threadpool(archived_edition, ctx.settings, ctx.store, week)
        if archived is None:
            return not_found()
        return pages.render("archive_edition.html", headers=cached, archived=archived)

    async def as_mailed(request: Request) -> Response:
        week = str(request.path_params["week"])
        archived = await run_in_threadpool(archived_edition, ctx.settings, ctx.store, week)
        if archived is None:
            return not_found()
        html = await run_in_threadpool(email_html, archived.edition, archived.announcement)
        return HTMLResponse(html, headers={**cached, "Content-Security-Policy": EMAIL_CSP})

    async def add_slash(request: Request) -> Response:
        return RedirectResponse(f"{pages.base}{request.url.path.lstrip('/')}/", status_code=308)

    return [
        Route("/archive", add_slash, methods=["GET"]),
        Route("/archive/", index, methods=["GET"]),
        Route("/archive/feed.xml", feed, methods=["GET"]),
        Route("/archive/{week}", add_slash, methods=["GET"]),
        Route("/archive/{week}/", edition, methods=["GET"]),
        Route("/archive/{week}/email.html", as_mailed, methods=["GET"]),
    ]
