"""What the subscription pages share: the context, a link's subscriber, the answers to a
bad link, too many attempts and a front not configured."""

from __future__ import annotations

import math
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from syndicate.models import Subscriber, SubscriberStatus
from syndicate.pipeline.subscriptions import LinkError, NotConfigured, subscriber_for_link
from syndicate.web.context import WebContext
from syndicate.web.pages import PRIVATE

RECEIVING = (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING)

_LINK_PROBLEMS = {
    "expired": "The link has expired.",
    "tampered": "The link is damaged: part of it may be missing.",
    "wrong purpose": "The link is not meant for this page.",
}


class Handlers:
    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx
        self.pages = ctx.pages

    def _cadences(self, chosen: str) -> dict[str, Any]:
        """The cadence choice of a form: offered only when the site has more than one."""
        digest = self.ctx.settings.digest
        shown = list(digest.cadences) if len(digest.cadences) > 1 else []
        return {"cadences": shown, "cadence": chosen or digest.default_cadence}

    async def _subscriber(self, token: str, purpose: str) -> Subscriber | Response | None:
        if not token:
            return self._bad_link(None)
        ctx = self.ctx
        try:
            return await run_in_threadpool(
                subscriber_for_link, ctx.settings, ctx.store, token, purpose, now=ctx.clock()
            )
        except LinkError as exc:
            return self._bad_link(exc)
        except NotConfigured:
            return self._unavailable()

    def _bad_link(self, exc: LinkError | None, *, expired_hint: bool = False) -> Response:
        reason = "The link has no token." if exc is None else _LINK_PROBLEMS.get(exc.reason, "")
        if exc is not None and not reason:
            reason = f"The link is no longer valid: {exc.reason}."
        lines = [reason, "Nothing was changed. Please use the complete link from the mail."]
        link = None
        if expired_hint or (exc is not None and exc.reason == "expired"):
            link = (f"{self.pages.base}subscribe", "Subscribe again")
        return self.pages.message(
            400, "This link does not work", *lines, link=link, headers=PRIVATE
        )

    def _too_many(self, wait: float) -> Response:
        seconds = max(1, math.ceil(wait))
        minutes = max(1, math.ceil(seconds / 60))
        return self.pages.message(
            429,
            "Too many attempts",
            f"Please try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            headers={"Retry-After": str(seconds)},
        )

    def _unavailable(self, reason: str = "This page cannot be used just now.") -> Response:
        return self.pages.message(
            503,
            "Not available right now",
            reason,
            "Please try again later.",
            headers={"Retry-After": "300"},
        )
