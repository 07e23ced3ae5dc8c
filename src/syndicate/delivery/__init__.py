"""Delivery: the Sender protocol and its backends (SendGrid, SMTP, outbox).

The backends are imported from their modules (``syndicate.delivery.sendgrid`` ...) by the
faces that build them; this package exports only the shared vocabulary.
"""

from syndicate.delivery.base import (
    DELIVERY_ID_ARG,
    WEEK_ARG,
    Batch,
    Outcome,
    OutcomeState,
    Recipient,
    RecipientRows,
    SendAborted,
    Sender,
)
from syndicate.errors import DeliveryError

__all__ = [
    "DELIVERY_ID_ARG",
    "WEEK_ARG",
    "Batch",
    "DeliveryError",
    "Outcome",
    "OutcomeState",
    "Recipient",
    "RecipientRows",
    "SendAborted",
    "Sender",
]
