"""The HTML pages: one Jinja2 environment (autoescape on), the site's frame, and the
Content-Security-Policy each kind of response gets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.background import BackgroundTask
from starlette.responses import HTMLResponse

from syndicate.config import Settings
from syndicate.content import header_safe
from syndicate.resources import package_dir, page_templates

TEMPLATE_DIR = package_dir("syndicate.web", "templates")
STATIC_DIR = package_dir("syndicate.web", "static")

# Our own pages: no script at all, styles only from /static/.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
# The digest as mailed: premailer put its styles into style attributes. Still no script.
EMAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; form-action 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
# Feeds and other data: nothing runs, even when a browser opens the file.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
# Pages that hold a token in their URL, or show one subscriber's choices: never cached.
PRIVATE = {"Cache-Control": "no-store"}


def static_html_csp(style_hashes: list[str]) -> str:
    """For a published HTML file (index.html): its own <style> blocks, by hash."""
    styles = " ".join(f"'sha256-{h}'" for h in style_hashes) or "'none'"
    return (
        f"default-src 'none'; style-src {styles}; img-src 'self' https: data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


class Pages:
    """Renders the templates in ``web/templates`` (or the site's ``templates/pages/``) inside
    the site's frame."""

    def __init__(self, settings: Settings) -> None:
        # A site's own templates/pages/ overrides any page, file by file.
        own = settings.root / "templates" / "pages"
        self.environment = Environment(
            # The masthead and footer are the published pages' own (templates/pages).
            loader=FileSystemLoader(
                [*([own] if own.is_dir() else []), TEMPLATE_DIR, page_templates()]
            ),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        postal = settings.site.postal_address.splitlines()
        self.site = {
            "title": header_safe(settings.site.title),
            "description": header_safe(settings.site.description),
            "language": header_safe(settings.site.language) or "en",
            "url": settings.site.url,
            "postal_lines": [line for line in map(header_safe, postal) if line],
        }
        self.base = settings.web_url  # links and redirects are absolute, as in the feeds

    def render(
        self,
        template: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
        **context: Any,
    ) -> HTMLResponse:
        html = self.environment.get_template(template).render(
            site=self.site, base=self.base, **context
        )
        return HTMLResponse(
            html, status_code=status, headers=dict(headers or {}), background=background
        )

    def message(
        self,
        status: int,
        title: str,
        *lines: str,
        link: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        """A page with a heading, a few sentences and at most one link (href, text)."""
        return self.render(
            "message.html", status=status, headers=headers, title=title, lines=lines, link=link
        )
