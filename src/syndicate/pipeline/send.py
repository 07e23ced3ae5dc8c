"""The send job: an edition to every active subscriber, driven by the ledger (the loop is
in pipeline.delivering); a dry run, the operator's resend, a test copy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from syndicate.config import Settings
from syndicate.delivery import WEEK_ARG, Batch, Outcome, Recipient, SendAborted, Sender
from syndicate.digest.render import PLACEHOLDER_FALLBACKS, render_edition
from syndicate.models import RenderedDigest, SubscriberStatus
from syndicate.pipeline.delivering import (
    REMOVED,
    STOPPED,
    Clock,
    PauseKind,
    Report,
    SendError,
    SendReport,
    deliver,
    variant_label,
)
from syndicate.pipeline.edition import (
    PREFERENCES,
    UNSUBSCRIBE,
    domain_of,
    list_id,
    prepare_edition,
    preview_substitutions,
    site_view,
    template_source,
)
from syndicate.pipeline.owners import requeue_uncertain
from syndicate.store import SenderRow, Store, variant_categories, variant_key

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
    if edition is None:
        return SendReport(week=week)
    if not settings.secret_key:
        raise SendError("SYNDICATE_SECRET_KEY is not set: unsubscribe links cannot be signed")
    categories = frozenset(article.category for article in edition.articles)
    site, templates = site_view(settings), template_source(settings)

    def render(variant: str) -> RenderedDigest:
        wanted = variant_categories(variant)
        return render_edition(edition, site=site, templates=templates, categories=wanted)

    return deliver(
        settings,
        store,
        sender,
        week,
        render,
        lambda _: store.freeze_recipients(week, now, categories),
        clock=clock,
        on_event=on_event,
        should_stop=should_stop,
        progress=progress,
    )


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
