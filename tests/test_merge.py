"""sources/merge.py: several observations of one slug become one Article."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.content import article_guid, html_to_text
from syndicate.models import Article, ArticleStatus, Observation
from syndicate.sources.merge import SUMMARY_LIMIT, MergeOptions, merge_article, merge_source

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


def options(**changes: Any) -> MergeOptions:
    base = MergeOptions(site_url=SITE, default_category="General", rules=RULES)
    return dataclasses.replace(base, **changes)


def merge(
    observations: Sequence[Observation], source: str = "blog", key: str = "pots", **changes: Any
) -> Article:
    return merge_article(key, observations, source=source, options=options(**changes))


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
    assert article.key == "pots"
    assert article.status is ArticleStatus.PUBLISHED
    assert len(article.content_hash) == 64
    assert article.content


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


def test_a_given_summary_is_cut_once_here_for_every_stage_after() -> None:
    """The store holds at most SUMMARY_LIMIT characters of summary from any source (front
    matter, a teaser card, a feed entry): the digest and the feeds show it as it is."""
    long = "Every catalogue promises the earth and a bumper crop by July " * 10
    for article in (merge([full(summary=long)]), merge([teaser(summary=long)])):
        assert len(article.summary) < SUMMARY_LIMIT
        assert article.summary.endswith("…") and long.startswith(article.summary[:-1])
    assert merge([full(summary="  Short,\n folded.  ")]).summary == "Short, folded."


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
    assert not article.content
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
    with pytest.raises(ValueError, match="no observations for key 'pots'"):
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


def test_a_front_matter_slug_is_the_key_and_the_link_under_the_site_and_a_url_is_kept() -> None:
    keyed = merge([full(key="winter/clay-pots")], key="winter/clay-pots")
    assert (keyed.key, keyed.slug, keyed.link) == (
        "winter/clay-pots",
        "winter/clay-pots",
        SITE + "winter/clay-pots",
    )
    assert keyed.guid == article_guid(SITE, "pots")  # still from the title's slug
    assert merge([full(link="https://elsewhere.org/p")]).link == "https://elsewhere.org/p"
    assert merge([full(), teaser()]).link == SITE + "pots"


def test_a_relative_link_is_made_absolute_under_the_site() -> None:
    assert merge([full(link="winter/clay-pots")]).link == SITE + "winter/clay-pots"


def test_a_draft_full_text_makes_a_draft_article() -> None:
    assert merge([full(draft=True)]).status is ArticleStatus.DRAFT
    assert merge([full(draft=True), teaser()]).status is ArticleStatus.DRAFT
    assert merge([full()]).status is ArticleStatus.PUBLISHED


def test_hash_ignores_the_guid_and_uses_the_date_in_utc() -> None:
    eastern = timezone(timedelta(hours=-5))
    same_moment = full(published=DAY.astimezone(eastern))
    assert merge([same_moment]).content_hash == merge([full()]).content_hash
    # another site gives another guid, but the same article text hashes alike apart from
    # the link, which is part of what the article says
    a = merge([full(link="https://e.com/p")])
    b = merge([full(link="https://e.com/p")], site_url="https://other.example/")
    assert a.guid != b.guid
    assert a.content_hash == b.content_hash


def test_hash_covers_the_key() -> None:
    a = merge([full(link="https://e.com/p")], key="pots")
    b = merge([full(link="https://e.com/p", key="other")], key="other")
    assert a.content_hash != b.content_hash


# --- merge_source -------------------------------------------------------------------------


def test_a_same_title_teaser_completes_a_full_text_with_its_own_key() -> None:
    found = [
        ("a.md", full(key="winter-clay")),
        ("cards.txt", teaser()),
    ]
    merged = merge_source("blog", found, options())
    assert merged.warnings == []
    assert len(merged.articles) == 1
    article = merged.articles[0]
    assert article.key == "winter-clay"
    assert article.link == SITE + "winter-clay"
    assert (article.category, article.summary) == ("Pots", "Why frost breaks clay.")
    assert article.content == full().content


def test_a_teaser_naming_no_full_text_is_an_article_of_its_own() -> None:
    found = [("a.md", full()), ("cards.txt", teaser(slug="other", title="Other", key="other"))]
    merged = merge_source("blog", found, options())
    assert sorted(a.key for a in merged.articles) == ["other", "pots"]
    assert [not a.content for a in merged.articles] == [True, False]


def test_two_files_of_one_key_make_one_article_and_a_warning_naming_both() -> None:
    newer = full(published=DAY + timedelta(days=1), title="Newer")
    found = [("b.md", newer), ("a.md", full())]
    merged = merge_source("blog", found, options())
    assert [a.title for a in merged.articles] == ["Newer"]
    assert len(merged.warnings) == 1
    warning = merged.warnings[0]
    assert "a.md" in warning and "b.md" in warning and "'pots'" in warning
    assert "b.md is used" in warning


def test_one_file_with_a_full_text_and_its_cards_gives_no_warning() -> None:
    merged = merge_source("blog", [("a.txt", full()), ("a.txt", teaser())], options())
    assert merged.warnings == [] and len(merged.articles) == 1


def test_a_feed_keeps_entries_of_one_title_apart() -> None:
    found = [
        ("feed", full(key="guid:1", link="https://e.com/1")),
        ("feed", teaser(key="guid:2", link="https://e.com/2")),
    ]
    merged = merge_source("feed", found, options(by_title=False))
    assert sorted(a.key for a in merged.articles) == ["guid:1", "guid:2"]
    by_key = {a.key: a for a in merged.articles}
    assert by_key["guid:1"].link == "https://e.com/1"
    assert not by_key["guid:2"].content
    assert by_key["guid:1"].category == "General"  # the other entry's card did not fill it
    assert merged.warnings == []


def test_fillers_fill_a_missing_category_and_summary_only() -> None:
    filler = teaser(category="Filled", summary="Filled summary.", author="Filler")
    bare = full(summary="")
    merged = merge_source("blog", [("a.md", bare)], options(), fillers={"pots": [filler]})
    article = merged.articles[0]
    assert (article.category, article.summary) == ("Filled", "Filled summary.")
    assert article.title == bare.title and article.content == bare.content
    assert article.author == "Robin Doe"  # own author kept


def test_fillers_never_override() -> None:
    filler = teaser(category="Filled", summary="Filled summary.", title="Filler title")
    own = full(category="Own", summary="Own summary.")
    merged = merge_source("blog", [("a.md", own)], options(), fillers={"pots": [filler]})
    article = merged.articles[0]
    assert (article.category, article.summary, article.title) == (
        "Own",
        "Own summary.",
        "Clay pots in winter",
    )
    # a teaser of the source itself beats a filler
    merged = merge_source(
        "blog", [("a.md", full()), ("c.txt", teaser())], options(), fillers={"pots": [filler]}
    )
    assert merged.articles[0].category == "Pots"


def test_fillers_are_looked_up_by_title_slug_not_key() -> None:
    filler = teaser(category="Filled")
    found = [("a.md", full(key="winter-clay"))]
    merged = merge_source("blog", found, options(), fillers={"pots": [filler]})
    assert merged.articles[0].category == "Filled"
    merged = merge_source("blog", found, options(), fillers={"winter-clay": [filler]})
    assert merged.articles[0].category == "General"
