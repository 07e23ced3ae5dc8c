"""The words of the design as plain values. No I/O here."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Cadence = Literal["daily", "weekly", "monthly"]
CADENCES: tuple[Cadence, ...] = ("daily", "weekly", "monthly")


@dataclass(frozen=True, slots=True)
class Enclosure:
    """A file that goes with an article (a podcast's audio): absolute http(s) URL, media
    type, size in bytes (0 when the source does not say)."""

    url: str
    type: str
    length: int = 0


@dataclass(frozen=True, slots=True)
class Observation:
    """What one file (or feed entry) says about one article: a full text or a teaser card.

    ``key`` names the article within its source (a folder: the front matter's slug, else the
    title's slug; a feed: the entry's guid, else its link, else a hash of title and date);
    ``slug`` is the title's slug, by which a teaser card finds the full text it completes.
    """

    slug: str
    title: str
    published: datetime  # timezone-aware
    kind: str  # "full" | "teaser"
    category: str = ""
    summary: str = ""
    content: str = ""  # sanitized HTML; empty for a teaser
    author: str = ""
    link: str = ""  # front matter url (absolute) or slug (relative to site.url); "" = slug
    tags: tuple[str, ...] = ()
    key: str = ""  # "" when made: the slug
    draft: bool = False
    enclosures: tuple[Enclosure, ...] = ()

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.slug)


class ArticleStatus(enum.StrEnum):
    """Stored with each article. A published article dated in the future is *scheduled*: it
    is kept out of feeds and editions until its date has come (decided when they are read)."""

    PUBLISHED = "published"
    DRAFT = "draft"
    REMOVED = "removed"  # its files are gone; past editions and the archive still hold it


@dataclass(frozen=True, slots=True)
class Article:
    guid: str
    slug: str
    title: str
    link: str
    published: datetime
    category: str
    summary: str
    content: str  # sanitized HTML; "" for a teaser
    author: str = ""
    source: str = ""
    tags: tuple[str, ...] = ()
    first_seen: datetime | None = None
    updated: datetime | None = None
    content_hash: str = ""
    key: str = ""  # the article's identity within its source; "" = the slug
    status: ArticleStatus = ArticleStatus.PUBLISHED
    enclosures: tuple[Enclosure, ...] = ()

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.slug)


@dataclass(frozen=True, slots=True)
class Edition:
    """One digest issue: a period of a cadence, keyed ``weekly:2026-W47`` (the ledger's
    ``week``). ``articles`` are the period's newest, capped; ``more`` counts the rest.
    ``frozen`` once its send started: what was stored then is what it holds for good."""

    key: str
    cadence: Cadence
    period: str
    created_at: datetime
    articles: tuple[Article, ...]
    subject: str = ""
    more: int = 0
    note: str = ""  # the editor's Markdown note, "" = none
    frozen: bool = False

    @property
    def week(self) -> str:
        """The key under the name the ledger's columns have."""
        return self.key


@dataclass(frozen=True, slots=True)
class Announcement:
    """A one-off message to the list (issue 10): an edition without articles, keyed
    ``announcement:<YYYY-MM-DD>-<slug>``; ``html`` is sanitized, ``text`` plain.
    ``categories`` empty = every active subscriber."""

    key: str
    subject: str
    preheader: str
    html: str
    text: str
    categories: tuple[str, ...]
    created_at: datetime
    source_hash: str


ANNOUNCEMENT_PREFIX = "announcement:"  # an announcement's edition key: announcement:<day>-<slug>


def is_announcement(key: str) -> bool:
    return key.startswith(ANNOUNCEMENT_PREFIX)


class SubscriberStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    email: str
    name: str = ""
    status: SubscriberStatus = SubscriberStatus.PENDING
    categories: frozenset[str] = frozenset()  # empty = all categories
    created_at: datetime | None = None
    confirmed_at: datetime | None = None
    token_id: str = field(default="", compare=False)  # random: what links name (issue 13)
    cadence: Cadence = "weekly"


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    SUBMITTING = "submitting"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    SKIPPED = "skipped"  # unsubscribed (or removed) after the send froze the recipients


@dataclass(frozen=True, slots=True)
class Delivery:
    """One ledger row: edition x subscriber."""

    id: int
    week: str
    subscriber_id: int
    email: str
    state: DeliveryState
    variant: str = ""
    attempts: int = 0
    error: str = ""
    updated_at: datetime | None = None
    name: str = ""  # as at the freeze
    message_id: str = ""


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    """An edition rendered once: HTML (CSS inlined) and text, with placeholders.

    Placeholders such as ``%%unsubscribe_url%%`` are filled per recipient by substitution.
    """

    week: str
    subject: str
    html: str
    text: str
    categories: frozenset[str] = frozenset()  # the preference set this variant was made for


@dataclass(frozen=True, slots=True)
class Message:
    """One email, ready to send: what the renderer produces and a Sender only sends."""

    to: str
    subject: str
    html: str
    text: str
    from_address: str
    from_name: str = ""
    to_name: str = ""
    message_id: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    custom_args: dict[str, str] = field(default_factory=dict)
