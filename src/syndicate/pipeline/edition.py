"""Editions: prepare (select and store once) and preview (render into the outbox)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from syndicate import content, mime
from syndicate.config import Settings
from syndicate.digest.render import (
    DEFAULT_TEMPLATE_DIR,
    PLACEHOLDER_FALLBACKS,
    SiteView,
    TemplateSource,
    first_name,
    personalize,
    render_edition,
)
from syndicate.digest.select import (
    edition_subject,
    iso_week,
    parse_week,
    select_edition_articles,
    week_bounds,
)
from syndicate.errors import InputError
from syndicate.feeds import write_atomically
from syndicate.models import Edition, Message
from syndicate.store import Store


class EditionError(InputError):
    """The week asked for cannot be prepared (bad text, or not yet begun)."""


def current_week(settings: Settings, now: datetime) -> str:
    return iso_week(now, ZoneInfo(settings.digest.timezone))


def prepare_edition(
    settings: Settings, store: Store, week: str, *, now: datetime
) -> Edition | None:
    """The stored edition of ``week``, created from the newest unsent articles on first use.

    Returns None when there is nothing new to put in it (nothing is stored then).
    """
    tz = ZoneInfo(settings.digest.timezone)
    try:
        parse_week(week)
        start, end = week_bounds(week, tz)
    except ValueError as exc:
        raise EditionError(f"--week: {exc}") from None
    existing = store.get_edition(week)
    if existing is not None:
        return existing
    if start > now:
        raise EditionError(
            f"--week: {week} has not begun yet (now is {current_week(settings, now)})"
        )
    candidates = store.edition_candidates(min(end, now), settings.digest.max_items)
    articles = select_edition_articles(candidates, settings.digest.max_items)
    if not articles:
        return None
    subject = edition_subject(
        settings.digest.subject, site=settings.site.title, week=week, count=len(articles)
    )
    return store.create_edition(week, now, subject, [article.guid for article in articles])


def site_view(settings: Settings) -> SiteView:
    return SiteView(
        title=settings.site.title,
        url=settings.site.url,
        timezone=ZoneInfo(settings.site.timezone),
        postal_address=settings.site.postal_address,
        language=settings.site.language,
        archive_base=f"{settings.web_url}archive/",
        subscribe_url=f"{settings.web_url}subscribe",
    )


def template_source(settings: Settings) -> TemplateSource:
    """The site's own templates/email first, then the defaults shipped with syndicate."""
    dirs = [settings.root / "templates" / "email", DEFAULT_TEMPLATE_DIR]
    return TemplateSource([d for d in dict.fromkeys(dirs) if d.is_dir()])


@dataclass
class PreviewReport:
    edition: Edition
    html: Path
    text: Path
    eml: Path


UNSUBSCRIBE = "unsubscribe"  # the page, and the purpose of its token
PREFERENCES = "preferences"


def link_url(settings: Settings, page: str, token: str) -> str:
    """``<web_url><page>?token=<token>``: every link to the web front, in every mail (preview,
    test copy, send, confirmation). Tokens are base64url and need no quoting."""
    return f"{settings.web_url}{page}?token={token}"


def recipient_links(settings: Settings, unsubscribe: str, preferences: str) -> dict[str, str]:
    """The digest's links for one recipient, from their two signed tokens."""
    return {
        "unsubscribe_url": link_url(settings, UNSUBSCRIBE, unsubscribe),
        "preferences_url": link_url(settings, PREFERENCES, preferences),
    }


def greeting(name: str) -> dict[str, str]:
    """The ``%%name%%`` and ``%%first_name%%`` values for a recipient (blank: "there")."""
    fallback = PLACEHOLDER_FALLBACKS["name"]
    return {"name": name or fallback, "first_name": first_name(name) or fallback}


def preview_substitutions(settings: Settings) -> Mapping[str, str]:
    """The substitutions of a preview and a test copy: the send's links with a stand-in
    token (they lead to the "link does not work" page)."""
    return {"name": "", **recipient_links(settings, "preview", "preview")}


def preview_edition(
    settings: Settings, store: Store, week: str, *, now: datetime
) -> PreviewReport | None:
    """Render ``week``'s edition into digest.html/.txt/.eml in the outbox; nothing is sent."""
    edition = prepare_edition(settings, store, week, now=now)
    if edition is None:
        return None
    rendered = render_edition(
        edition, site=site_view(settings), templates=template_source(settings)
    )
    html, text = personalize(rendered, preview_substitutions(settings))
    message = Message(
        to=settings.email.from_address,
        subject=rendered.subject,
        html=html,
        text=text,
        from_address=settings.email.from_address,
        from_name=settings.email.from_name or settings.site.title,
        message_id=f"<preview.{week}@{domain_of(settings.email.from_address)}>",
        headers={"List-Id": list_id(settings)},
    )
    eml = mime.to_bytes(mime.build_email(message, date=now))
    out = settings.path(settings.delivery.outbox_dir)
    write_atomically(
        out, {"digest.html": html.encode(), "digest.txt": text.encode(), "digest.eml": eml}
    )
    return PreviewReport(edition, out / "digest.html", out / "digest.txt", out / "digest.eml")


def list_id(settings: Settings) -> str:
    slug = content.slugify(settings.site.title)
    domain = domain_of(settings.email.from_address)
    return f"{content.header_safe(settings.site.title)} <{slug}.{domain}>"


def domain_of(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"
