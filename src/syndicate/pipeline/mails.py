"""The one-off mails of a subscription: the confirmation (double opt-in) and the welcome
after it. Their text and HTML come from templates/email (confirm.*, welcome.*), which a
site overrides like the digest's; the HTML is CSS-inlined like the digest."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from syndicate import tokens
from syndicate.audience import clean_name
from syndicate.config import Settings
from syndicate.delivery import WEEK_ARG, Batch, Recipient
from syndicate.digest.render import PLACEHOLDER_FALLBACKS, first_name, inline_css, site_context
from syndicate.models import Subscriber
from syndicate.pipeline.edition import (
    PREFERENCES,
    UNSUBSCRIBE,
    domain_of,
    recipient_links,
    site_view,
    template_source,
)
from syndicate.pipeline.mailheaders import BulkHeaders, transactional_headers

CONFIRM_ARG = "confirm"  # the custom "week" arg of a confirmation mail (outbox: confirm-…eml)
WELCOME_ARG = "welcome"


def confirmation_batch(
    settings: Settings, subscriber: Subscriber, url: str, ttl: timedelta, now: datetime
) -> Batch:
    """The confirmation mail, text and HTML, as a batch of one."""
    site = clean_name(settings.site.title)
    context = _context(settings, subscriber, f"Please confirm your subscription to {site}")
    context |= {"url": url, "hours": max(1, round(ttl.total_seconds() / 3600))}
    context["preheader"] = f"One click and the weekly digest of {site} is yours."
    recipient = Recipient(
        delivery_id=0,
        email=subscriber.email,
        name=subscriber.name,
        headers=transactional_headers(settings, CONFIRM_ARG),
        message_id=_message_id(settings, CONFIRM_ARG, subscriber, now),
    )
    return _batch(settings, "confirm", context, recipient, CONFIRM_ARG)


def welcome_batch(settings: Settings, subscriber: Subscriber, secret: str, now: datetime) -> Batch:
    """The welcome mail for a subscriber who just confirmed, with their own links."""
    site = clean_name(settings.site.title)
    unsubscribe = tokens.sign(UNSUBSCRIBE, subscriber.token_id, secret=secret, now=now, ttl=None)
    preferences = tokens.sign(PREFERENCES, subscriber.token_id, secret=secret, now=now, ttl=None)
    links = recipient_links(settings, unsubscribe, preferences)
    context = _context(settings, subscriber, f"Welcome to {site}") | links
    context["archive_url"] = f"{settings.web_url}archive/"
    context["preheader"] = f"Your subscription to {site} is confirmed."
    bulk = BulkHeaders(settings, WELCOME_ARG, "transactional")
    headers = bulk.for_recipient(links["unsubscribe_url"], unsubscribe) | bulk.fixed
    recipient = Recipient(
        delivery_id=0,
        email=subscriber.email,
        name=subscriber.name,
        headers=headers | transactional_headers(settings, WELCOME_ARG),
        message_id=_message_id(settings, WELCOME_ARG, subscriber, now),
    )
    return _batch(settings, "welcome", context, recipient, WELCOME_ARG)


def _context(settings: Settings, subscriber: Subscriber, subject: str) -> dict[str, Any]:
    return {
        "site": site_context(site_view(settings)),
        "subject": subject,
        "first_name": first_name(clean_name(subscriber.name)) or PLACEHOLDER_FALLBACKS["name"],
        "email": subscriber.email,
    }


def _batch(
    settings: Settings, name: str, context: dict[str, Any], recipient: Recipient, arg: str
) -> Batch:
    templates = template_source(settings)
    return Batch(
        subject=context["subject"],
        html=inline_css(templates.render(f"{name}.html", context)),
        text=templates.render(f"{name}.txt", context),
        from_address=settings.email.from_address,
        from_name=settings.email.from_name or settings.site.title,
        recipients=[recipient],
        custom_args={WEEK_ARG: arg},
    )


def _message_id(settings: Settings, kind: str, subscriber: Subscriber, now: datetime) -> str:
    domain = domain_of(settings.email.from_address)
    return f"<{kind}.{subscriber.id}.{int(now.timestamp())}@{domain}>"
