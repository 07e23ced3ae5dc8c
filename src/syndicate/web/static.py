"""Published files (feeds, pages, index.html) and the stylesheet, with ETag, Last-Modified
and 304; an article page's folder without its "/" redirects to it.

The ETag is a hash of the bytes, so every instance behind a balancer gives the same one;
Last-Modified is the file's mtime, which ``write_atomically`` keeps for unchanged files.
If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syndicate.feeds import all_formats
from syndicate.web.context import WebContext
from syndicate.web.pages import DATA_CSP, STATIC_DIR, static_html_csp

INDEX = "index.html"
_SUFFIX_TYPES = {
    ".html": "text/html",
    ".xml": "application/xml",
    ".json": "application/json",
    ".css": "text/css",
    ".xsl": "text/xsl",
    ".txt": "text/plain",
    ".ico": "image/vnd.microsoft.icon",
    ".png": "image/png",
}
_BINARY = ("image/",)
FAVICON = "favicon.ico"
_STYLESHEET_PI = b"<?xml-stylesheet "
# A feed naming our XSLT: the browser may load it (same origin, so no "sandbox", which would
# make the feed an opaque origin; Chromium checks XSLT against script-src) and show its
# result, whose one <style> is inline. Nothing else runs or loads.
FEED_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' https: "
    "data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_STYLE = re.compile(rb"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Representation:
    body: bytes
    media_type: str  # with its charset
    etag: str  # quoted, strong
    last_modified: float | None = None  # epoch seconds
    csp: str = DATA_CSP


def representation(
    body: bytes, media_type: str, last_modified: float | None = None, csp: str = DATA_CSP
) -> Representation:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Representation(body, media_type, etag, last_modified, csp)


def not_modified(headers: Mapping[str, str], rep: Representation) -> bool:
    """Whether a GET with these request headers may be answered 304."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, rep.etag)
    since = headers.get("if-modified-since")
    if since is None or rep.last_modified is None:
        return False
    try:
        parsed = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(rep.last_modified) <= parsed.timestamp()


def etag_matches(header: str, etag: str) -> bool:
    """Weak comparison, as If-None-Match wants: W/"x" matches "x"."""
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def conditional_response(request: Request, rep: Representation, *, cache_control: str) -> Response:
    headers = {"ETag": rep.etag, "Cache-Control": cache_control}
    if rep.last_modified is not None:
        headers["Last-Modified"] = formatdate(rep.last_modified, usegmt=True)
    if not_modified(request.headers, rep):
        return Response(status_code=304, headers=headers)
    headers["Content-Security-Policy"] = rep.csp
    return Response(rep.body, headers=headers, media_type=rep.media_type)


def feed_response(request: Request, rep: Representation, cache_control: str) -> Response:
    """A feed with an XSLT: a browser asking for a page (Accept: text/html) gets it as
    application/xml, which it renders through the XSLT (it shows application/rss+xml as
    text); a feed reader gets its own media type."""
    if "text/html" in request.headers.get("accept", ""):
        rep = dataclasses.replace(rep, media_type="application/xml; charset=utf-8")
    response = conditional_response(request, rep, cache_control=cache_control)
    response.headers["Vary"] = "Accept"
    return response


def media_type_for(name: str) -> str | None:
    """The Content-Type of a published file, or None for a kind we do not serve."""
    feed_types = {f.file_name: f.media_type for f in all_formats()}
    found = feed_types.get(name) or _SUFFIX_TYPES.get(Path(name).suffix.lower())
    if found is None or found.startswith(_BINARY):
        return found
    return f"{found}; charset=utf-8"


def resolve_published(root: Path, relative: str) -> Path | None:
    """``root/relative`` if it is a published file: no dot segments (so no ``..``, no
    hidden or temporary files), no backslash, inside root after symlinks, a regular file.
    A path ending in "/" means its index.html."""
    if len(relative) > MAX_PATH:
        return None
    parts = relative.split("/")
    if parts[-1] == "":
        parts[-1] = INDEX
    if len(parts) > MAX_DEPTH or not all(_plain_segment(p) for p in parts):
        return None
    base = root.resolve()
    try:
        target = base.joinpath(*parts).resolve()
        # Any OSError (a name too long for this file system, say) means "not ours".
        if not target.is_relative_to(base) or not target.is_file():
            return None
    except (OSError, ValueError):
        return None
    return target


MAX_PATH = 1024  # characters of a published file's path: ours are far shorter
MAX_DEPTH = 16  # segments
_MAX_SEGMENT_BYTES = 255  # a file name's limit on the usual file systems


def _plain_segment(part: str) -> bool:
    """A path segment we might have written: not empty, not hidden, printable, no
    backslash, short enough for a file name."""
    return (
        bool(part)
        and not part.startswith(".")
        and "\\" not in part
        and part.isprintable()
        and len(part.encode("utf-8", "surrogatepass")) <= _MAX_SEGMENT_BYTES
    )


def is_page_folder(root: Path, relative: str) -> bool:
    """Whether ``relative`` (no trailing "/") names a folder with a published index.html."""
    if not relative or relative.endswith("/"):
        return False
    return resolve_published(root, relative + "/") is not None


def load_published(root: Path, relative: str) -> Representation | None:
    """The file's bytes and headers; None when it is not there or not ours to serve."""
    target = resolve_published(root, relative)
    media_type = media_type_for(target.name) if target is not None else None
    if target is None or media_type is None:
        return None
    try:
        stat = target.stat()
        body = target.read_bytes()
    except OSError:
        return None
    csp = DATA_CSP
    if _STYLESHEET_PI in body[:200]:
        csp = FEED_CSP
    elif media_type.startswith("text/html"):
        hashes = [
            base64.b64encode(hashlib.sha256(s).digest()).decode() for s in _STYLE.findall(body)
        ]
        csp = static_html_csp(hashes)
    return representation(body, media_type, stat.st_mtime, csp)


def routes(ctx: WebContext) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(the routes to put first, the catch-all to put last)."""
    output_dir = ctx.settings.path(ctx.settings.feeds.output_dir)

    async def published(request: Request) -> Response:
        relative = str(request.path_params.get("path", ""))
        rep = await run_in_threadpool(load_published, output_dir, relative)
        if rep is None:
            if await run_in_threadpool(is_page_folder, output_dir, relative):
                # An article page is <slug>/index.html: <slug> alone is its folder.
                headers = {"Cache-Control": ctx.cache_control}
                return RedirectResponse(request.url.path + "/", 301, headers=headers)
            if relative == "":
                return ctx.pages.render("home.html")
            if relative == FAVICON:  # browsers ask on every visit: no icon, no error
                return Response(status_code=204, headers={"Cache-Control": ctx.cache_control})
            return ctx.pages.message(404, "Not found", "There is no page at this address.")
        if rep.csp == FEED_CSP:
            return feed_response(request, rep, ctx.cache_control)
        return conditional_response(request, rep, cache_control=ctx.cache_control)

    async def stylesheet(request: Request) -> Response:
        rep = await run_in_threadpool(load_published, STATIC_DIR, "site.css")
        assert rep is not None, "web/static/site.css is missing"
        return conditional_response(request, rep, cache_control=ctx.cache_control)

    first: list[BaseRoute] = [
        Route("/", published, methods=["GET"]),
        Route("/static/site.css", stylesheet, methods=["GET"]),
    ]
    return first, [Route("/{path:path}", published, methods=["GET"])]
