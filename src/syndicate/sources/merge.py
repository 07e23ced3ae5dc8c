"""Merge what a source's files (or entries) say into its articles, one per key. Pure and
order-independent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

from syndicate.content import (
    absolute_html,
    article_guid,
    content_hash,
    excerpt,
    html_to_text,
    match_category,
)
from syndicate.models import Article, ArticleStatus, Enclosure, Observation

SUMMARY_LIMIT = 300  # characters of an article's summary; keeps 20 digest headlines small


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


@dataclass(frozen=True, slots=True)
class MergeOptions:
    site_url: str
    default_category: str
    rules: Mapping[str, Sequence[str]]
    default_author: str = ""
    by_title: bool = True  # a folder's teaser cards complete the full text of their title
    pages: bool = False  # the site writes article pages: a link is site URL + slug + "/"


@dataclass(frozen=True, slots=True)
class Merged:
    articles: list[Article]
    warnings: list[str]


Located = tuple[str, Observation]  # (path, observation)


def merge_source(
    source: str,
    found: Sequence[Located],
    options: MergeOptions,
    fillers: Mapping[str, Sequence[Observation]] | None = None,
) -> Merged:
    """The articles of one source that ``found`` makes, one per key.

    In a folder (``by_title``), a teaser card completes the full text its title names (the
    one keyed by that slug, else the one so titled); a card naming no full text is an
    article of its own. ``fillers`` (title slug → other sources' observations, only where
    the operator asked for them) fill in fields an article lacks, never more.
    """
    groups = _group(found, options.by_title)
    articles: list[Article] = []
    warnings: list[str] = []
    for key in sorted(groups):
        located = groups[key]
        fulls = [(path, o) for path, o in located if o.kind == "full"]
        if len({path for path, _ in fulls}) > 1:
            warnings.append(_twice(key, fulls))
        main_slug = max(fulls, key=lambda p: _full_rank(p[1]))[1].slug if fulls else key
        extra = (fillers or {}).get(main_slug, ())
        articles.append(
            merge_article(
                key, [o for _, o in located], source=source, options=options, fillers=extra
            )
        )
    return Merged(articles, warnings)


def _group(found: Sequence[Located], by_title: bool) -> dict[str, list[Located]]:
    groups: dict[str, list[Located]] = {}
    teasers: list[Located] = []
    for path, obs in found:
        if obs.kind == "full" or not by_title:
            groups.setdefault(obs.key, []).append((path, obs))
        else:
            teasers.append((path, obs))
    titled: dict[str, str] = {}
    for key in sorted(groups):
        for _, obs in groups[key]:
            titled.setdefault(obs.slug, key)
    for path, obs in teasers:
        own = obs.slug in groups and _has_full(groups[obs.slug])
        target = obs.slug if own else titled.get(obs.slug, obs.key)
        groups.setdefault(target, []).append((path, obs))
    return groups


def _has_full(located: Sequence[Located]) -> bool:
    return any(obs.kind == "full" for _, obs in located)


def _twice(key: str, fulls: Sequence[Located]) -> str:
    winner = max(fulls, key=lambda p: _full_rank(p[1]))[0]
    paths = sorted({path for path, _ in fulls})
    return (
        f"{' and '.join(paths)} define the same article {key!r}: {winner} is used "
        "(the newer date, then the longer text)"
    )


def merge_article(
    key: str,
    observations: Sequence[Observation],
    *,
    source: str,
    options: MergeOptions,
    fillers: Sequence[Observation] = (),
) -> Article:
    """One Article from the full texts and teaser cards of one key.

    The newest full text gives title, date, body and author; teasers (then ``fillers``) fill
    in the category and summary it lacks. Only teasers: a teaser article (no content).
    """
    if not observations:
        raise ValueError(f"no observations for key {key!r}")
    fulls = sorted((o for o in observations if o.kind == "full"), key=_full_rank, reverse=True)
    teasers = sorted((o for o in observations if o.kind != "full"), key=_teaser_rank, reverse=True)
    main = fulls[0] if fulls else teasers[0]
    # Older full texts of the key are superseded; teasers only fill in what main lacks.
    own = [main, *teasers] if fulls else teasers
    ranked = [*own, *fillers]  # fillers: the category and summary only

    category = (
        _first(o.category for o in ranked)
        or match_category(options.rules, main.title, main.summary, html_to_text(main.content))
        or options.default_category
    )
    # The one cut of a summary: the stages after (digest, feeds, archive) show it as stored.
    summary = excerpt(
        _first(o.summary for o in ranked) or html_to_text(main.content[:_EXCERPT_SOURCE]),
        SUMMARY_LIMIT,
    )
    page = key if options.by_title else main.slug
    given = _first(o.link for o in own)
    site_url = options.site_url
    link = _absolute(site_url, given) if given else _join(site_url, page, options.pages)
    body = absolute_html(main.content, link)  # a folder's relative URLs: against its page
    enclosures = tuple(replace(e, url=urljoin(link, e.url)) for e in main.enclosures)
    author = main.author or _first(o.author for o in fillers) or options.default_author
    tags = main.tags or next((o.tags for o in own if o.tags), ())
    # From the title's slug, as before articles had keys: a rebuilt store gives a site's
    # articles the guids readers have. Where that guid is taken, the store makes another.
    guid = article_guid(site_url, main.slug)
    published = main.published.astimezone(UTC)
    return Article(
        guid=guid,
        slug=page,
        title=main.title,
        link=link,
        published=main.published,
        category=category,
        summary=summary,
        content=body,
        author=author,
        source=source,
        tags=tags,
        content_hash=article_hash(
            key, main.title, link, published, category, summary, body, author, tags, enclosures
        ),
        key=key,
        status=ArticleStatus.DRAFT if main.draft else ArticleStatus.PUBLISHED,
        enclosures=enclosures,
    )


def article_hash(
    key: str,
    title: str,
    link: str,
    published: datetime,
    category: str,
    summary: str,
    content: str,
    author: str,
    tags: Sequence[str],
    enclosures: Sequence[Enclosure] = (),
) -> str:
    """What an article says, hashed: a stored article is rewritten only when this changes.
    (Revision 0005 computes the same from stored rows: change both or neither; enclosures
    add to it only when there are some.)"""
    moment = published.astimezone(UTC).isoformat()
    extra = [f"enclosure:{e.url} {e.type} {e.length}" for e in enclosures]
    return content_hash(key, title, link, moment, category, summary, content, author, *tags, *extra)


def _absolute(site_url: str, link: str) -> str:
    """A front-matter url is absolute; a front-matter slug is a path under the site."""
    return link if urlsplit(link).scheme else _join(site_url, link, False)


def _join(site_url: str, slug: str, page: bool) -> str:
    """The article's URL under the site: its page's folder (ending in "/") when the site
    writes article pages."""
    return (site_url if site_url.endswith("/") else site_url + "/") + slug + ("/" if page else "")
