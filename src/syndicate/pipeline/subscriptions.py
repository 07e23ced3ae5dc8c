"""Joining and leaving by web: double opt-in, confirmation, unsubscribe, preferences.

Links carry signed tokens (``syndicate.tokens``):

- ``confirm``: made here, expires (48 h by default); its subject is ``"<token id>:<nonce>"``,
  the nonce that of the subscribe request it answers: only the newest request's link
  confirms, and only while that request is pending, so an old link opened after an
  unsubscribe (by a person or a mail scanner) changes nothing;
- ``unsubscribe`` and ``preferences``: made by the send job for every digest, never expire;
  their subject is the subscriber's random token id (never the sequential row id). Links
  mailed before token ids existed name the row id: those still unsubscribe, nothing else.

Nothing here says to a stranger whether an address is subscribed: ``subscribe`` answers
the same for a new, a pending and an active address (only the result, which the web front
does not show, tells them apart).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from syndicate import tokens
from syndicate.audience import normalize_address, subscriber_name
from syndicate.config import Settings
from syndicate.delivery import Batch, Outcome, SendAborted, Sender
from syndicate.errors import InputError, SyndicateError
from syndicate.models import Subscriber, SubscriberStatus
from syndicate.pipeline.cadences import choose_cadence
from syndicate.pipeline.edition import PREFERENCES, UNSUBSCRIBE, link_url
from syndicate.pipeline.mails import confirmation_batch, welcome_batch
from syndicate.store import DuplicateSubscriber, Store

CONFIRM = "confirm"
DEFAULT_CONFIRM_TTL = timedelta(hours=48)
_JOINABLE = (SubscriberStatus.PENDING, SubscriberStatus.UNSUBSCRIBED)
_LEAVABLE = (SubscriberStatus.PENDING, SubscriberStatus.ACTIVE)

SubscribeAction = Literal["created", "resent", "unchanged"]


class SubscriptionError(SyndicateError):
    """Base of the errors a subscription link or form can meet."""


class LinkError(SubscriptionError):
    """A link that must not be honoured (tampered, expired, for another purpose, or for a
    subscription that is gone); nothing was changed. ``reason`` is one short phrase."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid link: {reason}")
        self.reason = reason


class NotConfigured(SubscriptionError):
    """No secret key: links can be neither made nor checked."""


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    action: SubscribeAction
    subscriber_id: int
    outcome: Outcome | None = None  # the confirmation mail's; None when none was sent

    @property
    def mail_failed(self) -> bool:
        return self.outcome is not None and self.outcome.state in ("failed", "retry")


# --- subscribing --------------------------------------------------------------------------


def subscribe(
    settings: Settings,
    store: Store,
    sender: Sender,
    *,
    email: str,
    name: str,
    categories: Iterable[str],
    now: datetime,
    ttl: timedelta = DEFAULT_CONFIRM_TTL,
    cadence: str = "",
) -> SubscribeResult:
    """A pending subscriber (new, or one who had left) and a confirmation mail to them.

    An active subscriber is left as they are and gets no mail; so are bounced and complained
    addresses. Raises AddressError for a bad address, NotConfigured without a secret key.
    """
    secret = _secret(settings)
    address = normalize_address(email, smtputf8=delivers_utf8_local_parts(settings))
    chosen = choose_categories(site_categories(store, settings), categories)
    how_often = choose_cadence(settings, cadence)
    name = subscriber_name(name)
    subscriber, action = _pending_subscriber(store, address, name, chosen, now, how_often)
    if subscriber.status not in _JOINABLE:
        return SubscribeResult("unchanged", subscriber.id)
    if action == "resent":
        # Not yet (or no longer) reading: the new choice counts once the link is followed.
        store.set_choices(subscriber.id, chosen, how_often, now)
    nonce = store.start_confirmation(subscriber.id, now)
    subject = f"{subscriber.token_id}:{nonce}"
    token = tokens.sign(CONFIRM, subject, secret=secret, now=now, ttl=ttl)
    batch = confirmation_batch(settings, subscriber, link_url(settings, CONFIRM, token), ttl, now)
    return SubscribeResult(action, subscriber.id, send_one(sender, batch))


def _pending_subscriber(
    store: Store,
    address: str,
    name: str,
    categories: frozenset[str],
    now: datetime,
    cadence: str,
) -> tuple[Subscriber, SubscribeAction]:
    found = store.find_subscriber(address)
    if found is not None:
        return found, "resent"
    try:
        pending = SubscriberStatus.PENDING
        added = store.add_subscriber(address, name, categories, pending, now, cadence)
        return added, "created"
    except DuplicateSubscriber:
        # Another request added the address between our look and our insert.
        raced = store.find_subscriber(address)
        if raced is None:
            raise
        return raced, "resent"


def confirmation_for_link(
    settings: Settings, store: Store, token: str, *, now: datetime
) -> Subscriber:
    """Whom a confirmation link names, if it can still confirm them; changes nothing."""
    subscriber, nonce = _confirmation(settings, store, token, now)
    if subscriber.status is not SubscriberStatus.ACTIVE and not store.confirmation_pending(
        subscriber.token_id, nonce
    ):
        raise LinkError(STALE)
    return subscriber


def confirm(
    settings: Settings,
    store: Store,
    token: str,
    *,
    now: datetime,
    on_confirmed: Callable[[Subscriber], None] | None = None,
) -> Subscriber:
    """Activate the subscriber whose pending subscribe request the link answers;
    ``on_confirmed`` hears of it (the web front sends the welcome mail then).

    Following it again once active changes nothing. A link from an earlier request, or one
    opened after the address left, bounced or complained, raises LinkError: they must
    subscribe again."""
    subscriber, nonce = _confirmation(settings, store, token, now)
    if subscriber.status is SubscriberStatus.ACTIVE:
        return subscriber
    if not store.confirm_request(subscriber.token_id, nonce, now):
        raise LinkError(STALE)
    confirmed = _reload(store, subscriber.id)
    if on_confirmed is not None:
        on_confirmed(confirmed)
    return confirmed


def send_welcome(
    settings: Settings, sender: Sender, subscriber: Subscriber, *, now: datetime
) -> Outcome | None:
    """The welcome mail to a subscriber who just confirmed; None when ``email.welcome`` is
    off."""
    if not settings.email.welcome:
        return None
    return send_one(sender, welcome_batch(settings, subscriber, _secret(settings), now))


STALE = "it is from an earlier request: please use the newest mail, or subscribe again"


def _confirmation(
    settings: Settings, store: Store, token: str, now: datetime
) -> tuple[Subscriber, str]:
    subject = _verify(settings, token, CONFIRM, now)
    token_id, _, nonce = str(subject).partition(":")
    subscriber = store.subscriber_by_token_id(token_id) if token_id and nonce else None
    if subscriber is None:
        raise LinkError("the subscription it was made for no longer exists")
    if subscriber.status not in (*_JOINABLE, SubscriberStatus.ACTIVE):
        raise LinkError(f"the address is {subscriber.status.value}")
    return subscriber, nonce


# --- leaving and choosing -----------------------------------------------------------------


def subscriber_for_link(
    settings: Settings, store: Store, token: str, purpose: str, *, now: datetime
) -> Subscriber | None:
    """Who an unsubscribe/preferences link names (None: they were removed); changes nothing."""
    subject = _verify(settings, token, purpose, now)
    if isinstance(subject, str):
        return store.subscriber_by_token_id(subject)
    if purpose == UNSUBSCRIBE:
        # Mailed before token ids existed: such a link still unsubscribes (the law wants
        # that); it opens no preferences page.
        return store.get_subscriber(subject)
    raise LinkError(tokens.TAMPERED)


def unsubscribe(
    settings: Settings,
    store: Store,
    token: str,
    *,
    now: datetime,
    purpose: str = UNSUBSCRIBE,
) -> Subscriber | None:
    """Unsubscribe whom the link names; doing it twice, or for a removed subscriber, is fine.

    ``purpose`` may be PREFERENCES: the preferences page offers unsubscribing too. A bounced
    or complained address keeps that status.
    """
    if purpose not in (UNSUBSCRIBE, PREFERENCES):
        raise ValueError(f"unsubscribe: purpose {purpose!r} is not unsubscribe or preferences")
    subscriber = subscriber_for_link(settings, store, token, purpose, now=now)
    if subscriber is None or subscriber.status not in _LEAVABLE:
        return subscriber
    store.set_status(subscriber.id, SubscriberStatus.UNSUBSCRIBED, now)
    return _reload(store, subscriber.id)


def set_preferences(
    settings: Settings,
    store: Store,
    token: str,
    categories: Iterable[str],
    *,
    now: datetime,
    cadence: str | None = None,
) -> Subscriber:
    """Save the categories chosen on the preferences page (none, or all, = every category)
    and, when the page offered one, the cadence (one of digest.cadences)."""
    subscriber = subscriber_for_link(settings, store, token, PREFERENCES, now=now)
    if subscriber is None:
        raise LinkError("the subscription it was made for no longer exists")
    chosen = check_categories(site_categories(store, settings), categories)
    how_often = choose_cadence(settings, cadence) if cadence else None
    store.set_choices(subscriber.id, chosen, how_often, now)
    return _reload(store, subscriber.id)


def site_categories(store: Store, settings: Settings | None = None) -> list[str]:
    """The categories a subscriber can choose from: those of the stored articles, and with
    ``settings`` also those the config names (keyword rules, sources' defaults)."""
    names = [name for name, _count in store.categories() if name.strip()]
    if settings is not None:
        names += [*settings.categories, *(source.category for source in settings.sources)]
    known: dict[str, str] = {}
    for name in names:
        known.setdefault(name.casefold(), name)
    return sorted(known.values(), key=str.casefold)


class UnknownCategory(InputError):
    """A category the site does not have; the message lists the ones it has."""


def check_categories(available: Sequence[str], given: Iterable[str]) -> frozenset[str]:
    """``given`` in the site's spelling (matched case-insensitively); UnknownCategory names
    every unknown one and lists the known ones. All of them is the same as none."""
    known = {name.casefold(): name for name in available}
    unknown = sorted({g for g in given if g.casefold() not in known}, key=str.casefold)
    if unknown:
        listed = ", ".join(known.values()) or "none yet (gather some articles first)"
        names = ", ".join(repr(u) for u in unknown)
        noun = "category" if len(unknown) == 1 else "categories"
        raise UnknownCategory(f"unknown {noun} {names}; the site's categories: {listed}")
    return choose_categories(available, given)


def choose_categories(available: Sequence[str], given: Iterable[str]) -> frozenset[str]:
    """The known ones of ``given`` (matched case-insensitively), in their stored spelling.

    Choosing all of them is the same as choosing none: every category, also future ones.
    """
    known = {name.casefold(): name for name in available}
    chosen = frozenset(known[g.casefold()] for g in given if g.casefold() in known)
    return frozenset() if chosen == frozenset(known.values()) else chosen


# --- links and the confirmation mail ------------------------------------------------------


def delivers_utf8_local_parts(settings: Settings) -> bool:
    """Whether the configured sender can deliver to a non-ASCII local part (SMTPUTF8).

    None can yet: SendGrid refuses them, and the message builder (``syndicate.mime``)
    writes 7-bit headers, so an SMTP server's SMTPUTF8 would not help. Asking here keeps
    the web form, the CLI and the import in step when that changes."""
    return False


def send_one(sender: Sender, batch: Batch) -> Outcome:
    try:
        (outcome,) = sender.send(batch)
    except SendAborted as aborted:
        return Outcome(0, "failed", aborted.reason)
    return outcome


# --- helpers ------------------------------------------------------------------------------


def _secret(settings: Settings) -> str:
    secret = settings.secret_key
    if not secret:
        raise NotConfigured(
            "SYNDICATE_SECRET_KEY is not set: links can be neither made nor checked"
        )
    return secret


def _verify(settings: Settings, token: str, purpose: str, now: datetime) -> str | int:
    secret = _secret(settings)
    try:
        return tokens.verify(
            token, purpose, secret=secret, now=now, previous=settings.previous_secret_keys
        )
    except tokens.TokenError as exc:
        raise LinkError(exc.reason) from None


def _reload(store: Store, subscriber_id: int) -> Subscriber:
    found = store.get_subscriber(subscriber_id)
    if found is None:
        raise LinkError("the subscription it was made for no longer exists")
    return found
