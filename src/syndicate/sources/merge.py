"""Merge what several files say about one slug into one Article. Pure and order-independent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from syndicate.content import article_guid, content_hash, excerpt, html_to_text, match_category
from syndicate.models import Article, Observation

SUMMARY_LIMIT = 300


def _full_rank(o: Observation) -> tuple[object, ...]:
    """Newest first, then the longest content; the rest only breaks exact ties."""
    return (o.published, len(o.content), o.content, o.title, o.author, o.category, o.summary,
            o.link, o.tags)  # fmt: skip


def _teaser_rank(o: Observation) -> tuple[object, ...]:
    """Newest first, then the card that says most; the rest only breaks exact ties."""
    return (o.published, bool(o.category), bool(o.summary), o.title, o.category, o.summary,
            o.link, o.tags, o.author, o.content)  # fmt: skip


# An excerpt needs only the opening sentences; converting a long body whole is wasted work.
_EXCERPT_SOURCE = 8 * SUMMARY_LIMIT


def _first(values: Iterable[str]) -> str:
    return next((v for v in values if v), "")


def merge_article(
    slug: str,
    observations: Sequence[Observation],
    *,
    site_url: str,
    source: str,
    default_category: str,
    rules: Mapping[str, Sequence[str]],
    default_author: str = "",
) -> Article:
    """One Article from the full texts and teaser cards of ``slug``.

    The newest full text gives title, date, body and author; teasers fill in category and
    summary it lacks. Only teasers: a teaser article (no content).
    """
    if not observations:
        raise ValueError(f"no observations for slug {slug!r}")
    fulls = sorted((o for o in observations if o.kind == "full"), key=_full_rank, reverse=True)
    teasers = sorted((o for o in observations if o.kind != "full"), key=_teaser_rank, reverse=True)
    main = fulls[0] if fulls else teasers[0]
    # Older full texts of the slug are superseded; teasers only fill in what main lacks.
    ranked = [main, *teasers] if fulls else teasers

    category = (
        _first(o.category for o in ranked)
        or match_category(rules, main.title, main.summary, html_to_text(main.content))
        or default_category
    )
    summary = _first(o.summary for o in ranked) or excerpt(
        html_to_text(main.content[:_EXCERPT_SOURCE]), SUMMARY_LIMIT
    )
    given = _first(o.link for o in ranked)
    link = _absolute(site_url, given) if given else _join(site_url, slug)
    author = main.author or default_author
    tags = main.tags or next((o.tags for o in ranked if o.tags), ())
    guid = article_guid(site_url, slug)
    fields = (guid, main.title, link, main.published.isoformat(), category, summary,
              main.content, author)  # fmt: skip
    return Article(
        guid=guid,
        slug=slug,
        title=main.title,
        link=link,
        published=main.published,
        category=category,
        summary=summary,
        content=main.content,
        author=author,
        source=source,
        tags=tags,
        content_hash=content_hash(*fields, *tags),
    )


def _absolute(site_url: str, link: str) -> str:
    """A front-matter url is absolute; a front-matter slug is a path under the site."""
    return link if urlsplit(link).scheme else _join(site_url, link)


def _join(site_url: str, slug: str) -> str:
    return (site_url if site_url.endswith("/") else site_url + "/") + slug
