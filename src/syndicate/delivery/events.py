"""One neutral model of what a mail provider reports after a send, whoever the provider.

SendGrid's Event Webhook (``sendgrid_events``) and the bounce mailbox's reports
(``reports``: RFC 3464 delivery status notifications, RFC 5965 complaint reports,
``mailto:`` unsubscribe requests) become ProviderEvents; the pipeline decides what each
does. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# The kinds that act on a subscriber, then those that only prove the message was accepted.
BOUNCE = "bounce"
COMPLAINT = "complaint"
UNSUBSCRIBE = "unsubscribe"
DELIVERED = "delivered"
ACCEPTED_KINDS = frozenset(
    {BOUNCE, COMPLAINT, UNSUBSCRIBE, DELIVERED, "accepted", "deferred", "dropped", "opened",
     "clicked", "resubscribe"}
)  # fmt: skip

BounceClass = Literal["hard", "soft", ""]


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """One report about one message (or address).

    ``provider_event_id`` is the provider's own id (or a hash of the report), unique per
    provider; ``bounce`` is "hard" (a 5.x.x status: permanent) or "soft" (4.x.x: transient)
    for a bounce; ``accepted`` says the report proves the provider took the message (an
    uncertain ledger row of it is settled as sent)."""

    provider: str
    provider_event_id: str
    kind: str
    email: str
    raw: str
    bounce: BounceClass = ""
    delivery_id: int | None = None
    week: str = ""
    timestamp: datetime | None = None
    status: str = ""  # the RFC 3463 status code ("5.1.1"), when one was given
    token: str = ""  # a signed unsubscribe token the report carried

    @property
    def accepted(self) -> bool:
        return self.kind in ACCEPTED_KINDS


def bounce_class(status: str) -> BounceClass:
    """Hard or soft by the status code's class, not the ``Action`` field: ``5.x.x`` is a
    permanent failure, ``4.x.x`` a transient one (RFC 3463); anything else is soft."""
    return "hard" if status.strip().startswith("5") else "soft"
