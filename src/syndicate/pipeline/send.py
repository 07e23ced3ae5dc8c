"""The send job: an edition to every active subscriber, driven by the ledger.

Order of events for one batch: rows are claimed (``submitting``) and committed, the request
goes out, the outcomes are committed. A crash between the two commits leaves ``submitting``
rows, which the next run marks ``uncertain`` and never resends on its own: at most once.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from syndicate import tokens
from syndicate.config import Settings
from syndicate.delivery import WEEK_ARG, Batch, Outcome, Recipient, SendAborted, Sender
from syndicate.delivery.registry import send_concurrency
from syndicate.digest.periods import Period
from syndicate.digest.render import render_edition
from syndicate.errors import DeliveryError
from syndicate.models import (
    Delivery,
    DeliveryState,
    Edition,
    RenderedDigest,
    Subscriber,
    SubscriberStatus,
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
from syndicate.pipeline.mailheaders import BulkHeaders, edition_cadence
from syndicate.store import DuplicateSubscriber, Store, variant_categories

Clock = Callable[[], datetime]
_Pending = Future[list[Outcome] | SendAborted]
Report = Callable[[str], None]

REMOVED = "-"  # the token subject for a subscriber who no longer exists
STOPPED = "stopped"  # the paused reason when should_stop asked the send to stop
_STATE = {
    "sent": DeliveryState.SENT,
    "failed": DeliveryState.FAILED,
    "uncertain": DeliveryState.UNCERTAIN,
    "retry": DeliveryState.PENDING,
}


class SendError(DeliveryError):
    """The send cannot start (no secret key, nothing to send)."""


@dataclass
class SendReport:
    week: str
    dry_run: bool = False
    frozen: int = 0
    recovered: int = 0  # rows a crashed run left submitting, now uncertain
    requests: int = 0
    variants: dict[str, int] = field(default_factory=dict)  # variant label -> recipients
    counts: dict[str, int] = field(default_factory=dict)  # ledger state -> rows, at the end
    paused: str | None = None
    left_out: list[tuple[str, str]] = field(default_factory=list)  # dry run: (email, why)

    def summary(self) -> str:
        if self.dry_run:
            total = sum(self.variants.values())
            parts = ", ".join(f"{n} × {label}" for label, n in sorted(self.variants.items()))
            return f"digest {self.week}: would send {total} messages ({parts or 'none'})"
        states = ", ".join(f"{n} {state}" for state, n in self.counts.items() if n)
        text = f"digest {self.week}: {self.requests} requests; ledger: {states or 'empty'}"
        return text + (f"; PAUSED: {self.paused}" if self.paused else "")


def variant_label(variant: str) -> str:
    categories = sorted(variant_categories(variant))
    return "all categories" if not categories else " + ".join(categories)


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
) -> SendReport:
    """Send the edition of ``week`` (a period, or its name: ``2026-W47``, ``daily:2026-11-23``)
    to every frozen recipient that has not had it yet. The edition is frozen with its
    recipients when the send starts (one transaction), and never changes after.

    ``should_stop`` is asked before each batch is claimed: when it says yes, the batches in
    flight are settled and the send pauses with the reason "stopped" (the next send resumes).
    """
    now = clock()
    period = choose_period(settings, None, week, now=now) if isinstance(week, str) else week
    week = period.key
    report = SendReport(week=week)
    edition = prepare_edition(settings, store, period, now=now)
    if edition is None:
        return report
    secret = settings.secret_key
    if not secret:
        raise SendError("SYNDICATE_SECRET_KEY is not set: unsubscribe links cannot be signed")
    edition, report.frozen = freeze_edition(settings, store, edition, now)
    report.recovered = store.recover_interrupted(week, now)
    if report.recovered and on_event:
        on_event(f"{report.recovered} recipients were in flight at a crash: now uncertain")
    store.mark_send_paused(week, None)
    loop = _SendLoop(settings, store, sender, edition, secret, clock, report, should_stop)
    variants = store.pending_variants(week)
    loop.progress, loop.total = progress, sum(count for _, count in variants)
    with _cyclic_gc_paused():
        for variant, count in variants:
            report.variants[variant_label(variant)] = count
            if not loop.run_variant(variant):
                break
    report.counts = store.delivery_counts(week)
    if report.paused:
        store.mark_send_paused(week, report.paused)
    elif not report.counts.get(DeliveryState.PENDING.value):
        store.mark_send_finished(week, clock())
    return report


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A million recipients make millions of short-lived, acyclic objects that reference
    counting frees at once; the cyclic collector's full passes over the heap find nothing
    and cost ~15% of the send. It is switched back on afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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


class _SendLoop:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        sender: Sender,
        edition: Edition,
        secret: str,
        clock: Clock,
        report: SendReport,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.settings, self.store, self.sender = settings, store, sender
        self.edition, self.secret, self.clock, self.report = edition, secret, clock, report
        self.should_stop = should_stop
        self.progress: Callable[[int, int], None] | None = None
        self.done = self.total = 0  # recipients settled, of those pending at the start
        self.failures_in_a_row = 0
        self.headers = BulkHeaders(settings, edition.period, edition_cadence(edition))
        self.unsubscribe = tokens.Signer(UNSUBSCRIBE, secret=secret, ttl=None)
        self.preferences = tokens.Signer(PREFERENCES, secret=secret, ttl=None)
        self.domain = domain_of(settings.email.from_address)
        self.slug = message_slug(edition)
        self.concurrency = send_concurrency(settings)

    def run_variant(self, variant: str) -> bool:
        """Send every pending row of one variant; False when the send paused."""
        rendered = render_edition(
            self.edition,
            site=site_view(self.settings),
            templates=template_source(self.settings),
            categories=variant_categories(variant),
            subject=self.settings.digest.subject,
        )
        if self.concurrency == 1:
            for batch in self._batches(rendered, variant):
                if not self._settle(batch, self._send(batch)):
                    return False
            return not self.report.paused
        with ThreadPoolExecutor(self.concurrency) as pool:
            in_flight: list[tuple[Batch, _Pending]] = []
            for batch in self._batches(rendered, variant):
                in_flight.append((batch, pool.submit(self._send, batch)))
                if len(in_flight) >= self.concurrency:
                    done, future = in_flight.pop(0)
                    if not self._settle(done, future.result()):
                        self._drain(in_flight)
                        return False
            ok = True
            for done, future in in_flight:
                ok = self._settle(done, future.result()) and ok
            return ok and not self.report.paused

    def _drain(self, in_flight: Sequence[tuple[Batch, _Pending]]) -> None:
        for batch, future in in_flight:
            self._settle(batch, future.result())

    def _batches(self, rendered: RenderedDigest, variant: str) -> Iterator[Batch]:
        while not self.report.paused:
            if self.should_stop is not None and self.should_stop():
                self.report.paused = STOPPED
                return
            claimed = self.store.claim_batch(
                self.edition.week, variant, self.sender.max_batch, self.clock()
            )
            if not claimed:
                return
            token_ids = self.store.token_ids([d.subscriber_id for d, _ in claimed])
            yield Batch(
                subject=rendered.subject,
                html=rendered.html,
                text=rendered.text,
                from_address=self.settings.email.from_address,
                from_name=self.settings.email.from_name or self.settings.site.title,
                recipients=[self._recipient(d, token_ids.get(d.subscriber_id)) for d, _ in claimed],
                custom_args={WEEK_ARG: self.edition.week},
            )

    def _recipient(self, delivery: Delivery, token_id: str | None) -> Recipient:
        subscriber = delivery.subscriber_id or 0
        now = self.clock()
        # Links name the subscriber's random token id, never the sequential row id; a
        # subscriber removed meanwhile gets links that name nobody.
        unsubscribe = self.unsubscribe.sign(token_id or REMOVED, now)
        preferences = self.preferences.sign(token_id or REMOVED, now)
        links = recipient_links(self.settings, unsubscribe, preferences)
        return Recipient(
            delivery_id=delivery.id,
            email=delivery.email,
            name=delivery.name,
            substitutions={**greeting(delivery.name), **links},
            headers=self.headers.for_recipient(links["unsubscribe_url"], unsubscribe),
            message_id=f"<{self.slug}.{delivery.id}.{subscriber}@{self.domain}>",
        )

    def _send(self, batch: Batch) -> list[Outcome] | SendAborted:
        try:
            return self.sender.send(batch)
        except SendAborted as aborted:
            return aborted

    def _settle(self, batch: Batch, result: list[Outcome] | SendAborted) -> bool:
        """Record one batch's outcomes; False when the send must pause."""
        self.report.requests += 1
        self.done += len(batch.recipients)
        if self.progress is not None:
            self.progress(self.done, self.total)
        if isinstance(result, SendAborted):
            settled = {o.delivery_id: o for o in result.outcomes}
            outcomes = [
                settled.get(r.delivery_id, Outcome(r.delivery_id, "retry", result.reason))
                for r in batch.recipients
            ]
            self._finish(outcomes)
            self.report.paused = result.reason
            return False
        self._finish(result)
        if result and all(o.state == "retry" for o in result):
            self.failures_in_a_row += 1
            limit = self.settings.delivery.max_consecutive_failures
            if self.failures_in_a_row >= limit:
                last = result[0].error or "no reason given"
                self.report.paused = f"{limit} failed requests in a row (last: {last})"
                return False
        else:
            self.failures_in_a_row = 0
        return True

    def _finish(self, outcomes: Sequence[Outcome]) -> None:
        self.store.finish_batch(
            [(o.delivery_id, _STATE[o.state], o.error) for o in outcomes], self.clock()
        )


def resend_uncertain(store: Store, week: str, now: datetime) -> int:
    """The operator's decision: put uncertain rows back to pending for the next send."""
    return store.reset_uncertain(week, now)


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
    headers = BulkHeaders(settings, f"test-{week}", edition_cadence(edition))
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
