"""POST /webhooks/sendgrid: SendGrid's signed Event Webhook.

SendGrid signs every POST with its ECDSA P-256 key over SHA-256: the signature header holds
the base64 DER signature of the timestamp header's text followed by the raw body, byte for
byte (the body ends in CRLF and is never re-encoded here). The checks, in order; nothing is
recorded unless all pass:

- no ``webhooks.sendgrid_public_key``: the webhook is off, 404;
- a missing header, a timestamp that is not a number, one older than ``webhooks.max_age``
  or more than CLOCK_SKEW ahead (a replay), or a signature that does not verify: 401;
- a body over MAX_BODY_BYTES: 413; a body that is not a JSON array of objects: 400.

Then each event is recorded once and acted on (syndicate.pipeline.events) and the answer
is 200 with the counts. A replayed event id is answered 200 too, and changes nothing.

The sendgrid package's EventWebhook helper does the same check, but raises on a signature
that is not base64 (a 500 here), decodes the body as text first, and is untyped: the check
is ten lines with ``cryptography``, which it uses as well.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from functools import partial

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from syndicate.delivery.registry import sender_kind
from syndicate.delivery.sendgrid_events import PROVIDER, PayloadError
from syndicate.log import EventLog
from syndicate.pipeline.events import process_events
from syndicate.web.context import WebContext
from syndicate.web.security import read_body

log = EventLog("syndicate.web")

PATH = "/webhooks/sendgrid"
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
# SendGrid batches events into one POST; this is ample for a batch and bounds the memory.
MAX_BODY_BYTES = 4 * 1024 * 1024
CLOCK_SKEW = timedelta(minutes=1)
_SIGNATURE_MAX = 200  # base64 of a DER P-256 signature is ~96 characters
_TIMESTAMP_DIGITS = 12


def verify_signature(
    key: ec.EllipticCurvePublicKey, signature: str, timestamp: str, body: bytes
) -> bool:
    """True if ``signature`` (base64 DER ECDSA/SHA-256) signs ``timestamp`` + ``body``."""
    if not signature or len(signature) > _SIGNATURE_MAX:
        return False
    try:
        der = base64.b64decode(signature, validate=True)
        key.verify(der, timestamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):  # binascii.Error and UnicodeError are ValueErrors
        return False
    return True


def timestamp_problem(timestamp: str, now: datetime, max_age: timedelta) -> str | None:
    """Why a signed timestamp (epoch seconds) is refused, or None if it is fresh."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _TIMESTAMP_DIGITS):
        return "the timestamp is not a number of seconds"
    signed = datetime.fromtimestamp(int(timestamp), UTC)
    if signed < now - max_age:
        return "the timestamp is too old (a replay?)"
    if signed > now + CLOCK_SKEW:
        return "the timestamp is in the future"
    return None


def routes(ctx: WebContext) -> list[BaseRoute]:
    return [Route(PATH, _Webhook(ctx).sendgrid, methods=["POST"])]


class _Webhook:
    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.key = ctx.settings.webhooks.sendgrid_key
        self.max_age = ctx.settings.webhooks.max_age
        parse = sender_kind(PROVIDER).events
        if parse is None:
            raise TypeError(f"the {PROVIDER} sender registers no event parser")
        self.parse = parse

    async def sendgrid(self, request: Request) -> Response:
        if self.key is None:
            return _answer(404, "the SendGrid webhook is not configured")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        if not signature or not timestamp:
            return _refuse(401, "no signature")
        now = self.ctx.clock()
        problem = timestamp_problem(timestamp, now, self.max_age)
        if problem:
            return _refuse(401, problem)
        body = await read_body(request, MAX_BODY_BYTES)
        if body is None:
            return _refuse(413, f"the body is over {MAX_BODY_BYTES} bytes")
        if not verify_signature(self.key, signature, timestamp, body):
            return _refuse(401, "the signature does not match")
        try:
            events = self.parse(body)
        except PayloadError as exc:
            return _refuse(400, str(exc))
        report = await run_in_threadpool(
            partial(process_events, soft_limit=self.ctx.settings.bounces.soft_limit),
            self.ctx.store,
            events,
            now,
        )
        return JSONResponse(report.as_json())


def _refuse(status: int, reason: str) -> Response:
    log.warning("webhook.refused", path=PATH, status=status, reason=reason)
    return _answer(status, reason)


def _answer(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)
