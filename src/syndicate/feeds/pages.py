"""Article pages and the front page: articles → static HTML (Jinja2, autoescape on). Pure.

A page lives at the path its article's link names under the site URL (``<slug>/`` →
``<slug>/index.html``); an article linked elsewhere (a feed source's entry, a front-matter
``url``) has no page of ours. Every URL in a page is absolute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

from markupsafe import Markup

from syndicate.content import absolute_html, header_safe, strip_control
from syndicate.feeds.data import categories as article_categories
from syndicate.feeds.options import FeedLink
from syndicate.feeds.publish import INDEX
from syndicate.models import Article

HEADLINES = 20  # on the front page


@dataclass(frozen=True, slots=True)
class SitePage:
    """What every page shows of the site."""

    title: str
    url: str  # ends in "/"
    web_url: str  # the web front (subscribe, archive); ends in "/"
    language: str
    timezone: tzinfo
    description: str = ""
    postal_lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CategoryFeeds:
    name: str
    feeds: tuple[FeedLink, ...]  # absolute hrefs


def page_path(site_url: str, link: str) -> str | None:
    """The file an article's page is written to, or None when its link is not ours."""
    if not link.startswith(site_url) or not link.endswith("/"):
        return None
    rest = link[len(site_url) :]
    # site_url is a validated URL ending in "/": its path holds no "//"; a "?", "#" or an
    # empty segment in the rest is no folder; control characters are no page name.
    if not rest or "?" in rest or "#" in rest or "//" in "/" + rest or not rest.isprintable():
        return None
    return rest + INDEX


class PageRenderer:
    """Renders ``templates/pages`` (a site's own files first) for one site."""

    def __init__(
        self, template_dirs: Sequence[Path], site: SitePage, cache_dir: Path | None = None
    ) -> None:
        """``cache_dir``: where the templates' compiled code is kept from one run to the
        next (Jinja's bytecode cache: a template whose source changed is compiled again)."""
        # Here, not at the top: a `feeds` that finds nothing changed renders nothing.
        from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined

        self.environment = Environment(
            loader=FileSystemLoader(list(template_dirs)),
            bytecode_cache=FileSystemBytecodeCache(str(cache_dir)) if cache_dir else None,
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.site = site
        self._context = {
            "title": header_safe(site.title),
            "url": site.url,
            "web_url": site.web_url,
            "language": header_safe(site.language) or "en",
            "description": header_safe(site.description),
            "postal_lines": [line for line in map(header_safe, site.postal_lines) if line],
        }

    def _render(self, template: str, **context: Any) -> bytes:
        html = self.environment.get_template(template).render(site=self._context, **context)
        return strip_control(html).encode("utf-8")

    def _when(self, article: Article) -> dict[str, str]:
        local = article.published.astimezone(self.site.timezone)
        return {"date": f"{local:%B} {local.day}, {local.year}", "iso_date": local.isoformat()}

    def article(
        self, article: Article, feeds: Sequence[FeedLink], category_feeds: Sequence[FeedLink]
    ) -> bytes:
        view = {
            "title": header_safe(article.title),
            "url": article.link,
            "category": header_safe(article.category),
            "author": header_safe(article.author),
            "summary": header_safe(article.summary),
            # Sanitized when stored; made absolute here too, for a store from before that.
            "content": Markup(absolute_html(article.content, article.link)),
            "tags": [t for t in article_categories(article) if t != article.category],
            "enclosures": article.enclosures,
            **self._when(article),
        }
        return self._render(
            "article.html", article=view, feeds=list(feeds), category_feeds=list(category_feeds)
        )

    def front(
        self,
        articles: Sequence[Article],
        feeds: Sequence[FeedLink],
        categories: Sequence[CategoryFeeds],
    ) -> bytes:
        headlines = [
            {
                "title": header_safe(a.title),
                "url": a.link,
                "category": header_safe(a.category),
                "summary": header_safe(a.summary),
                **self._when(a),
            }
            for a in articles[:HEADLINES]
        ]
        return self._render(
            "front.html", headlines=headlines, feeds=list(feeds), categories=list(categories)
        )
