"""Subscribe (double opt-in) and confirm; the routes of unsubscribe and preferences too
(their pages: web/preferences.py).

GET never changes a subscription: mail scanners open every link, so the confirmation and
unsubscribe links show a page with a button, and only its POST acts. Tokens are
in the query string only; they are never logged (the access log leaves the query out).
"""

from __future__ import annotations

from functools import partial

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from syndicate.audience import AddressError, normalize_address
from syndicate.delivery import Sender
from syndicate.errors import ConfigError
from syndicate.log import EventLog
from syndicate.models import Subscriber, SubscriberStatus
from syndicate.pipeline.cadences import UnknownCadence, choose_cadence
from syndicate.pipeline.edition import link_url
from syndicate.pipeline.subscriptions import (
    LinkError,
    NotConfigured,
    confirm,
    confirmation_for_link,
    send_welcome,
    site_categories,
    subscribe,
)
from syndicate.web.context import WebContext
from syndicate.web.handlers import Handlers
from syndicate.web.pages import PRIVATE
from syndicate.web.preferences import ReaderHandlers
from syndicate.web.security import client_ip, read_form, same_origin, text_field, text_fields

log = EventLog("syndicate.web")


def routes(ctx: WebContext) -> list[BaseRoute]:
    handlers, readers = _Handlers(ctx), ReaderHandlers(ctx)
    return [
        Route("/subscribe", handlers.subscribe_form, methods=["GET"]),
        Route("/subscribe", handlers.subscribe, methods=["POST"]),
        Route("/confirm", handlers.confirm_page, methods=["GET"]),
        Route("/confirm", handlers.confirm, methods=["POST"]),
        Route("/unsubscribe", readers.unsubscribe_page, methods=["GET"]),
        Route("/unsubscribe", readers.unsubscribe, methods=["POST"]),
        Route("/preferences", readers.preferences_page, methods=["GET"]),
        Route("/preferences", readers.preferences, methods=["POST"]),
    ]


class _Handlers(Handlers):
    # --- subscribe ----------------------------------------------------------------------

    async def subscribe_form(self, request: Request) -> Response:
        return await self._form_page(200)

    async def _form_page(
        self,
        status: int,
        *,
        email: str = "",
        name: str = "",
        checked: frozenset[str] = frozenset(),
        error: str = "",
        cadence: str = "",
    ) -> Response:
        categories = await run_in_threadpool(site_categories, self.ctx.store, self.ctx.settings)
        return self.pages.render(
            "subscribe.html",
            status=status,
            # The form's POST must carry our Origin: "no-referrer" would make it "null".
            headers={"Referrer-Policy": "same-origin"},
            categories=categories,
            checked=checked,
            **self._cadences(cadence),
            email=email,
            name=name,
            error=error,
        )

    async def subscribe(self, request: Request) -> Response:
        ctx = self.ctx
        if not same_origin(request, ctx.settings.web_url):
            return self.pages.message(
                403, "Not from this site", "Please use the form on this site."
            )
        now = ctx.clock()
        wait = ctx.per_ip.hit(client_ip(request), now.timestamp())
        if wait is not None:
            return self._too_many(wait)
        form = await read_form(request, ctx.options.max_form_bytes)
        email = text_field(form, "email", 320)
        if text_field(form, "website"):
            log.info("subscribe.honeypot", message="honeypot field filled; nothing stored")
            return self.pages.render("subscribe_sent.html", email=email)
        name = text_field(form, "name", 200)
        chosen = frozenset(text_fields(form, "category"))
        try:
            cadence = choose_cadence(ctx.settings, text_field(form, "cadence", 16))
        except UnknownCadence:
            cadence = ctx.settings.digest.default_cadence  # a tampered form: the default
        try:
            address = normalize_address(email)
        except AddressError:
            error = "That does not look like an email address. Please check it."
            return await self._form_page(
                400, email=email, name=name, checked=chosen, error=error, cadence=cadence
            )
        wait = ctx.per_address.hit(address.lower(), now.timestamp())
        if wait is not None:
            return self._too_many(wait)
        if not ctx.settings.secret_key:
            log.error("subscribe.no_secret_key", message="SYNDICATE_SECRET_KEY is not set")
            return self._unavailable("We cannot send the confirmation mail just now.")
        # The store and the mail come after the answer, so that a new, a pending and an
        # active address cannot be told apart by how long the answer takes either.
        job = BackgroundTask(self._subscribe, address, name, chosen, cadence)
        return self.pages.render("subscribe_sent.html", email=address, background=job)

    def _subscribe(self, address: str, name: str, categories: frozenset[str], cadence: str) -> None:
        """Runs after the response (in a worker thread): failures can only be logged."""
        ctx = self.ctx
        try:
            sender: Sender = ctx.sender_factory()
        except ConfigError as exc:
            log.error("subscribe.no_sender", error=str(exc))
            return
        try:
            result = subscribe(
                ctx.settings,
                ctx.store,
                sender,
                email=address,
                name=name,
                categories=categories,
                now=ctx.clock(),
                ttl=ctx.options.confirm_ttl,
                cadence=cadence,
            )
        except Exception:
            log.exception("subscribe.failed")
            return
        finally:
            sender.close()
        if result.mail_failed:
            assert result.outcome is not None
            log.warning(
                "subscribe.confirmation_failed",
                subscriber=result.subscriber_id,
                error=result.outcome.error,
            )
        else:
            log.info("subscribe.done", subscriber=result.subscriber_id, action=result.action)

    async def confirm_page(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        if not token:
            return self._bad_link(None)
        try:
            found = await run_in_threadpool(
                confirmation_for_link,
                self.ctx.settings,
                self.ctx.store,
                token,
                now=self.ctx.clock(),
            )
        except LinkError as exc:
            return self._bad_link(exc, expired_hint=True)
        except NotConfigured:
            return self._unavailable()
        if found.status is SubscriberStatus.ACTIVE:
            return self._subscribed(found)
        return self.pages.render(
            "confirm.html",
            headers=PRIVATE,
            action=link_url(self.ctx.settings, "confirm", token),
            email=found.email,
        )

    async def confirm(self, request: Request) -> Response:
        await read_form(request, self.ctx.options.max_form_bytes)
        token = request.query_params.get("token", "")
        if not token:
            return self._bad_link(None)
        confirmed: list[Subscriber] = []
        try:
            subscriber = await run_in_threadpool(
                partial(confirm, on_confirmed=confirmed.append),
                self.ctx.settings,
                self.ctx.store,
                token,
                now=self.ctx.clock(),
            )
        except LinkError as exc:
            return self._bad_link(exc, expired_hint=True)
        except NotConfigured:
            return self._unavailable()
        log.info("confirm.done", subscriber=subscriber.id)
        response = self._subscribed(subscriber)
        if confirmed and self.ctx.settings.email.welcome:
            response.background = BackgroundTask(self._welcome, confirmed[0])
        return response

    def _welcome(self, subscriber: Subscriber) -> None:
        """Runs after the response (in a worker thread): failures can only be logged."""
        try:
            sender: Sender = self.ctx.sender_factory()
        except ConfigError as exc:
            log.error("welcome.no_sender", error=str(exc))
            return
        try:
            outcome = send_welcome(self.ctx.settings, sender, subscriber, now=self.ctx.clock())
        except Exception:
            log.exception("welcome.failed")
            return
        finally:
            sender.close()
        if outcome is not None and outcome.state in ("failed", "retry"):
            log.warning("welcome.mail_failed", subscriber=subscriber.id, error=outcome.error)

    def _subscribed(self, subscriber: Subscriber) -> Response:
        return self.pages.message(
            200,
            "You are subscribed",
            f"The weekly digest will come to {subscriber.email}.",
            "Every digest ends with a link to choose categories or to unsubscribe.",
            link=(f"{self.pages.base}archive/", "Read past digests"),
            headers=PRIVATE,
        )
