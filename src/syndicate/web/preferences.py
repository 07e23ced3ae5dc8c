"""Unsubscribe (RFC 8058 one-click) and preferences: the pages a reader's links open.

GET never changes a subscription (mail scanners open every link): the pages show a button,
and only its POST acts.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from syndicate.log import EventLog
from syndicate.models import Subscriber
from syndicate.pipeline.cadences import UnknownCadence
from syndicate.pipeline.edition import PREFERENCES, UNSUBSCRIBE, link_url
from syndicate.pipeline.subscriptions import (
    LinkError,
    NotConfigured,
    UnknownCategory,
    set_preferences,
    site_categories,
    unsubscribe,
)
from syndicate.web.handlers import RECEIVING, Handlers
from syndicate.web.pages import PRIVATE
from syndicate.web.security import read_form, text_field, text_fields

log = EventLog("syndicate.web")


class ReaderHandlers(Handlers):
    # --- unsubscribe --------------------------------------------------------------------

    async def unsubscribe_page(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        if not token:
            return self.pages.message(
                200,
                "Unsubscribe",
                "To stop the digest, follow the unsubscribe link at the end of any digest "
                "you received: it knows which address is yours.",
            )
        found = await self._subscriber(token, UNSUBSCRIBE)
        if isinstance(found, Response):
            return found
        return self.pages.render(
            "unsubscribe.html",
            headers=PRIVATE,
            action=link_url(self.ctx.settings, "unsubscribe", token),
            email=found.email if found else "",
            subscribed=found is not None and found.status in RECEIVING,
        )

    async def unsubscribe(self, request: Request) -> Response:
        # RFC 8058: the body is "List-Unsubscribe=One-Click"; the token alone is the authority,
        # so the body is read (bounded) but not required.
        await read_form(request, self.ctx.options.max_form_bytes)
        return await self._leave(request.query_params.get("token", ""), UNSUBSCRIBE)

    async def _leave(self, token: str, purpose: str) -> Response:
        if not token:
            return self._bad_link(None)
        ctx = self.ctx
        try:
            left = await run_in_threadpool(
                unsubscribe, ctx.settings, ctx.store, token, now=ctx.clock(), purpose=purpose
            )
        except LinkError as exc:
            return self._bad_link(exc)
        except NotConfigured:
            return self._unavailable()
        if left is not None:
            log.info("unsubscribe.done", subscriber=left.id, status=left.status.value)
        return self.pages.render(
            "unsubscribed.html", headers=PRIVATE, email=left.email if left else ""
        )

    # --- preferences --------------------------------------------------------------------

    async def preferences_page(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        found = await self._subscriber(token, PREFERENCES)
        if isinstance(found, Response):
            return found
        return await self._preferences(token, found, saved=False)

    async def preferences(self, request: Request) -> Response:
        ctx = self.ctx
        token = request.query_params.get("token", "")
        form = await read_form(request, ctx.options.max_form_bytes)
        if text_field(form, "action") == "unsubscribe":
            return await self._leave(token, PREFERENCES)
        if not token:
            return self._bad_link(None)
        try:
            saved = await run_in_threadpool(
                set_preferences,
                ctx.settings,
                ctx.store,
                token,
                text_fields(form, "category"),
                now=ctx.clock(),
                cadence=text_field(form, "cadence", 16) or None,
            )
        except LinkError as exc:
            return self._bad_link(exc)
        except (UnknownCategory, UnknownCadence) as exc:
            title = "Unknown category" if isinstance(exc, UnknownCategory) else "Unknown cadence"
            return self.pages.message(400, title, str(exc), "Nothing was changed.", headers=PRIVATE)
        except NotConfigured:
            return self._unavailable()
        log.info("preferences.saved", subscriber=saved.id, categories=len(saved.categories))
        return await self._preferences(token, saved, saved=True)

    async def _preferences(
        self, token: str, subscriber: Subscriber | None, *, saved: bool
    ) -> Response:
        if subscriber is None:
            return self.pages.message(
                404, "No such subscription", "This address is not on the list (any more)."
            )
        categories = await run_in_threadpool(site_categories, self.ctx.store, self.ctx.settings)
        chosen = {c.casefold() for c in subscriber.categories}
        return self.pages.render(
            "preferences.html",
            headers=PRIVATE,
            action=link_url(self.ctx.settings, "preferences", token),
            email=subscriber.email,
            active=subscriber.status in RECEIVING,
            categories=categories,
            checked={c for c in categories if c.casefold() in chosen},
            saved=saved,
            **self._cadences(subscriber.cadence),
        )
