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
from typing import Literal
from urllib.parse import quote

from syndicate import tokens
from syndicate.config import Settings
from syndicate.delivery import WEEK_ARG, Batch, Outcome, Recipient, SendAborted, Sender
from syndicate.digest.render import PLACEHOLDER_FALLBACKS, render_edition
from syndicate.models import Delivery, DeliveryState, Edition, RenderedDigest, SubscriberStatus
from syndicate.pipeline.edition import (
    PREFERENCES,
    UNSUBSCRIBE,
    domain_of,
    list_id,
    prepare_edition,
    preview_substitutions,
    recipient_links,
    site_view,
    template_source,
)
from syndicate.pipeline.owners import Heartbeat, recover_dead, requeue_uncertain
from syndicate.store import SenderRow, Store, variant_categories, variant_key

Clock = Callable[[], datetime]
_Pending = Future[list[Outcome] | SendAborted]
Report = Callable[[str], None]

REMOVED = "-"  # the token subject for a subscriber who no longer exists
STOPPED = "stopped"  # the paused reason when should_stop asked the send to stop
# Why a send paused: too many failed requests in a row (the service retries it on its own),
# the provider refused it (bad credentials: only the operator can help), or asked to stop.
PauseKind = Literal["failures", "refused", "stopped"]
_STATE = {
    "sent": DeliveryState.SENT,
    "failed": DeliveryState.FAILED,
    "uncertain": DeliveryState.UNCERTAIN,
    "retry": DeliveryState.PENDING,
}


class SendError(Exception):
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
    pause_kind: PauseKind | None = None
    elsewhere: int = 0  # rows in flight with other live senders when this one ended
    left_out: list[tuple[str, str]] = field(default_factory=list)  # dry run: (email, why)

    def summary(self) -> str:
        if self.dry_run:
            total = sum(self.variants.values())
            parts = ", ".join(f"{n} × {label}" for label, n in sorted(self.variants.items()))
            return f"digest {self.week}: would send {total} messages ({parts or 'none'})"
        states = ", ".join(f"{n} {state}" for state, n in self.counts.items() if n)
        text = f"digest {self.week}: {self.requests} requests; ledger: {states or 'empty'}"
        if self.elsewhere:
            text += f"; {self.elsewhere} were in flight with another live sender as this one ended"
        return text + (f"; PAUSED: {self.paused}" if self.paused else "")


def variant_label(variant: str) -> str:
    categories = sorted(variant_categories(variant))
    return "all categories" if not categories else " + ".join(categories)


def send_edition(
    settings: Settings,
    store: Store,
    sender: Sender,
    week: str,
    *,
    clock: Clock,
    on_event: Report | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SendReport:
    """Send ``week``'s edition to every frozen recipient that has not had it yet.

    ``should_stop`` is asked before each batch is claimed: when it says yes, the batches in
    flight are settled and the send pauses with the reason "stopped" (the next send resumes).
    """
    now = clock()
    edition = prepare_edition(settings, store, week, now=now)
    report = SendReport(week=week)
    if edition is None:
        return report
    categories = frozenset(article.category for article in edition.articles)
    secret = settings.secret_key
    if not secret:
        raise SendError("SYNDICATE_SECRET_KEY is not set: unsubscribe links cannot be signed")
    with Heartbeat(settings, store, week, clock) as me:
        report.frozen = store.freeze_recipients(week, now, categories)
        _recover(settings, store, report, clock(), on_event)
        store.mark_send_paused(week, None)
        loop = _SendLoop(settings, store, sender, edition, secret, clock, report, should_stop)
        loop.owner = me.id
        variants = store.pending_variants(week)
        loop.progress, loop.total = progress, sum(count for _, count in variants)
        with _cyclic_gc_paused():
            for variant, count in variants:
                report.variants[variant_label(variant)] = count
                if not loop.run_variant(variant):
                    break
        _recover(settings, store, report, clock(), on_event)  # a helper that died meanwhile
        report.elsewhere = store.in_flight_elsewhere(week, me.id)
    report.counts = store.delivery_counts(week)
    if report.paused:
        store.mark_send_paused(week, report.paused, report.pause_kind, clock())
    elif not report.counts.get(DeliveryState.PENDING.value) and not report.elsewhere:
        store.mark_send_finished(week, clock())
    return report


def _recover(
    settings: Settings, store: Store, report: SendReport, now: datetime, on_event: Report | None
) -> None:
    """Rows in flight with a dead sender become uncertain (never a live sender's)."""
    recovered = recover_dead(settings, store, report.week, now)
    report.recovered += recovered
    if recovered and on_event:
        on_event(f"{recovered} recipients were in flight with a dead sender: now uncertain")


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


def plan_send(settings: Settings, store: Store, week: str, *, now: datetime) -> SendReport:
    """A dry run: how many recipients a send now would reach, by variant. Sends nothing and
    writes no ledger row (the edition itself is prepared and stored, as a preview does)."""
    report = SendReport(week=week, dry_run=True)
    edition = prepare_edition(settings, store, week, now=now)
    if edition is not None:
        categories = frozenset(article.category for article in edition.articles)
        report.variants = _planned_variants(store, week, categories, report.left_out)
    return report


def _planned_variants(
    store: Store, week: str, categories: frozenset[str], left_out: list[tuple[str, str]]
) -> dict[str, int]:
    """What a send would do now, without writing anything; ``left_out`` gets every active
    subscriber who would get nothing, and why."""
    if store.send_started(week):
        return {variant_label(v): n for v, n in store.pending_variants(week)}
    planned: dict[str, int] = {}
    lowered = {c.lower(): c for c in categories}
    has = ", ".join(sorted(categories)) or "none"
    for subscriber in store.list_subscribers(SubscriberStatus.ACTIVE):
        wanted = {lowered[c.lower()] for c in subscriber.categories if c.lower() in lowered}
        if subscriber.categories and not wanted:
            chose = ", ".join(sorted(subscriber.categories))
            why = f"chose {chose}; this edition has no article in them (it has {has})"
            left_out.append((subscriber.email, why))
            continue
        label = variant_label(variant_key(wanted))
        planned[label] = planned.get(label, 0) + 1
    return planned


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
        self.owner: str | None = None  # the registered sender whose batches these are
        self.progress: Callable[[int, int], None] | None = None
        self.done = self.total = 0  # recipients settled, of those pending at the start
        self.failures_in_a_row = 0
        self.mailto = f"mailto:{quote(settings.email.from_address, safe='@')}"
        self.unsubscribe = tokens.Signer(UNSUBSCRIBE, secret=secret, ttl=None)
        self.preferences = tokens.Signer(PREFERENCES, secret=secret, ttl=None)
        self.domain = domain_of(settings.email.from_address)
        self.list_id = list_id(settings)
        self.concurrency = (
            settings.delivery.sendgrid.concurrency if settings.delivery.backend == "sendgrid" else 1
        )

    def run_variant(self, variant: str) -> bool:
        """Send every pending row of one variant; False when the send paused."""
        rendered = render_edition(
            self.edition,
            site=site_view(self.settings),
            templates=template_source(self.settings),
            categories=variant_categories(variant),
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
                self._pause(STOPPED, "stopped")
                return
            claimed = self.store.claim_batch(
                self.edition.week, variant, self.sender.max_batch, self.clock(), self.owner
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
        unsubscribe_url = links["unsubscribe_url"]
        # A token is base64url and dots: nothing in it needs quoting in a mailto URL.
        mailto = f"{self.mailto}?subject=unsubscribe%20{unsubscribe}"
        return Recipient(
            delivery_id=delivery.id,
            email=delivery.email,
            name=delivery.name,
            substitutions={
                "name": delivery.name or PLACEHOLDER_FALLBACKS["name"],
                **links,
            },
            headers={
                "List-Unsubscribe": f"<{unsubscribe_url}>, <{mailto}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "List-Id": self.list_id,
            },
            message_id=f"<{self.edition.week}.{delivery.id}.{subscriber}@{self.domain}>",
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
            self._pause(result.reason, "refused")
            return False
        self._finish(result)
        if result and all(o.state == "retry" for o in result):
            self.failures_in_a_row += 1
            limit = self.settings.delivery.max_consecutive_failures
            if self.failures_in_a_row >= limit:
                last = result[0].error or "no reason given"
                self._pause(f"{limit} failed requests in a row (last: {last})", "failures")
                return False
        else:
            self.failures_in_a_row = 0
        return True

    def _pause(self, reason: str, kind: PauseKind) -> None:
        self.report.paused, self.report.pause_kind = reason, kind

    def _finish(self, outcomes: Sequence[Outcome]) -> None:
        self.store.finish_batch(
            [(o.delivery_id, _STATE[o.state], o.error) for o in outcomes], self.clock()
        )


def resend_uncertain(
    settings: Settings, store: Store, week: str, now: datetime
) -> tuple[int, list[tuple[SenderRow, int]]]:
    """The operator's decision: uncertain rows back to pending for the next send, but not
    those of a live sender: (rows queued, [(live sender, rows it keeps)])."""
    return requeue_uncertain(settings, store, week, now)


def send_test(
    settings: Settings, store: Store, sender: Sender, week: str, address: str, *, now: datetime
) -> Outcome:
    """One copy of the edition to ``address``, outside the ledger, with placeholder links."""
    edition = prepare_edition(settings, store, week, now=now)
    if edition is None:
        raise SendError(f"digest {week}: no new articles, nothing to send")
    rendered = render_edition(
        edition, site=site_view(settings), templates=template_source(settings)
    )
    values = dict(preview_substitutions(settings))
    values["name"] = values["name"] or PLACEHOLDER_FALLBACKS["name"]
    recipient = Recipient(
        delivery_id=0,
        email=address,
        substitutions=values,
        headers={
            "List-Unsubscribe": f"<{values['unsubscribe_url']}>",
            "List-Id": list_id(settings),
        },
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
