"""Headers on every response, an access log without query strings, and the small checks a
form POST needs: body size, same origin, the client's address."""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.datastructures import FormData, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syndicate.log import EventLog
from syndicate.web.pages import PAGE_CSP

log = EventLog("syndicate.web")
access_log = EventLog("syndicate.web.access")

DEFAULT_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    # Tokens are in our URLs: no page of ours tells another site where it came from.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SecurityHeaders:
    """Adds DEFAULT_HEADERS a response did not set itself, and logs one line per request:
    method, path (never the query string: it holds tokens), status and milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in DEFAULT_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            millis = (time.perf_counter() - started) * 1000
            access_log.info(
                "http.request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                ms=round(millis, 1),
            )


class BodyDeadline:
    """A request body must have arrived ``seconds`` after the request began, or the request
    gets 408 (a client trickling its body holds a connection no longer). Once the body is
    complete, ``receive`` is left alone (a response may wait on it for a disconnect)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        complete = False

        async def bounded() -> Message:
            nonlocal complete
            if complete:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                log.debug("web.body_timeout", method=scope["method"], path=scope["path"])
                raise HTTPException(408, "The request took too long to arrive.") from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        await self.app(scope, receive if scope["method"] in _BODYLESS else bounded, send)


_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})
_TOKEN = re.compile(r"(token=)[^&\s\"']+")
SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error")


class RedactTokens(logging.Filter):
    """Replaces the value of every ``token=`` in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(a) for a in record.args)
        return True


def _redact(value: Any) -> Any:
    return _TOKEN.sub(r"\1[redacted]", value) if isinstance(value, str) else value


class QuietBadRequests(logging.Filter):
    """uvicorn's "Invalid HTTP request received." (a 400 for bytes that are not HTTP) becomes
    a debug line: anyone can send such bytes, and a warning each time would flood the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and record.msg == "Invalid HTTP request received.":
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def protect_server_logs() -> None:
    """Put RedactTokens on uvicorn's loggers (once): should its access log be on after all,
    it prints no token; and QuietBadRequests."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        for kind in (RedactTokens, QuietBadRequests):
            if not any(isinstance(f, kind) for f in logger.filters):
                logger.addFilter(kind())


def client_ip(request: Request) -> str:
    """The client's address: the peer's, or, behind a proxy named in ``web.trusted_proxies``,
    the right-most untrusted hop of X-Forwarded-For (uvicorn puts it here; see
    ``syndicate.service.webserver.server_config``)."""
    return request.client.host if request.client else "unknown"


def bearer_matches(request: Request, token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>`` (constant-time compare);
    always False when no token is configured."""
    if not token:
        return False
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))


def same_origin(request: Request, web_url: str) -> bool:
    """False when the request's Origin (or, without one, Referer) names another site.

    "null" is another site: that is what a sandboxed or privacy-hiding page sends. A request
    with neither header (not from a browser) passes; the rate limits still apply.
    """
    allowed = {request.headers.get("host", "").lower(), urlsplit(web_url).netloc.lower()}
    allowed.discard("")
    origin = request.headers.get("origin")
    if origin is not None:
        return origin != "null" and urlsplit(origin).netloc.lower() in allowed
    referer = request.headers.get("referer")
    if referer:
        return urlsplit(referer).netloc.lower() in allowed
    return True


async def read_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None when it is (or says it is) over ``limit`` bytes: the
    reading stops there."""
    length = request.headers.get("content-length", "")
    if length and (not length.isdigit() or int(length) > limit):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


_MAX_FIELDS = 64


async def read_form(request: Request, limit: int) -> FormData:
    """The form fields of a small POST; 413 past ``limit`` bytes, 400 for a file upload or
    a body that is not UTF-8 (raw or percent-encoded): it is refused, never guessed at."""
    body = await read_body(request, limit)
    if body is None:
        raise HTTPException(413, "The form is too large.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "The form is not UTF-8.") from None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(
                text,
                keep_blank_values=True,
                encoding="utf-8",
                errors="strict",
                max_num_fields=_MAX_FIELDS,
            )
        except UnicodeDecodeError:
            raise HTTPException(400, "The form is not UTF-8.") from None
        except ValueError:
            raise HTTPException(400, "The form has too many fields.") from None
        return FormData(list(pairs))
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return await Request(request.scope, replay).form(max_files=0, max_fields=_MAX_FIELDS)


def text_field(form: FormData, name: str, limit: int = 1000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def text_fields(form: FormData, name: str, limit: int = 200) -> list[str]:
    return [v[:limit] for v in form.getlist(name) if isinstance(v, str)]
