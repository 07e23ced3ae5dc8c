"""One-off announcements (issue 10): their edition key, their date line, and rendering.

An announcement is an edition without articles, keyed ``announcement:<YYYY-MM-DD>-<slug>``
(the day in the digest's time zone). Its message is rendered once, with the templates
``announcement.html`` and ``announcement.txt``, which share the digest's head, masthead and
footer; per recipient only the placeholders are filled, as for the digest.
"""

from __future__ import annotations

from datetime import date

from markupsafe import Markup

from syndicate.digest.periods import format_date
from syndicate.digest.render import (
    SiteView,
    TemplateSource,
    clean_text,
    inline_css,
    site_context,
)
from syndicate.models import ANNOUNCEMENT_PREFIX, Announcement, RenderedDigest

PREFIX = ANNOUNCEMENT_PREFIX
SLUG_LIMIT = 40  # the key stays within the 64 characters of an edition key
HTML_TEMPLATE = "announcement.html"
TEXT_TEMPLATE = "announcement.txt"
_WORD_JOINER = "\u2060"


def announcement_key(day: date, slug: str) -> str:
    """``announcement:2026-12-02-our-move`` (the slug cut at a word to 40 characters)."""
    cut = slug[:SLUG_LIMIT]
    if len(slug) > SLUG_LIMIT and "-" in cut:
        cut = cut.rpartition("-")[0]
    return f"{PREFIX}{day.isoformat()}-{cut.strip('-') or 'announcement'}"


def announcement_label(key: str) -> str:
    """``Announcement · December 2, 2026``."""
    try:
        day = date.fromisoformat(key.removeprefix(PREFIX)[:10])
    except ValueError:
        return "Announcement"
    return f"Announcement · {format_date(day)}"


def render_announcement(
    item: Announcement, *, site: SiteView, templates: TemplateSource
) -> RenderedDigest:
    """The message as HTML (CSS inlined) and text, with placeholders for each recipient."""
    no_placeholders = f"%{_WORD_JOINER}%"
    context = {
        "site": site_context(site),
        "subject": clean_text(item.subject),
        "preheader": clean_text(item.preheader),
        "week_label": announcement_label(item.key),
        # Sanitized when it was announced (content.markdown_to_html); no "%%" that
        # personalize could take for a placeholder.
        "body": Markup(item.html.replace("%%", no_placeholders)),
        "text": item.text.replace("%%", no_placeholders),
        "categories": [],
    }
    return RenderedDigest(
        week=item.key,
        subject=item.subject,
        html=inline_css(templates.render(HTML_TEMPLATE, context)),
        text=templates.render(TEXT_TEMPLATE, context),
        categories=frozenset(),
    )
