"""The send job: an edition to every active subscriber, driven by the ledger (the loop is
in pipeline.delivering); a dry run, the operator's resend, a test copy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from syndicate import tokens
from syndicate.config import Settings
from syndicate.delivery import WEEK_ARG, Batch, Outcome, Recipient, SendAborted, Sender
from syndicate.digest.periods import Period
from syndicate.digest.render import render_edition
from syndicate.models import Edition, RenderedDigest, Subscriber, SubscriberStatus
from syndicate.pipeline.delivering import (
    REMOVED,
    STOPPED,
    Clock,
    PauseKind,
    Report,
    SendError,
    SendReport,
    Share,
    deliver,
    variant_label,
)
from syndicate.pipeline.edition import (
    PREFERENCES,
    UNSUBSCRIBE,
    choose_period,
    domain_of,
    freeze_edition,
    greeting,
    message_slug,
    prepare_edition,
    preview_substitutions,
    recipient_links,
    site_view,
    template_source,
)
from syndicate.pipeline.mailheaders import BulkHeaders
from syndicate.pipeline.owners import requeue_uncertain
from syndicate.store import DuplicateSubscriber, SenderRow, Store, variant_categories

__all__ = [
    "PREFERENCES",
    "REMOVED",
    "STOPPED",
    "UNSUBSCRIBE",
    "PauseKind",
    "SendError",
    "SendReport",
    "plan_send",
    "resend_uncertain",
    "send_edition",
    "send_test",
    "variant_label",
]


def send_edition(
    settings: Settings,
    store: Store,
    sender: Sender,
    week: str | Period,
    *,
    clock: Clock,
    on_event: Report | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
    share: Share | None = None,
) -> SendReport:
    """Send the edition of ``week`` (a period, or its name: ``2026-W47``, ``daily:2026-11-23``)
    to every frozen recipient that has not had it yet. The edition is frozen with its
    recipients when the send starts (one transaction), and never changes after; the loop
    (pipeline.delivering) runs under this process's heartbeat.

    ``should_stop`` is asked before each batch is claimed: when it says yes, the batches in
    flight are settled and the send pauses with the reason "stopped" (the next send resumes).
    ``share``: this process is one worker of several (pipeline.delivering.Share).
    """
    now = clock()
    period = choose_period(settings, None, week, now=now) if isinstance(week, str) else week
    prepared = prepare_edition(settings, store, period, now=now)
    if prepared is None:
        return SendReport(week=period.key)
    if not settings.secret_key:
        raise SendError("SYNDICATE_SECRET_KEY is not set: unsubscribe links cannot be signed")
    edition: Edition = prepared
    site, templates = site_view(settings), template_source(settings)

    def freeze(moment: datetime) -> dict[str, int]:
        nonlocal edition
        edition, created = freeze_edition(settings, store, edition, moment)
        return created

    def render(variant: str) -> RenderedDigest:
        wanted = variant_categories(variant)
        return render_edition(
            edition,
            site=site,
            templates=templates,
            categories=wanted,
            subject=settings.digest.subject,
        )

    return deliver(
        settings,
        store,
        sender,
        period.key,
        render,
        freeze,
        clock=clock,
        on_event=on_event,
        should_stop=should_stop,
        progress=progress,
        share=share,
    )


def plan_send(settings: Settings, store: Store, week: str | Period, *, now: datetime) -> SendReport:
    """A dry run: how many recipients a send now would reach, by variant. Sends nothing and
    writes nothing."""
    period = choose_period(settings, None, week, now=now) if isinstance(week, str) else week
    report = SendReport(week=period.key, dry_run=True)
    edition = prepare_edition(settings, store, period, now=now)
    if edition is not None:
        report.variants = _planned_variants(store, edition, report.left_out)
    return report


def _planned_variants(
    store: Store, edition: Edition, left_out: list[tuple[str, str]]
) -> dict[str, int]:
    """What a send would do now, without writing anything; ``left_out`` gets every active
    subscriber of the cadence who would get nothing, and why."""
    if store.send_started(edition.key):
        return {variant_label(v): n for v, n in store.pending_variants(edition.key)}
    categories = frozenset(article.category for article in edition.articles)
    planned, missed = store.plan_recipients(categories, edition.cadence)
    if missed:
        has = ", ".join(sorted(categories)) or "none"
        wanted = set(missed)
        for subscriber in store.list_subscribers(SubscriberStatus.ACTIVE):
            if subscriber.id in wanted:
                chose = ", ".join(sorted(subscriber.categories))
                why = f"chose {chose}; this edition has no article in them (it has {has})"
                left_out.append((subscriber.email, why))
    return {variant_label(variant): count for variant, count in sorted(planned.items())}


def resend_uncertain(
    settings: Settings, store: Store, week: str, now: datetime
) -> tuple[int, list[tuple[SenderRow, int]]]:
    """The operator's decision: uncertain rows back to pending for the next send, but not
    those of a live sender: (rows queued, [(live sender, rows it keeps)])."""
    return requeue_uncertain(settings, store, week, now)


def send_test(
    settings: Settings,
    store: Store,
    sender: Sender,
    week: str | Period,
    address: str,
    *,
    now: datetime,
) -> Outcome:
    """One copy of the edition to ``address``, outside the ledger.

    Its links work for that address: with a secret key they carry real signed tokens of
    the address's subscriber (an address that is none becomes a ``pending`` one, which no
    digest reaches until it confirms); without one, the preview's stand-in links."""
    edition = prepare_edition(settings, store, week, now=now)
    if edition is None:
        raise SendError(f"digest {week}: no new articles, nothing to send")
    week = message_slug(edition)
    rendered = render_edition(
        edition,
        site=site_view(settings),
        templates=template_source(settings),
        subject=settings.digest.subject,
    )
    values, token = dict(preview_substitutions(settings)), "preview"
    name = ""
    if settings.secret_key:
        subscriber = subscriber_for_test(store, address, now)
        name = subscriber.name
        token = tokens.sign(
            UNSUBSCRIBE, subscriber.token_id, secret=settings.secret_key, now=now, ttl=None
        )
        preferences = tokens.sign(
            PREFERENCES, subscriber.token_id, secret=settings.secret_key, now=now, ttl=None
        )
        values = recipient_links(settings, token, preferences)
    headers = BulkHeaders(settings, f"test-{week}", edition.cadence)
    recipient = Recipient(
        delivery_id=0,
        email=address,
        substitutions={**values, **greeting(name)},
        headers=headers.for_recipient(values["unsubscribe_url"], token),
        message_id=f"<test.{week}.{int(now.timestamp())}@{domain_of(settings.email.from_address)}>",
    )
    batch = Batch(
        subject=f"[test] {rendered.subject}",
        html=rendered.html,
        text=rendered.text,
        from_address=settings.email.from_address,
        from_name=settings.email.from_name or settings.site.title,
        recipients=[recipient],
        custom_args={WEEK_ARG: f"test-{week}"},
        headers=headers.fixed,
    )
    try:
        (outcome,) = sender.send(batch)
    except SendAborted as aborted:
        return Outcome(0, "failed", aborted.reason)
    return outcome


def subscriber_for_test(store: Store, address: str, now: datetime) -> Subscriber:
    """The subscriber of a test address; a new ``pending`` one when there is none."""
    found = store.find_subscriber(address)
    if found is not None:
        return found
    try:
        return store.add_subscriber(address, "", frozenset(), SubscriberStatus.PENDING, now)
    except DuplicateSubscriber:
        raced = store.find_subscriber(address)
        if raced is None:
            raise
        return raced
