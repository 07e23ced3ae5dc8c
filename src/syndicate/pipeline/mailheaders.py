"""The headers that tell mailbox providers what a message is, honestly.

- ``List-Unsubscribe``: the https one-click URL (RFC 8058, with ``List-Unsubscribe-Post``);
  a ``mailto:`` only when ``email.unsubscribe_mailbox`` names a mailbox that the bounce
  reader processes (``syndicate bounces fetch``), never the From address nobody reads.
- ``Feedback-ID``: ``campaign:cadence:list:sender`` (Gmail's feedback loop groups complaints
  by it; none of its fields is per recipient).
- ``X-Auto-Response-Suppress: OOF, AutoReply``: Exchange sends no out-of-office replies.
"""

from __future__ import annotations

from syndicate import content
from syndicate.config import Settings
from syndicate.digest.periods import archive_slug, parse_key
from syndicate.mime import checked_header
from syndicate.models import is_announcement
from syndicate.pipeline.edition import domain_of, list_id

AUTO_RESPONSE_SUPPRESS = "OOF, AutoReply"
FEEDBACK_SENDER = "syndicate"


def mail_identity(key: str) -> tuple[str, str, str]:
    """What a send's mails call it: (campaign and cadence for Feedback-ID, the name in
    Message-IDs). ``weekly:2026-W47`` -> ("2026-W47", "weekly", "2026-W47"); an announcement
    ``announcement:2026-12-02-news`` -> ("2026-12-02-news", "announcement", "announcement.
    2026-12-02-news"). Never a ``:`` in the Message-ID name (its left part may not hold one)."""
    if is_announcement(key):
        kind, _, name = key.partition(":")
        return name, kind, key.replace(":", ".")
    period = parse_key(key)
    return period.name, period.cadence, archive_slug(period)


def feedback_id(settings: Settings, campaign: str, cadence: str) -> str:
    """``campaign:cadence:list:sender``; each part is kept to letters, digits, ``-`` and
    ``.`` (a ``:`` inside one would shift the fields)."""
    parts = (
        campaign,
        cadence,
        content.slugify(settings.site.title) or "list",
        domain_of(settings.email.from_address),
    )
    return ":".join(_part(p) for p in parts) + f":{FEEDBACK_SENDER}"


def _part(text: str) -> str:
    kept = "".join(c if c.isascii() and (c.isalnum() or c in "-.") else "-" for c in text)
    return kept.strip("-") or "-"


class BulkHeaders:
    """The per-recipient headers of a digest (or any list mail), built once per send: the
    one place that composes them (the senders check a batch's values once, in bulk)."""

    def __init__(self, settings: Settings, campaign: str, cadence: str) -> None:
        mailbox = settings.email.unsubscribe_mailbox
        self.mailto = f"mailto:{mailbox}?subject=unsubscribe%20" if mailbox else ""
        fixed = {
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": list_id(settings),
            "Feedback-ID": feedback_id(settings, campaign, cadence),
            "X-Auto-Response-Suppress": AUTO_RESPONSE_SUPPRESS,
        }
        # Checked here once for the whole send; per recipient only List-Unsubscribe is new.
        self.fixed = {name: checked_header(name, value) for name, value in fixed.items()}

    names = ("List-Unsubscribe",)  # the per-recipient headers, in the order of ``values``

    def for_recipient(self, unsubscribe_url: str, token: str) -> dict[str, str]:
        """``token`` is the signed unsubscribe token (base64url and dots: nothing in it
        needs quoting in a mailto URL). The rest of the headers, ``fixed``, are the same for
        every recipient: they are the batch's (``Batch.headers``)."""
        return dict(zip(self.names, self.values(unsubscribe_url, token), strict=True))

    def values(self, unsubscribe_url: str, token: str) -> tuple[str]:
        """``for_recipient``'s values, in the order of ``names``."""
        if self.mailto:
            return (f"<{unsubscribe_url}>, <{self.mailto}{token}>",)
        return (f"<{unsubscribe_url}>",)


def transactional_headers(settings: Settings, campaign: str) -> dict[str, str]:
    """A mail sent because of what one person did (confirmation, welcome)."""
    return {
        "Auto-Submitted": "auto-generated",
        "Feedback-ID": feedback_id(settings, campaign, "transactional"),
        "X-Auto-Response-Suppress": AUTO_RESPONSE_SUPPRESS,
    }
