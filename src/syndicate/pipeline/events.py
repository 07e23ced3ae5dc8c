"""What mail providers tell us after a send, as neutral events, and what we do with them.

The events come from SendGrid's Event Webhook (the web front checks the signature and
hands over the body: ``syndicate.delivery.sendgrid_events``) and from the bounce mailbox
(``pipeline.bounces``). A batch of events is recorded in one transaction (a bulk insert),
each once (by provider and the provider's id), and acted on in it:

- a hard bounce (a 5.x.x status): the subscriber becomes ``bounced``; a soft one (4.x.x)
  only after ``bounces.soft_limit`` soft bounces in a row (no delivery between);
- a complaint: ``complained``;
- an unsubscribe: ``unsubscribed``.

A status only moves towards the stronger: complained > bounced > unsubscribed > active or
pending, so a late unsubscribe never turns a complaint back into something milder.

Every event about a message proves that the provider accepted it, so an ``uncertain``
ledger row of that message (by the delivery id and week the send put on it, else by
address and week) is settled as ``sent``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from syndicate.delivery.events import BOUNCE, COMPLAINT, UNSUBSCRIBE, ProviderEvent
from syndicate.digest.periods import parse_key
from syndicate.log import EventLog
from syndicate.models import SubscriberStatus
from syndicate.store import EventEffect, Store, WebhookEvent

log = EventLog("syndicate.events")

DEFAULT_SOFT_LIMIT = 3
_S = SubscriberStatus
_STRENGTH = {_S.ACTIVE: 0, _S.PENDING: 0, _S.UNSUBSCRIBED: 1, _S.BOUNCED: 2, _S.COMPLAINED: 3}
_BY_KIND = {BOUNCE: _S.BOUNCED, COMPLAINT: _S.COMPLAINED, UNSUBSCRIBE: _S.UNSUBSCRIBED}


@dataclass
class EventsReport:
    received: int = 0
    new: int = 0  # recorded now; the rest had been recorded before
    status_changes: int = 0
    settled: int = 0

    @property
    def duplicates(self) -> int:
        return self.received - self.new

    def as_json(self) -> dict[str, int]:
        return {
            "received": self.received,
            "new": self.new,
            "duplicates": self.duplicates,
            "status_changes": self.status_changes,
            "settled": self.settled,
        }


# --- pure: deciding -----------------------------------------------------------------------


def to_record(event: ProviderEvent) -> WebhookEvent:
    """The row recorded for an event."""
    return WebhookEvent(
        provider_event_id=event.provider_event_id,
        event=event.kind,
        email=event.email,
        raw=event.raw,
        delivery_id=event.delivery_id,
        week=edition_key(event.week),
        timestamp=event.timestamp,
        provider=event.provider,
        bounce=event.bounce,
    )


def edition_key(text: str) -> str:
    """An event's edition as a key: mails sent before cadences carry a bare ISO week
    (``2026-W47``), which is the weekly edition ``weekly:2026-W47``."""
    try:
        return parse_key(text).key
    except ValueError:
        return text  # not an edition this code knows (a test copy, say): matches no row


def decide(
    event: ProviderEvent, *, soft_in_a_row: int = 0, soft_limit: int = DEFAULT_SOFT_LIMIT
) -> EventEffect:
    """What one event does to its subscriber and its ledger row (see the module's doc).

    ``soft_in_a_row`` counts the address's soft bounces before this one."""
    status = _BY_KIND.get(event.kind)
    if event.kind == BOUNCE and event.bounce != "hard" and soft_in_a_row + 1 < soft_limit:
        status = None
    replaces: frozenset[SubscriberStatus] = frozenset()
    if status is not None:
        replaces = frozenset(s for s, n in _STRENGTH.items() if n < _STRENGTH[status])
    return EventEffect(status=status, replaces=replaces, settle=event.accepted)


# --- the job ------------------------------------------------------------------------------


def process_events(
    store: Store,
    events: Sequence[ProviderEvent],
    now: datetime,
    *,
    soft_limit: int = DEFAULT_SOFT_LIMIT,
) -> EventsReport:
    """Record and act on each event once, the whole batch in one transaction; repeats change
    nothing."""
    report = EventsReport(received=len(events))
    soft_seen: Counter[str] = Counter()
    batch = []
    for event in events:
        before = 0
        if event.kind == BOUNCE and event.bounce == "soft" and event.email:
            key = event.email.lower()
            before = store.soft_bounces_in_a_row(event.email) + soft_seen[key]
            soft_seen[key] += 1
        batch.append((to_record(event), decide(event, soft_in_a_row=before, soft_limit=soft_limit)))
    for outcome in store.record_events(batch, now) if batch else ():
        report.new += outcome.new
        report.status_changes += outcome.status is not None
        report.settled += outcome.settled
    if report.received:
        log.info(
            "events.processed",
            received=report.received,
            new=report.new,
            status_changes=report.status_changes,
            settled=report.settled,
        )
    return report
