"""Delivering an edition through the ledger: any edition, a digest or an announcement.

Order of events for one batch: rows are claimed (``submitting``, under this process's
sender id) and committed, the request goes out, the outcomes are committed (with the next
batch's claim, in its transaction: one commit a batch). A crash between the two commits
leaves ``submitting`` rows, which a later send marks ``uncertain`` once
their sender is known dead (pipeline.owners), and never resends on its own: at most once.
A sender that sends a batch message by message (SMTP) notes each in the send's journal
(pipeline.journal), so a crash leaves only one message of its batch in doubt.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from syndicate import tokens
from syndicate.config import Settings
from syndicate.delivery import WEEK_ARG, Batch, Outcome, RecipientRows, SendAborted, Sender
from syndicate.delivery.base import Row, all_clean
from syndicate.delivery.registry import send_concurrency
from syndicate.errors import DeliveryError
from syndicate.models import DeliveryState, RenderedDigest
from syndicate.pipeline.edition import (
    GREETING_KEYS,
    PREFERENCES,
    UNSUBSCRIBE,
    domain_of,
    greeting_values,
    link_url,
)
from syndicate.pipeline.journal import SendJournal
from syndicate.pipeline.mailheaders import BulkHeaders, mail_identity
from syndicate.pipeline.owners import Heartbeat, recover_dead
from syndicate.store import Store, variant_categories
from syndicate.store.ledger import ClaimedRow

Clock = Callable[[], datetime]
_Pending = Future[list[Outcome] | SendAborted]
Report = Callable[[str], None]
Render = Callable[[str], RenderedDigest]  # a variant -> its message, placeholders in

REMOVED = "-"  # the token subject for a subscriber who no longer exists
STOPPED = "stopped"  # the paused reason when should_stop asked the send to stop
# Why a send paused: too many failed requests in a row (the service retries it on its own),
# the provider refused it (bad credentials: only the operator can help), or asked to stop.
PauseKind = Literal["failures", "refused", "stopped"]
_SUBMITTING = DeliveryState.SUBMITTING.value
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


def deliver(
    settings: Settings,
    store: Store,
    sender: Sender,
    key: str,
    render: Render,
    freeze: Callable[[datetime], Mapping[str, int]],
    *,
    clock: Clock,
    on_event: Report | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
    share: Share | None = None,
) -> SendReport:
    """Send edition ``key`` to every recipient ``freeze`` wrote (once: its rows by variant,
    none when written before) that has not had it; ``render`` makes a variant's message.
    Under this process's heartbeat: rows only a dead sender had in flight become uncertain,
    and a live sender's are left to it.

    The send starts (the freeze, the look for a dead sender's rows, the pause cleared) and
    ends (``take_stock``, ``mark_outcome``) here, unless ``share`` says this is one worker of
    several: then their parent ends it, and only the first worker starts it."""
    secret = settings.secret_key
    if not secret:
        raise SendError("SYNDICATE_SECRET_KEY is not set: unsubscribe links cannot be signed")
    report = SendReport(week=key)
    with _frozen_heap(), Heartbeat(settings, store, key, clock) as me:
        made = freeze(clock())
        report.frozen = sum(made.values())
        if share is None or share.first:
            if not report.frozen:  # rows frozen just now are all pending: no dead sender's
                _recover(settings, store, report, clock(), on_event)
            store.mark_send_paused(key, None)
        if share is not None and share.first:
            share.started()
        loop = _SendLoop(settings, store, sender, key, render, secret, clock, report, should_stop)
        loop.owner = me.id
        variants = _variants_to_send(store, key, made, share)
        loop.progress, loop.total = progress, sum(count for _, count in variants)
        if getattr(sender, "journaled", False):
            loop.limit, loop.journal = 1, SendJournal.open(settings, me.id)
            if loop.journal is not None and loop.concurrency == 1:
                loop.limit = sender.max_batch
        try:
            for variant, count in variants:
                report.variants[variant_label(variant)] = count
                if not loop.run_variant(variant):
                    break
        finally:
            if loop.journal is not None:
                loop.journal.close()
        if share is None:  # registered still: this sender's own rows are not a dead one's
            take_stock(settings, store, report, clock, on_event, me.id)
    if share is None:
        mark_outcome(store, report, clock)
    return report


def _variants_to_send(
    store: Store, key: str, made: Mapping[str, int], share: Share | None
) -> list[tuple[str, int]]:
    """(variant, rows waiting) to send, by variant. Rows frozen just now are all pending; a
    worker that did not start the send counts none (the first one's count is the send's):
    a count walks every row of the edition, 0.12 s a million as the send starts."""
    if made:
        return sorted(made.items())
    if share is not None and not share.first:
        return [(variant, 0) for variant in store.frozen_variants(key)]
    return store.pending_variants(key)


@dataclass(frozen=True)
class Share:
    """One worker's part in a send shared by several (pipeline.workers).

    The first starts the send and then calls ``started``; the others start after that and
    skip its start: a second look for a dead sender's rows scanned the edition's rows again
    under the writer lock (0.15-0.2 s at a million, while the first waited to claim). None
    of them ends it: their parent does, once all have ended. A worker's own end, while the
    others settled their last batches, found their rows in flight and counted again."""

    first: bool
    started: Callable[[], None]


def take_stock(
    settings: Settings,
    store: Store,
    report: SendReport,
    clock: Clock,
    on_event: Report | None,
    me: str | None,
) -> None:
    """The ledger's counts as the send ends, in ``report``. One pass; the rows in flight (no
    index holds them) are looked for only when it counts some: a dead sender's become
    uncertain, and those of live senders other than ``me`` (None: any) are ``elsewhere``."""
    report.counts = store.delivery_counts(report.week)
    if report.counts[_SUBMITTING]:
        _recover(settings, store, report, clock(), on_event)
        report.elsewhere = store.in_flight_elsewhere(report.week, me)
        report.counts = store.delivery_counts(report.week)


def mark_outcome(store: Store, report: SendReport, clock: Clock) -> None:
    """The send paused, or finished when ``take_stock`` found nothing left to send."""
    if report.paused:
        store.mark_send_paused(report.week, report.paused, report.pause_kind, clock())
    elif not report.counts.get(DeliveryState.PENDING.value) and not report.elsewhere:
        store.mark_send_finished(report.week, clock())


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """What exists before the send (modules, settings, the store) lives on: frozen, the
    collector does not walk it again and again while the send makes its short-lived objects
    (a tenth of a SendGrid send's CPU). The collector stays on; all is unfrozen at the end."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _recover(
    settings: Settings, store: Store, report: SendReport, now: datetime, on_event: Report | None
) -> None:
    """Rows in flight with a dead sender become uncertain (never a live sender's)."""
    recovered = recover_dead(settings, store, report.week, now)
    report.recovered += recovered
    if recovered and on_event:
        on_event(f"{recovered} recipients were in flight with a dead sender: now uncertain")


class _SendLoop:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        sender: Sender,
        key: str,
        render: Render,
        secret: str,
        clock: Clock,
        report: SendReport,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.settings, self.store, self.sender = settings, store, sender
        self.key, self.render, self.secret = key, render, secret
        campaign, cadence, self.id_key = mail_identity(key)
        self.headers = BulkHeaders(settings, campaign, cadence)
        self.clock, self.report = clock, report
        self.should_stop = should_stop
        self.owner: str | None = None  # the registered sender whose batches these are
        self.limit = sender.max_batch  # rows a claim takes
        self.journal: SendJournal | None = None  # for a journaled sender (delivery.base)
        self.progress: Callable[[int, int], None] | None = None
        self.done = self.total = 0  # recipients settled, of those pending at the start
        self.failures_in_a_row = 0
        # Outcomes not yet written: the next claim writes them in its transaction.
        self.unsettled: dict[tuple[DeliveryState, str], list[int]] = {}
        self.unsubscribe = tokens.Signer(UNSUBSCRIBE, secret=secret, ttl=None)
        self.preferences = tokens.Signer(PREFERENCES, secret=secret, ttl=None)
        self.domain = domain_of(settings.email.from_address)
        self.concurrency = send_concurrency(settings)
        self.unsubscribe_page = link_url(settings, UNSUBSCRIBE, "")  # + the token
        self.preferences_page = link_url(settings, PREFERENCES, "")
        self.custom_args = {WEEK_ARG: key}
        # A recipient's row: (delivery id, email, name, *these values, *header values, Message-ID)
        self.keys = (*GREETING_KEYS, "unsubscribe_url", "preferences_url")
        # Every recipient's headers and Message-ID are made as this one's: checked once here.
        sample = self._recipient((1, 1, "x@example.com", "x", "token"), clock())
        self.headers_checked = all_clean(self._rows([sample]))

    def run_variant(self, variant: str) -> bool:
        """Send every pending row of one variant; False when the send paused."""
        try:
            return self._run_variant(variant)
        finally:
            self._flush()

    def _run_variant(self, variant: str) -> bool:
        rendered = self.render(variant)
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
            now = self.clock()
            claimed = self.store.claim_rows(
                self.key, variant, self.limit, now, self.owner, self.unsettled
            )
            self.unsettled = {}
            if not claimed:
                return
            yield Batch(
                subject=rendered.subject,
                html=rendered.html,
                text=rendered.text,
                from_address=self.settings.email.from_address,
                from_name=self.settings.email.from_name or self.settings.site.title,
                recipients=self._rows([self._recipient(row, now) for row in claimed]),
                custom_args=self.custom_args,
                journal=self.journal,
                headers=self.headers.fixed,
                headers_checked=self.headers_checked,
            )

    def _rows(self, rows: list[Row]) -> RecipientRows:
        return RecipientRows(self.keys, self.headers.names, rows)

    def _recipient(self, row: ClaimedRow, now: datetime) -> Row:
        delivery_id, subscriber, email, name, token_id = row
        # Links name the subscriber's random token id, never the sequential row id; a
        # subscriber removed meanwhile gets links that name nobody.
        subject = token_id or REMOVED
        unsubscribe = self.unsubscribe.sign(subject, now)
        unsubscribe_url = self.unsubscribe_page + unsubscribe
        return (
            delivery_id,
            email,
            name,
            *greeting_values(name),
            unsubscribe_url,
            self.preferences_page + self.preferences.sign(subject, now),
            *self.headers.values(unsubscribe_url, unsubscribe),
            f"<{self.id_key}.{delivery_id}.{subscriber or 0}@{self.domain}>",
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
        groups = self.unsettled
        for delivery_id, state, error in outcomes:
            groups.setdefault((_STATE[state], error), []).append(delivery_id)
        if self.journal is not None:  # it is cleared only once the outcomes are written
            self._flush()
            self.journal.clear()

    def _flush(self) -> None:
        if self.unsettled:
            self.store.finish_groups(self.unsettled, self.clock())
            self.unsettled = {}
