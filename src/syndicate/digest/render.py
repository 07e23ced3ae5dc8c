"""Render an edition once per preference set; personalize each copy by substitution.

The templates (``digest.html``, ``digest.txt``) come from the site's override folder first,
then the defaults in ``templates/email``. The HTML gets its CSS inlined by premailer once per
call. Both parts keep the placeholders ``%%name%%``, ``%%unsubscribe_url%%`` and
``%%preferences_url%%``, which ``personalize`` fills for each recipient: rendering costs
milliseconds, substitution microseconds.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup
from premailer import Premailer

from syndicate.config.digest import DEFAULT_SUBJECT
from syndicate.content import html_to_text, markdown_to_html, one_line, sanitize_html
from syndicate.digest.periods import archive_slug, format_date, parse_key
from syndicate.digest.select import edition_subject
from syndicate.models import Article, Edition, RenderedDigest
from syndicate.placeholders import PLACEHOLDER, substitute
from syndicate.resources import email_templates

DEFAULT_TEMPLATE_DIR = email_templates()
HTML_TEMPLATE = "digest.html"
TEXT_TEMPLATE = "digest.txt"
PREHEADER_TITLES = 3

# Used in place of a blank value, so that "Hi %%name%%," reads "Hi there,".
PLACEHOLDER_FALLBACKS: Mapping[str, str] = {"name": "there", "first_name": "there"}
_WORD_JOINER = "\u2060"  # invisible; splits a "%%" in article text so it is no placeholder


@dataclass(frozen=True, slots=True)
class SiteView:
    """What the digest shows of the site: its settings without the rest of Settings."""

    title: str
    url: str
    timezone: ZoneInfo
    postal_address: str = ""
    language: str = "en"
    archive_base: str = ""  # the web archive's URL ("…/archive/"); "" = no "view in browser"
    subscribe_url: str = ""  # the subscribe page; "" = no subscribe line for forwarded copies


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
    subject: str = DEFAULT_SUBJECT,
) -> RenderedDigest:
    """The edition as HTML (CSS inlined) and text, with placeholders for each recipient.

    ``categories`` non-empty keeps only articles in those categories (case-insensitive): one
    variant per distinct preference set. Subject, ``<title>``, preheader and intro are this
    variant's: its own count and headlines (``subject`` is digest.subject's template). A
    variant may have no headlines left; it then says so, and whether to send it is the
    caller's choice.
    """
    wanted = {c.casefold() for c in categories}
    headlines = [
        headline(article, site)
        for article in edition.articles
        if not wanted or article.category.casefold() in wanted
    ]
    line = variant_subject(edition, site, headlines, subject)
    context = _context(edition, site, headlines, categories, line) | reader_context(
        edition, site, headlines
    )
    return RenderedDigest(
        week=edition.week,
        subject=line,
        html=inline_css(templates.render(HTML_TEMPLATE, context)),
        text=templates.render(TEXT_TEMPLATE, context),
        categories=categories,
    )


def variant_subject(
    edition: Edition, site: SiteView, headlines: Sequence[Headline], template: str
) -> str:
    """The subject of one variant: digest.subject filled with its own count and headline."""
    period = parse_key(edition.key)
    return edition_subject(
        template,
        site=site.title,
        week=period.name,
        count=len(headlines),
        top_title=headlines[0].title if headlines else "",
        period=period.name,
        label=period.label,
        cadence=period.cadence,
    )


def _context(
    edition: Edition,
    site: SiteView,
    headlines: list[Headline],
    categories: Iterable[str],
    subject: str,
) -> dict[str, Any]:
    count = len(headlines)
    noun = "article" if count == 1 else "articles"
    period = parse_key(edition.key)
    return {
        "site": site_context(site),
        "subject": clean_text(subject),
        "week_label": period.label,
        "period_label": period.label,
        "period": period.name,
        "period_phrase": period.phrase,
        "cadence": period.cadence,
        "count": count,
        "intro": f"Here {'is' if count == 1 else 'are'} {count} new {noun} "
        f"from {clean_text(site.title)} {period.phrase}.",
        "preheader": " · ".join(h.title for h in headlines[:PREHEADER_TITLES]),
        "headlines": headlines,
        "more": edition.more,
        "more_url": safe_link(site.url, site.url),
        "note_html": note_html(edition.note),
        "note_text": note_text(edition.note),
        "categories": sorted(clean_text(c) for c in categories),
    }


GROUP_ABOVE = 8  # more headlines than this: grouped by category, "In this issue" first
_RTL_LANGUAGES = frozenset(
    {"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ku", "ps", "sd", "ug", "ur", "yi"}
)


@dataclass(frozen=True, slots=True)
class HeadlineGroup:
    name: str  # the category, or "More" for headlines without one
    anchor: str  # an id for the "In this issue" link
    headlines: tuple[Headline, ...]


def reader_context(
    edition: Edition, site: SiteView, headlines: Sequence[Headline]
) -> dict[str, Any]:
    """What the templates show around the headlines: the edition's page on the web ("view in
    browser"), the subscribe page (for a forwarded copy), and the headlines by category."""
    groups = group_headlines(headlines)
    page = archive_slug(parse_key(edition.key))
    return {
        "archive_url": safe_link(f"{site.archive_base}{page}/", site.url)
        if site.archive_base
        else "",
        "subscribe_url": safe_link(site.subscribe_url, site.url) if site.subscribe_url else "",
        "groups": groups,
        "in_this_issue": len(headlines) > GROUP_ABOVE and len(groups) > 1,
    }


def group_headlines(headlines: Sequence[Headline]) -> list[HeadlineGroup]:
    """The headlines by category, in the order each category first appears (the newest
    article's first); within a category newest first, as the edition holds them."""
    by_name: dict[str, list[Headline]] = {}
    for h in headlines:
        by_name.setdefault(h.category or "More", []).append(h)
    return [
        HeadlineGroup(name, f"section-{index}", tuple(items))
        for index, (name, items) in enumerate(by_name.items(), start=1)
    ]


def text_direction(language: str) -> str:
    """``rtl`` for a right-to-left language code (``ar``, ``he-IL`` …), else ``ltr``."""
    primary = language.strip().replace("_", "-").split("-")[0].lower()
    return "rtl" if primary in _RTL_LANGUAGES else "ltr"


def first_name(name: str) -> str:
    """The name to greet with: "Bob Müller" -> "Bob", "Müller, Bob" -> "Bob"; "" for none."""
    # A printable name has no control character and no space but U+0020: nothing for
    # one_line to take out or fold that the split below does not (a million a send).
    folded = name if name.isprintable() else one_line(name)
    family, comma, given = folded.partition(",")
    words = (given if comma and given.strip() else family).split()
    return words[0] if words else ""


def site_context(site: SiteView) -> dict[str, Any]:
    """``site`` as every mail's templates see it (the digest, confirmation, welcome)."""
    return {
        "title": clean_text(site.title),
        "url": safe_link(site.url, site.url),
        "language": clean_text(site.language) or "en",
        "dir": text_direction(site.language),
        "postal_lines": [
            line for line in (clean_text(s) for s in site.postal_address.splitlines()) if line
        ],
    }


def note_html(note: str) -> Markup:
    """The editor's Markdown note as sanitized HTML (no ``%%`` placeholders in it)."""
    if not note.strip():
        return Markup("")
    return Markup(markdown_to_html(note).replace("%%", f"%{_WORD_JOINER}%"))


def note_text(note: str) -> str:
    """The note for the plain-text part: its text, paragraphs kept, nothing else."""
    if not note.strip():
        return ""
    paragraphs = html_to_text(markdown_to_html(note)).split("\n\n")
    return "\n\n".join(clean_text(p) for p in paragraphs if p.strip())


def headline(article: Article, site: SiteView) -> Headline:
    """An article's card: cleaned text, the date in the site's time zone, the link made
    absolute against the site's URL, the summary as the store holds it (cut at intake)."""
    if article.published.tzinfo is None:
        raise ValueError(f"article {article.guid}: published time has no time zone")
    local = article.published.astimezone(site.timezone)
    return Headline(
        category=clean_text(article.category),
        title=clean_text(article.title) or "(untitled)",
        link=safe_link(article.link, site.url),
        date=format_date(local.date()),
        iso_date=local.date().isoformat(),
        summary=clean_text(article.summary),  # cut once, at intake (sources.merge)
    )


def clean_text(text: str) -> str:
    """Untrusted text for a template: no control characters, whitespace folded, and no
    ``%%`` that ``personalize`` could mistake for a placeholder."""
    return one_line(text).replace("%%", f"%{_WORD_JOINER}%")


_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def safe_link(link: str, base: str) -> str:
    """``link`` made absolute against ``base`` and percent-encoded, or "" unless http(s).

    A ``%`` that starts no escape becomes ``%25``, so no link holds a ``%%`` placeholder."""
    url = urljoin(base, one_line(link)) if link.strip() else ""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return ""
    return quote(_STRAY_PERCENT.sub("%25", url), safe=_URL_SAFE)


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
    if "first_name" not in values and "name" in substitutions:
        values["first_name"] = first_name(substitutions["name"]) or PLACEHOLDER_FALLBACKS["name"]
    missing = sorted(
        {key for part in (rendered.html, rendered.text) for key in PLACEHOLDER.findall(part)}
        - values.keys()
    )
    if missing:
        names = ", ".join(f"%%{key}%%" for key in missing)
        raise ValueError(f"digest {rendered.week}: no value for placeholder {names}")
    return substitute(rendered.html, values, escape=True), substitute(rendered.text, values)


def _one_line(key: str, value: str) -> str:
    return one_line(value) or PLACEHOLDER_FALLBACKS.get(key, "")


def headlines_html(headlines: tuple[Headline, ...]) -> str:
    """Headlines as a plain HTML list (the archive feed's entry of an edition)."""
    items = []
    for h in headlines:
        title = html.escape(h.title)
        linked = f'<a href="{html.escape(h.link)}">{title}</a>' if h.link else title
        category = f"{html.escape(h.category)}: " if h.category else ""
        summary = f"<br>{html.escape(h.summary)}" if h.summary else ""
        items.append(f"<li>{category}{linked} ({html.escape(h.date)}){summary}</li>")
    return sanitize_html(f"<ul>{''.join(items)}</ul>") if items else ""
