"""The bounce mailbox job: read its reports, record them as provider events, delete them.

For SMTP senders (SendGrid reports through its webhook). Each report is matched to the
ledger by the bounced message's Message-ID (delivery id and week) or by the signed
unsubscribe token it carries, and becomes an address; then ``events.process_events``
records and acts on the whole fetch in one transaction. Only then are the messages that
were reports deleted from the mailbox; the others stay for a person to read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from syndicate import tokens
from syndicate.config import Settings
from syndicate.delivery.events import ProviderEvent
from syndicate.delivery.imap import ImapMailbox, MailboxAddress, MailboxError
from syndicate.delivery.reports import parse_report
from syndicate.log import EventLog
from syndicate.pipeline.edition import UNSUBSCRIBE
from syndicate.pipeline.events import EventsReport, process_events
from syndicate.pipeline.subscriptions import unsubscribe
from syndicate.store import Store

log = EventLog("syndicate.bounces")


class Mailbox(Protocol):
    def fetch(self, limit: int = 500) -> list[tuple[int, bytes]]: ...

    def delete(self, uids: list[int]) -> None: ...

    def close(self) -> None: ...


class BounceError(Exception):
    """The bounce mailbox is not configured or cannot be read (one line)."""


@dataclass
class BounceReport:
    messages: int = 0  # read from the mailbox
    reports: int = 0  # of them, reports we understood (deleted afterwards)
    unmatched: int = 0  # events naming no address we could find
    unsubscribed: int = 0  # by mailto: requests
    events: EventsReport = field(default_factory=EventsReport)

    def summary(self) -> str:
        return (
            f"bounce mailbox: {self.messages} messages, {self.reports} reports, "
            f"{self.events.new} new events, {self.events.status_changes} status changes, "
            f"{self.unsubscribed} unsubscribed by mail, {self.unmatched} unmatched"
        )


def open_mailbox(settings: Settings) -> ImapMailbox:
    """The configured bounce mailbox, logged in; BounceError says why not."""
    bounces = settings.bounces
    if not bounces.imap_url:
        raise BounceError("bounces.imap_url is not set: there is no bounce mailbox to read")
    password = os.environ.get(bounces.password_env, "")
    if not password:
        raise BounceError(f"bounces.password_env: ${bounces.password_env} is not set")
    try:
        return ImapMailbox(
            MailboxAddress.parse(bounces.imap_url), password, timeout=bounces.timeout
        )
    except MailboxError as exc:
        raise BounceError(str(exc)) from None


def fetch_bounces(
    settings: Settings,
    store: Store,
    *,
    now: datetime,
    mailbox_factory: Callable[[Settings], Mailbox] = open_mailbox,
) -> BounceReport:
    """Read the bounce mailbox once: record its reports, act on them, delete them."""
    try:
        mailbox = mailbox_factory(settings)
    except MailboxError as exc:
        raise BounceError(str(exc)) from None
    report = BounceReport()
    try:
        messages = mailbox.fetch()
        report.messages = len(messages)
        events: list[ProviderEvent] = []
        done: list[int] = []
        for uid, raw in messages:
            found = parse_report(raw, unsubscribe_mailbox=settings.email.unsubscribe_mailbox)
            if found:
                done.append(uid)
                events += found
        report.reports = len(done)
        matched = [m for m in (_matched(settings, store, e, now, report) for e in events) if m]
        report.events = process_events(store, matched, now, soft_limit=settings.bounces.soft_limit)
        mailbox.delete(done)
    finally:
        mailbox.close()
    log.info("bounces.fetched", summary=report.summary())
    return report


def _matched(
    settings: Settings, store: Store, event: ProviderEvent, now: datetime, report: BounceReport
) -> ProviderEvent | None:
    """The event with the address it is about, from the ledger or the token; a ``mailto:``
    unsubscribe request is carried out here (it is the subscriber's own request)."""
    if event.kind == "unsubscribe" and event.token:
        return _unsubscribe_by_mail(settings, store, event, now, report)
    email = ""
    if event.delivery_id is not None and event.week:
        email = store.delivery_address(event.delivery_id, event.week) or ""
    if not email and event.token:
        email = _token_address(settings, store, event.token, now)
    email = email or event.email
    if not email:
        report.unmatched += 1
        return None
    return replace(event, email=email)


def _unsubscribe_by_mail(
    settings: Settings, store: Store, event: ProviderEvent, now: datetime, report: BounceReport
) -> ProviderEvent | None:
    email = _token_address(settings, store, event.token, now)
    if not email:
        report.unmatched += 1
        return None
    unsubscribe(settings, store, event.token, now=now)
    report.unsubscribed += 1
    return replace(event, email=email)


def _token_address(settings: Settings, store: Store, token: str, now: datetime) -> str:
    secret = settings.secret_key
    if not secret:
        return ""
    try:
        subject = tokens.verify(
            token, UNSUBSCRIBE, secret=secret, now=now, previous=settings.previous_secret_keys
        )
    except tokens.TokenError:
        return ""
    found = (
        store.subscriber_by_token_id(subject)
        if isinstance(subject, str)
        else store.get_subscriber(subject)
    )
    return found.email if found is not None else ""
