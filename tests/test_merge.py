"""sources/merge.py: several observations of one slug become one Article."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.content import article_guid, html_to_text
from syndicate.models import Article, Observation
from syndicate.sources import merge_article

SITE = "https://news.example.org/"
RULES = {"Garden": ["compost", "soil"], "Kitchen": ["soup", "stock"]}
DAY = datetime(2025, 3, 1, tzinfo=UTC)


def full(**changes: Any) -> Observation:
    base = Observation(
        slug="pots",
        title="Clay pots in winter",
        published=DAY,
        kind="full",
        content="<p>Bring clay pots inside before the first frost. Wet clay cracks.</p>",
        author="Robin Doe",
    )
    return dataclasses.replace(base, **changes)


def teaser(**changes: Any) -> Observation:
    base = Observation(
        slug="pots",
        title="Clay pots in winter",
        published=DAY,
        kind="teaser",
        category="Pots",
        summary="Why frost breaks clay.",
    )
    return dataclasses.replace(base, **changes)


def merge(observations: Sequence[Observation], **options: Any) -> Article:
    kwargs: dict[str, Any] = {
        "site_url": SITE,
        "source": "blog",
        "default_category": "General",
        "rules": RULES,
    }
    kwargs.update(options)
    return merge_article("pots", observations, **kwargs)


def test_full_text_alone() -> None:
    article = merge([full()])
    assert article.slug == "pots"
    assert article.title == "Clay pots in winter"
    assert article.published == DAY
    assert article.content == full().content
    assert article.author == "Robin Doe"
    assert article.source == "blog"
    assert article.link == SITE + "pots"
    assert article.guid == article_guid(SITE, "pots")
    assert article.category == "General"
    assert article.summary == "Bring clay pots inside before the first frost. Wet clay cracks."
    assert article.first_seen is None and article.updated is None
    assert len(article.content_hash) == 64
    assert not article.is_teaser


def test_site_url_without_slash_still_makes_a_link() -> None:
    assert merge([full()], site_url="https://e.com").link == "https://e.com/pots"


def test_explicit_link_wins() -> None:
    assert merge([full(link="https://elsewhere.org/p")]).link == "https://elsewhere.org/p"


def test_default_author_only_when_none_given() -> None:
    assert merge([full(author="")], default_author="Desk").author == "Desk"
    assert merge([full()], default_author="Desk").author == "Robin Doe"


# --- category and summary precedence ------------------------------------------------------


def test_own_category_and_summary_beat_the_teasers() -> None:
    article = merge([teaser(), full(category="Own", summary="Own summary."), teaser()])
    assert (article.category, article.summary) == ("Own", "Own summary.")


def test_teaser_fills_category_and_summary_the_full_text_lacks() -> None:
    article = merge([full(content="<p>All about compost.</p>"), teaser()])
    assert (article.category, article.summary) == ("Pots", "Why frost breaks clay.")
    assert article.content == "<p>All about compost.</p>"  # the body is the full text's


def test_rules_when_no_category_was_given() -> None:
    assert merge([full(title="Soup season")]).category == "Kitchen"
    assert merge([full(content="<p>Good soil matters.</p>")]).category == "Garden"
    # Rule order, not text order, decides between matches.
    assert merge([full(title="Soup", content="<p>compost</p>")]).category == "Garden"


def test_rules_do_not_match_inside_markup() -> None:
    article = merge([full(content='<p><a href="https://e.com/soup">link</a></p>')])
    assert article.category == "General"


def test_default_category_last() -> None:
    assert merge([full()], default_category="Misc").category == "Misc"


def test_summary_excerpt_of_a_long_body() -> None:
    sentence = "Clay breathes, so water soaks in and freezes inside the walls. "
    body = "".join(f"<p>{sentence * 3}</p>" for _ in range(5))
    article = merge([full(content=body)])
    assert len(article.summary) < 300
    assert article.summary.endswith(".")
    assert " ".join(html_to_text(body).split()).startswith(article.summary)


# --- several full texts -------------------------------------------------------------------


def test_newest_full_text_wins() -> None:
    old = full(title="Old title", content="<p>Old, and much longer than the new one.</p>")
    new = full(title="New title", published=DAY + timedelta(days=1), content="<p>New.</p>")
    assert merge([old, new]).title == "New title"
    assert merge([new, old]).title == "New title"


def test_ties_go_to_the_longest_then_by_content() -> None:
    short = full(title="Short", content="<p>Short.</p>")
    long = full(title="Long", content="<p>Rather longer.</p>")
    assert merge([short, long]).title == "Long"
    a = full(title="A", content="<p>aaaa</p>")
    b = full(title="B", content="<p>bbbb</p>")
    assert merge([a, b]) == merge([b, a])


def test_older_full_text_category_does_not_leak() -> None:
    old = full(category="Stale", summary="Stale summary.")
    new = full(published=DAY + timedelta(days=1))
    article = merge([old, new, teaser()])
    assert (article.category, article.summary) == ("Pots", "Why frost breaks clay.")


# --- teasers only -------------------------------------------------------------------------


def test_teaser_only_article() -> None:
    article = merge([teaser()], default_author="Desk")
    assert article.is_teaser
    assert article.content == ""
    assert (article.title, article.published, article.category, article.summary) == (
        "Clay pots in winter",
        DAY,
        "Pots",
        "Why frost breaks clay.",
    )


def test_teaser_without_category_falls_to_rules() -> None:
    article = merge([teaser(category="", summary="Compost for pots.")])
    assert article.category == "Garden"


def test_disagreeing_teasers_choose_newest_then_most_complete() -> None:
    older = teaser(title="Older", category="A")
    newer = teaser(title="Newer", category="B", published=DAY + timedelta(hours=1))
    assert merge([older, newer]).title == "Newer"
    bare = teaser(title="Bare", category="", summary="")
    rich = teaser(title="Rich")
    assert merge([bare, rich]).title == "Rich"


def test_teaser_gaps_are_filled_from_other_teasers() -> None:
    newest = teaser(published=DAY + timedelta(days=1), summary="")
    article = merge([newest, teaser(summary="From an older card.")])
    assert article.summary == "From an older card."


def test_no_observations_is_an_error() -> None:
    with pytest.raises(ValueError, match="no observations for slug 'pots'"):
        merge([])


# --- order independence and the hash ------------------------------------------------------

_OBSERVATIONS = st.lists(
    st.builds(
        Observation,
        slug=st.just("pots"),
        title=st.sampled_from(["T1", "T2", "T3"]),
        published=st.sampled_from([DAY, DAY + timedelta(days=1)]),
        kind=st.sampled_from(["full", "teaser"]),
        category=st.sampled_from(["", "A", "B"]),
        summary=st.sampled_from(["", "S1", "S2"]),
        content=st.sampled_from(["<p>x</p>", "<p>y</p>", "<p>soup zz</p>"]),
        author=st.sampled_from(["", "Ann", "Bo"]),
        link=st.sampled_from(["", "https://e.com/1", "https://e.com/2"]),
        tags=st.sampled_from([(), ("t",), ("u", "v")]),
    ),
    min_size=1,
    max_size=5,
)


@given(_OBSERVATIONS, st.randoms())
def test_result_does_not_depend_on_order(observations: list[Observation], rnd: Any) -> None:
    shuffled = list(observations)
    rnd.shuffle(shuffled)
    assert merge(shuffled) == merge(observations)


def test_every_permutation_of_a_mixed_set_agrees() -> None:
    items = [
        full(),
        full(title="Other", content="<p>other body!</p>"),
        teaser(),
        teaser(category="Z"),
    ]
    results = {merge(list(p)) for p in itertools.permutations(items)}
    assert len(results) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Changed"},
        {"link": "https://e.com/changed"},
        {"published": DAY + timedelta(seconds=1)},
        {"category": "Changed"},
        {"summary": "Changed."},
        {"content": "<p>Changed.</p>"},
        {"author": "Changed"},
        {"tags": ("changed",)},
    ],
)
def test_hash_covers_every_output_field(change: dict[str, Any]) -> None:
    assert merge([full(**change)]).content_hash != merge([full()]).content_hash


def test_hash_is_stable_and_ignores_the_source() -> None:
    assert merge([full()]).content_hash == merge([full()]).content_hash
    assert merge([full()], source="other").content_hash == merge([full()]).content_hash


def test_a_front_matter_slug_is_a_link_under_the_site_and_a_url_is_kept() -> None:
    assert merge([full(link="winter/clay-pots")]).link == SITE + "winter/clay-pots"
    assert merge([full(link="https://elsewhere.org/p")]).link == "https://elsewhere.org/p"
    assert merge([full(), teaser()]).link == SITE + "pots"
