"""`syndicate announce FILE.md` (issue 10): a one-off message to the list.

The file is Markdown with YAML front matter: ``subject`` (required), ``preheader`` and
``slug`` (optional; the slug of the subject by default). It becomes an edition keyed
``announcement:<today in digest.timezone>-<slug>`` with no articles, its recipients frozen
in the ledger (every active subscriber, or those of the given categories and those who take
every category), and goes out through the same delivery loop as the digest: owners and
heartbeats, crash safety, pauses, the same headers and links. Announcing the same file again
resumes that send, even on another day (nobody gets it twice); another text under the same
key is refused. Once
its send has started it is in the archive.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from syndicate.config import Settings
from syndicate.content import html_to_text, markdown_to_html, slugify, strip_control
from syndicate.delivery import Sender
from syndicate.digest.announcement import announcement_key, render_announcement
from syndicate.models import Announcement, RenderedDigest, SubscriberStatus
from syndicate.pipeline.delivering import Clock, Report, SendReport, deliver
from syndicate.pipeline.edition import site_view, template_source
from syndicate.pipeline.subscriptions import UnknownCategory, check_categories, site_categories
from syndicate.sources import ParseError
from syndicate.sources.folder import front_matter
from syndicate.store import Store

KEYS = ("subject", "preheader", "slug")
MAX_FILE = 1_000_000  # bytes: an announcement is a page, not a book


class AnnounceError(Exception):
    """The announcement cannot go out; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class AnnounceReport:
    item: Announcement
    recipients: int  # how many it goes (or would go) to
    send: SendReport | None = None  # None for a dry run


def read_announcement(path: Path, settings: Settings, now: datetime) -> Announcement:
    """The file as an Announcement keyed for today; AnnounceError in one line."""
    raw = _read(path)
    try:
        meta, body = front_matter(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise AnnounceError(f"{path}: not UTF-8 text") from None
    except ParseError as exc:
        raise AnnounceError(f"{path}: {exc}") from None
    subject, preheader, slug = (_text(path, meta, key) for key in KEYS)
    unknown = sorted(str(key) for key in meta if key not in KEYS)
    if unknown:
        raise AnnounceError(
            f"{path}: front matter: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})"
        )
    if not subject:
        raise AnnounceError(f"{path}: front matter: 'subject' is missing or empty")
    html = markdown_to_html(body)
    text = html_to_text(html)
    if not text.strip():
        raise AnnounceError(f"{path}: the message below the front matter is empty")
    day = now.astimezone(settings.digest.zone).date()
    return Announcement(
        key=announcement_key(day, slugify(slug or subject)),
        subject=subject,
        preheader=preheader,
        html=html,
        text=text,
        categories=(),
        created_at=now,
        source_hash=hashlib.sha256(raw).hexdigest(),
    )


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE:
            raise AnnounceError(f"{path}: larger than {MAX_FILE:,} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise AnnounceError(f"{path}: cannot read it: {exc.strerror or exc}") from None


def _text(path: Path, meta: dict[str, Any], key: str) -> str:
    value = meta.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise AnnounceError(f"{path}: front matter: {key!r} must be text")
    return " ".join(strip_control(str(value)).split())


def announce(
    settings: Settings,
    store: Store,
    sender: Sender | None,
    path: Path,
    categories: Iterable[str] = (),
    *,
    clock: Clock,
    on_event: Report | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AnnounceReport:
    """Send the announcement in ``path`` (resuming it if it was sent before); with no
    ``sender``, a dry run: how many it would reach, nothing written."""
    now = clock()
    item = read_announcement(path, settings, now)
    try:
        chosen = check_categories(site_categories(store, settings), categories)
    except UnknownCategory as exc:
        raise AnnounceError(f"--categories: {exc}") from None
    item = replace(item, categories=tuple(sorted(chosen)))
    if sender is None:
        return AnnounceReport(item, _reach(store, chosen))
    # The same file announced again (another day too: after a crash at midnight) resumes
    # the send it started, so nobody gets it twice.
    before = store.announcement_by_hash(item.source_hash)
    if before is not None and before.categories == item.categories:
        item = before
    stored = store.create_announcement(item)
    if stored.source_hash != item.source_hash or stored.categories != item.categories:
        raise AnnounceError(
            f"{path}: {item.key} was announced already with another text or other "
            "categories; give this one its own 'slug:' in the front matter"
        )
    site, templates = site_view(settings), template_source(settings)

    def render(_variant: str) -> RenderedDigest:
        return render_announcement(stored, site=site, templates=templates)

    def freeze(at: datetime) -> dict[str, int]:
        return store.freeze_recipients(item.key, at, chosen, everyone=not chosen)

    report = deliver(
        settings, store, sender, item.key, render, freeze,
        clock=clock, on_event=on_event, progress=progress,
    )  # fmt: skip
    return AnnounceReport(stored, sum(report.counts.values()), report)


def _reach(store: Store, categories: frozenset[str]) -> int:
    """How many active subscribers an announcement to ``categories`` (empty: all) reaches."""
    if not categories:
        return store.subscriber_counts().get(SubscriberStatus.ACTIVE.value, 0)
    wanted = {c.casefold() for c in categories}
    return sum(
        1
        for subscriber in store.list_subscribers(SubscriberStatus.ACTIVE)
        if not subscriber.categories or wanted & {c.casefold() for c in subscriber.categories}
    )
