"""Render an edition once per preference set; personalize each copy by substitution.

The templates (``digest.html``, ``digest.txt``) come from the site's override folder first,
then the defaults in ``templates/email``. The HTML gets its CSS inlined by premailer once per
call. Both parts keep the placeholders ``%%name%%``, ``%%unsubscribe_url%%`` and
``%%preferences_url%%``, which ``personalize`` fills for each recipient: rendering costs
milliseconds, substitution microseconds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from premailer import Premailer

from syndicate.content import excerpt, strip_control
from syndicate.digest.select import parse_week
from syndicate.models import Article, Edition, RenderedDigest
from syndicate.placeholders import PLACEHOLDER, substitute
from syndicate.resources import email_templates

DEFAULT_TEMPLATE_DIR = email_templates()
HTML_TEMPLATE = "digest.html"
TEXT_TEMPLATE = "digest.txt"
SUMMARY_LIMIT = 300  # characters; keeps 20 headlines well under 100 KB of HTML
PREHEADER_TITLES = 3

# Used in place of a blank value, so that "Hi %%name%%," reads "Hi there,".
PLACEHOLDER_FALLBACKS: Mapping[str, str] = {"name": "there"}
_WORD_JOINER = "\u2060"  # invisible; splits a "%%" in article text so it is no placeholder

_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SiteView:
    """What the digest shows of the site: its settings without the rest of Settings."""

    title: str
    url: str
    timezone: ZoneInfo
    postal_address: str = ""
    language: str = "en"


@dataclass(frozen=True, slots=True)
class Headline:
    """One article as the templates see it: plain text only, cleaned and shortened."""

    category: str
    title: str
    link: str  # absolute http(s) URL, percent-encoded; "" when the article has none usable
    date: str  # "November 15, 2025" in the site's time zone
    iso_date: str  # "2025-11-15"
    summary: str


class TemplateSource:
    """The digest templates from ``dirs`` (first wins), one Jinja2 environment for all renders.

    With no dirs, the defaults shipped in ``templates/email`` are used. Autoescape is on for
    ``.html`` templates and off for ``.txt``; an undefined variable is an error.
    """

    def __init__(self, dirs: Sequence[Path] = ()) -> None:
        self.dirs: tuple[Path, ...] = tuple(dirs) or (DEFAULT_TEMPLATE_DIR,)
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.dirs),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        return self.environment.get_template(name).render(context)


def render_edition(
    edition: Edition,
    *,
    site: SiteView,
    templates: TemplateSource,
    categories: frozenset[str] = frozenset(),
) -> RenderedDigest:
    """The edition as HTML (CSS inlined) and text, with placeholders for each recipient.

    ``categories`` non-empty keeps only articles in those categories (case-insensitive): one
    variant per distinct preference set. A variant may have no headlines left; it then says
    so, and whether to send it is the caller's choice.
    """
    wanted = {c.casefold() for c in categories}
    headlines = [
        headline(article, site)
        for article in edition.articles
        if not wanted or article.category.casefold() in wanted
    ]
    context = _context(edition, site, headlines, categories)
    return RenderedDigest(
        week=edition.week,
        subject=edition.subject,
        html=inline_css(templates.render(HTML_TEMPLATE, context)),
        text=templates.render(TEXT_TEMPLATE, context),
        categories=categories,
    )


def _context(
    edition: Edition, site: SiteView, headlines: list[Headline], categories: Iterable[str]
) -> dict[str, Any]:
    count = len(headlines)
    noun = "article" if count == 1 else "articles"
    return {
        "site": site_context(site),
        "subject": clean_text(edition.subject),
        "week_label": week_label(edition.week),
        "intro": f"Here {'is' if count == 1 else 'are'} {count} new {noun} "
        f"from {clean_text(site.title)} this week.",
        "preheader": " · ".join(h.title for h in headlines[:PREHEADER_TITLES]),
        "headlines": headlines,
        "categories": sorted(clean_text(c) for c in categories),
    }


def site_context(site: SiteView) -> dict[str, Any]:
    """What every mail's templates see of the site."""
    return {
        "title": clean_text(site.title),
        "url": safe_link(site.url, site.url),
        "language": clean_text(site.language) or "en",
        "postal_lines": [
            line for line in (clean_text(s) for s in site.postal_address.splitlines()) if line
        ],
    }


def headline(article: Article, site: SiteView) -> Headline:
    """An article's card: cleaned text, the date in the site's time zone, the link made
    absolute against the site's URL, the summary cut at about 300 characters."""
    if article.published.tzinfo is None:
        raise ValueError(f"article {article.guid}: published time has no time zone")
    local = article.published.astimezone(site.timezone)
    return Headline(
        category=clean_text(article.category),
        title=clean_text(article.title) or "(untitled)",
        link=safe_link(article.link, site.url),
        date=format_date(local.date()),
        iso_date=local.date().isoformat(),
        summary=clean_text(excerpt(article.summary, SUMMARY_LIMIT)),
    )


def clean_text(text: str) -> str:
    """Untrusted text for a template: no control characters, whitespace folded, and no
    ``%%`` that ``personalize`` could mistake for a placeholder."""
    return " ".join(strip_control(text).split()).replace("%%", f"%{_WORD_JOINER}%")


_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def safe_link(link: str, base: str) -> str:
    """``link`` made absolute against ``base`` and percent-encoded, or "" unless http(s).

    A ``%`` that starts no escape becomes ``%25``, so no link holds a ``%%`` placeholder."""
    url = urljoin(base, " ".join(strip_control(link).split())) if link.strip() else ""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return ""
    return quote(_STRAY_PERCENT.sub("%25", url), safe=_URL_SAFE)


def format_date(day: date) -> str:
    """``November 15, 2025``; English month names whatever the process locale."""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def week_label(week: str) -> str:
    """``Week 47 · November 16 – 22, 2026``: the ISO week's Monday to Sunday."""
    year, number = parse_week(week)
    first = date.fromisocalendar(year, number, 1)
    last = first + timedelta(days=6)
    if first.year != last.year:
        span = f"{format_date(first)} – {format_date(last)}"
    elif first.month != last.month:
        span = f"{_MONTHS[first.month - 1]} {first.day} – {format_date(last)}"
    else:
        span = f"{_MONTHS[first.month - 1]} {first.day} – {last.day}, {last.year}"
    return f"Week {number} · {span}"


def inline_css(markup: str) -> str:
    """Move the ``<style>`` rules into style attributes; @media and :hover rules stay."""
    return str(
        Premailer(
            markup,
            allow_network=False,
            allow_loading_external_files=False,
            disable_link_rewrites=True,
            disable_validation=True,  # cssutils validation doubles the time, finds nothing
            strip_important=False,  # the leftover @media rules need !important to win
            align_floating_images=False,
            cssutils_logging_level=logging.CRITICAL,
        ).transform(pretty_print=True)
    )


def personalize(rendered: RenderedDigest, substitutions: Mapping[str, str]) -> tuple[str, str]:
    """(html, text) for one recipient: every ``%%key%%`` replaced by its value.

    Each value is put on one line, then HTML-escaped (quotes too, so it is safe in an
    attribute) for the HTML part and used as it is in the text part. A blank ``name``
    becomes "there" ("Hi there,"). A placeholder with no value is a ValueError naming it.
    """
    values = {key: _one_line(key, value) for key, value in substitutions.items()}
    missing = sorted(
        {key for part in (rendered.html, rendered.text) for key in PLACEHOLDER.findall(part)}
        - values.keys()
    )
    if missing:
        names = ", ".join(f"%%{key}%%" for key in missing)
        raise ValueError(f"digest {rendered.week}: no value for placeholder {names}")
    return substitute(rendered.html, values, escape=True), substitute(rendered.text, values)


def _one_line(key: str, value: str) -> str:
    folded = " ".join(strip_control(value).split())
    return folded or PLACEHOLDER_FALLBACKS.get(key, "")
