"""Editions: prepare (select and store once) and preview (render into the outbox)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from syndicate import content, mime
from syndicate.config import Settings
from syndicate.digest.periods import (
    Period,
    archive_slug,
    check_cadence,
    parse_key,
    parse_period,
    parse_slug,
    period_of,
)
from syndicate.digest.render import (
    DEFAULT_TEMPLATE_DIR,
    PLACEHOLDER_FALLBACKS,
    SiteView,
    TemplateSource,
    first_name,
    headline,
    personalize,
    render_edition,
    variant_subject,
)
from syndicate.digest.select import iso_week, select_edition_articles
from syndicate.errors import InputError
from syndicate.feeds import write_atomically
from syndicate.models import Cadence, Edition, Message
from syndicate.store import Store


class EditionError(InputError):
    """The edition asked for cannot be prepared (bad text, not yet begun, a bad note)."""


NOTE_DIR = "digest"  # in the site folder: digest/<cadence>-<period>.md, the editor's note
NOTE_LIMIT = 64 * 1024  # bytes


def current_week(settings: Settings, now: datetime) -> str:
    return iso_week(now, settings.digest.zone)


def latest_complete(settings: Settings, cadence: Cadence, now: datetime) -> Period:
    """The last period of ``cadence`` that has ended at ``now``: what a send now covers."""
    return period_of(now, cadence, settings.digest.zone).shift(-1)


def choose_period(
    settings: Settings, cadence: str | None, period: str | None, *, now: datetime
) -> Period:
    """The period named by ``--cadence``/``--period`` (a bare ``2026-W47``, ``weekly:2026-W47``
    or ``weekly-2026-W47`` also say the cadence); without one, the last complete period of
    the cadence (default: digest.default_cadence)."""
    try:
        chosen = check_cadence(cadence) if cadence else None
        if period is None:
            found = latest_complete(settings, chosen or settings.digest.default_cadence, now)
        elif chosen is None:
            found = parse_key(period) if ":" in period else parse_slug(period)
        else:
            found = parse_period(chosen, period)
    except ValueError as exc:
        raise EditionError(f"--period: {exc}") from None
    if found.cadence not in settings.digest.cadences:
        enabled = ", ".join(settings.digest.cadences)
        raise EditionError(f"--cadence: {found.cadence} is not in digest.cadences ({enabled})")
    return found


def prepare_edition(
    settings: Settings, store: Store, period: Period | str, *, now: datetime
) -> Edition | None:
    """The edition of ``period`` as a send at ``now`` would send it: as frozen when its send
    started, else computed now from the period's articles (nothing is stored).

    Returns None when the period holds no article.
    """
    if isinstance(period, str):
        period = choose_period(settings, None, period, now=now)
    stored = store.get_edition(period.key)
    if stored is not None and stored.frozen:
        return stored if stored.articles else None
    start, end = period.bounds(settings.digest.zone)
    if start > now:
        latest = latest_complete(settings, period.cadence, now).name
        raise EditionError(
            f"--period: {period.cadence} {period.name} has not begun yet (the latest complete "
            f"one is {latest})"
        )
    limit = settings.digest.max_items
    articles, total = store.period_articles(start, end, now, limit)
    if not articles:
        return None
    return Edition(
        key=period.key,
        cadence=period.cadence,
        period=period.name,
        created_at=now,
        articles=tuple(select_edition_articles(articles, limit)),
        more=total - len(articles),
        note=read_note(settings, period),
    )


def read_note(settings: Settings, period: Period) -> str:
    """The editor's note for ``period`` (Markdown), "" when there is none."""
    path = settings.root / NOTE_DIR / f"{period.slug}.md"
    try:
        with path.open("rb") as handle:
            data = handle.read(NOTE_LIMIT + 1)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise EditionError(f"{path}: cannot read the note: {exc.strerror or exc}") from None
    if len(data) > NOTE_LIMIT:
        raise EditionError(f"{path}: the note is over {NOTE_LIMIT // 1024} KB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditionError(f"{path}: not UTF-8 (byte {exc.start})") from None


def freeze_edition(
    settings: Settings, store: Store, edition: Edition, now: datetime
) -> tuple[Edition, dict[str, int]]:
    """The edition stored as it is now, with its recipients and its every-category subject
    (the archive's title): (as stored, ledger rows made by variant, none if frozen before)."""
    if edition.frozen:
        return edition, {}
    site = site_view(settings)
    headlines = [headline(article, site) for article in edition.articles]
    subject = variant_subject(edition, site, headlines, settings.digest.subject)
    return store.freeze_edition(replace(edition, subject=subject), now)


def site_view(settings: Settings) -> SiteView:
    return SiteView(
        title=settings.site.title,
        url=settings.site.url,
        timezone=settings.site.zone,
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


GREETING_KEYS = ("name", "first_name")


def greeting(name: str) -> dict[str, str]:
    """The ``%%name%%`` and ``%%first_name%%`` values for a recipient (blank: "there")."""
    return dict(zip(GREETING_KEYS, greeting_values(name), strict=True))


def greeting_values(name: str) -> tuple[str, str]:
    """``greeting``'s values, in the order of GREETING_KEYS."""
    fallback = PLACEHOLDER_FALLBACKS["name"]
    return name or fallback, first_name(name) or fallback


def preview_substitutions(settings: Settings) -> Mapping[str, str]:
    """The substitutions of a preview and a test copy: the send's links with a stand-in
    token (they lead to the "link does not work" page)."""
    return {"name": "", **recipient_links(settings, "preview", "preview")}


def preview_edition(
    settings: Settings, store: Store, period: Period | str, *, now: datetime
) -> PreviewReport | None:
    """Render the edition a send now would send into digest.html/.txt/.eml in the outbox
    (the every-category variant); nothing is sent or stored."""
    edition = prepare_edition(settings, store, period, now=now)
    if edition is None:
        return None
    rendered = render_edition(
        edition,
        site=site_view(settings),
        templates=template_source(settings),
        subject=settings.digest.subject,
    )
    html, text = personalize(rendered, preview_substitutions(settings))
    message = Message(
        to=settings.email.from_address,
        subject=rendered.subject,
        html=html,
        text=text,
        from_address=settings.email.from_address,
        from_name=settings.email.from_name or settings.site.title,
        message_id=f"<preview.{message_slug(edition)}@{domain_of(settings.email.from_address)}>",
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


def message_slug(edition: Edition) -> str:
    """The edition's name in Message-IDs: a week as before (``2026-W47``), else
    ``daily-2026-11-23``; no colon, which a Message-ID may not hold."""
    return archive_slug(parse_key(edition.key))
