from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.content import excerpt, one_line
from syndicate.digest.periods import parse_key
from syndicate.digest.render import (
    DEFAULT_TEMPLATE_DIR,
    SiteView,
    TemplateSource,
    clean_text,
    first_name,
    format_date,
    personalize,
    render_edition,
    safe_link,
)
from syndicate.models import Article, Edition, RenderedDigest
from syndicate.sources.merge import SUMMARY_LIMIT

GOLDEN = Path(__file__).parent / "golden" / "digest"
NEW_YORK = ZoneInfo("America/New_York")
SITE = SiteView(
    title="Allotment Notes",
    url="https://allotment.example/",
    timezone=NEW_YORK,
    postal_address="Allotment Notes\n12 Orchard Lane\nSpringfield, NY 10001",
    language="en",
)
SUBS = {
    "name": "Ada",
    "unsubscribe_url": "https://allotment.example/unsubscribe?token=abc&list=1",
    "preferences_url": "https://allotment.example/preferences?token=abc",
}


def article(n: int, **changes: object) -> Article:
    base = Article(
        guid=f"urn:uuid:{n:08d}",
        slug=f"article-{n}",
        title=f"Article {n}",
        link=f"https://allotment.example/article-{n}",
        published=datetime(2025, 11, 15, 14, tzinfo=UTC) - timedelta(days=n),
        category="Vegetables",
        summary=f"Summary of article {n}.",
        content="",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


FIXED_SUBJECT = "Allotment Notes — week {week}"
FIXED_EDITION = Edition(
    key="weekly:2025-W46",
    cadence="weekly",
    period="2025-W46",
    created_at=datetime(2025, 11, 17, 8, tzinfo=UTC),
    articles=(
        article(
            0,
            title="Frost came early: what to bring in",
            category="Weather",
            summary="The first hard frost arrived a fortnight early. Here is what we lifted, "
            "what we fleeced and what we left to fate, with notes on which beds coped.",
            # 02:30 UTC on the 16th is still the evening of the 15th in New York.
            published=datetime(2025, 11, 16, 2, 30, tzinfo=UTC),
        ),
        article(
            1,
            title="Leeks & parsnips <after> the frost",
            category="Vegetables",
            summary='Parsnips get sweeter after a frost; leeks shrug it off. A "field guide".',
        ),
        article(
            2,
            title="Café-style squash soup, über-easy",
            category="Kitchen",
            summary="",
            link="/squash-soup",
        ),
        article(
            3,
            title="Seed catalogues, ranked",
            category="Planning",
            # As the store holds it: cut at intake (sources.merge), once.
            summary=excerpt(
                "Every catalogue promises the earth and a bumper crop by July " * 10, SUMMARY_LIMIT
            ),
        ),
    ),
)


@pytest.fixture(scope="module")
def templates() -> TemplateSource:
    return TemplateSource([DEFAULT_TEMPLATE_DIR])


@pytest.fixture(scope="module")
def rendered(templates: TemplateSource) -> RenderedDigest:
    return render_edition(FIXED_EDITION, site=SITE, templates=templates, subject=FIXED_SUBJECT)


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SYNDICATE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with SYNDICATE_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


def test_golden_html(rendered: RenderedDigest) -> None:
    check_golden("digest.html", rendered.html)


def test_golden_text(rendered: RenderedDigest) -> None:
    check_golden("digest.txt", rendered.text)


def test_golden_personalized(rendered: RenderedDigest) -> None:
    html, text = personalize(rendered, SUBS)
    check_golden("personalized.txt", text)
    assert html.count("Hi Ada,") == 1


def parse(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html)


# --- what a reader sees ------------------------------------------------------------------


def test_each_headline_shows_category_title_link_date_and_summary(
    rendered: RenderedDigest,
) -> None:
    doc = parse(rendered.html)
    cards = doc.find_class("headline")
    assert len(cards) == 4
    first = cards[0]
    assert first.find_class("category")[0].text_content() == "Weather"
    title_link = first.find_class("title")[0].find("a")
    assert title_link.text_content() == "Frost came early: what to bring in"
    assert title_link.get("href") == "https://allotment.example/article-0"
    assert first.find_class("date")[0].text_content() == "November 15, 2025"
    assert first.find_class("summary")[0].text_content().startswith("The first hard frost")
    second = cards[1].find_class("title")[0].text_content()
    assert second == "Leeks & parsnips <after> the frost"
    assert "Leeks &amp; parsnips &lt;after&gt; the frost" in rendered.html
    # a relative link is made absolute; an empty summary shows no paragraph
    assert cards[2].find_class("title")[0].find("a").get("href") == (
        "https://allotment.example/squash-soup"
    )
    assert not cards[2].find_class("summary")


def test_text_part_has_the_same_headlines(rendered: RenderedDigest) -> None:
    text = rendered.text
    assert "Leeks & parsnips <after> the frost" in text  # plain text: no escaping
    assert "WEATHER\nFrost came early: what to bring in\nNovember 15, 2025" in text
    assert "Read: https://allotment.example/squash-soup" in text
    assert all(len(line) <= 78 for line in text.splitlines())


def test_css_is_inlined_and_media_queries_kept(rendered: RenderedDigest) -> None:
    doc = parse(rendered.html)
    container = doc.find_class("container")[0]
    # Fluid-hybrid: no fixed width anywhere; a 600px cap the inline styles hold on their own.
    assert container.get("width") == "100%"
    wrapper = doc.find_class("wrapper")[0]
    assert "max-width:600px" in wrapper.get("style").replace(" ", "")
    declarations = container.get("style").replace(" ", "").split(";")
    assert "width:600px" not in declarations and "max-width:600px" in declarations
    assert "font-size" in doc.find_class("title")[0].get("style")
    (style,) = doc.findall(".//style")
    assert "prefers-color-scheme: dark" in style.text
    assert "!important" in style.text
    assert "#e5e7eb" not in style.text  # plain rules went inline, only @media and :hover stay
    assert doc.find(".//meta[@name='color-scheme']").get("content") == "light dark"


def test_summaries_are_shown_as_stored_cut_once_at_intake(
    rendered: RenderedDigest, templates: TemplateSource
) -> None:
    """The cut is the merge's (tests/test_merge.py); the render trusts it and cuts nothing
    again, so a summary longer than the limit (none reaches the store) would show whole."""
    summary = parse(rendered.html).find_class("headline")[3].find_class("summary")[0]
    assert len(summary.text_content()) < SUMMARY_LIMIT
    assert summary.text_content().endswith("…")
    long = "A summary that nothing cut. " * 20
    edition = replace(FIXED_EDITION, articles=(article(1, summary=long),))
    shown = (
        parse(render_edition(edition, site=SITE, templates=templates).html)
        .find_class("summary")[0]
        .text_content()
    )
    assert shown == long.strip()


def test_footer_in_both_parts(rendered: RenderedDigest) -> None:
    footer = parse(rendered.html).find_class("footer")[0]
    links = {a.text_content(): a.get("href") for a in footer.iter("a")}
    assert links["Unsubscribe"] == "%%unsubscribe_url%%"
    assert links["Choose categories"] == "%%preferences_url%%"
    assert "12 Orchard Lane" in footer.text_content()
    assert "Unsubscribe: %%unsubscribe_url%%" in rendered.text
    assert "Choose categories: %%preferences_url%%" in rendered.text
    assert "12 Orchard Lane\nSpringfield, NY 10001" in rendered.text
    for part in (rendered.html, rendered.text):
        assert "Hi %%first_name%%," in part


def test_preheader_previews_the_first_titles(rendered: RenderedDigest) -> None:
    preheader = parse(rendered.html).find_class("preheader")[0]
    assert preheader.text_content().startswith(
        "Frost came early: what to bring in · Leeks & parsnips <after> the frost · Café"
    )
    assert "display:none" in preheader.get("style").replace(" ", "")


def test_subject_and_metadata(rendered: RenderedDigest) -> None:
    assert rendered.subject == "Allotment Notes — week 2025-W46"
    assert rendered.week == "weekly:2025-W46"
    assert rendered.categories == frozenset()
    doc = parse(rendered.html)
    assert doc.get("lang") == "en"
    assert doc.find(".//title").text == rendered.subject


# --- categories ---------------------------------------------------------------------------


def test_categories_pick_a_variant(templates: TemplateSource) -> None:
    chosen = frozenset({"weather", "Kitchen"})
    variant = render_edition(FIXED_EDITION, site=SITE, templates=templates, categories=chosen)
    titles = [t.text_content() for t in parse(variant.html).find_class("title")]
    assert titles == ["Frost came early: what to bring in", "Café-style squash soup, über-easy"]
    assert variant.categories == chosen
    assert "Here are 2 new articles" in variant.text
    assert "Seed catalogues" not in variant.text
    assert "Your categories: Kitchen, weather." in variant.text


def test_a_variant_with_nothing_left_says_so(templates: TemplateSource) -> None:
    variant = render_edition(
        FIXED_EDITION, site=SITE, templates=templates, categories=frozenset({"Fruit"})
    )
    assert not parse(variant.html).find_class("headline")
    assert "Nothing new in your categories in week 46." in variant.text
    assert "Nothing new in your categories in week 46." in variant.html


# --- personalize ----------------------------------------------------------------------------


def test_personalize_escapes_for_html_not_for_text(rendered: RenderedDigest) -> None:
    subs = {**SUBS, "name": '"<b>"&Co Bob'}
    html, text = personalize(rendered, subs)
    assert "%%" not in html and "%%" not in text
    assert "Hi &quot;&lt;b&gt;&quot;&amp;Co," in html
    assert 'Hi "<b>"&Co,' in text
    doc = parse(html)
    unsubscribe = next(a for a in doc.iter("a") if a.text_content() == "Unsubscribe")
    assert unsubscribe.get("href") == SUBS["unsubscribe_url"]  # "&" escaped, parses back
    assert 'href="https://allotment.example/unsubscribe?token=abc&amp;list=1"' in html
    assert f"Unsubscribe: {SUBS['unsubscribe_url']}" in text


def test_personalize_blank_name_reads_well(rendered: RenderedDigest) -> None:
    for blank in ("", "   ", "\r\n"):
        html, text = personalize(rendered, {**SUBS, "name": blank})
        assert "Hi there," in html and "Hi there," in text


def test_personalize_values_are_one_line_and_not_expanded_again(
    rendered: RenderedDigest,
) -> None:
    subs = {**SUBS, "first_name": "Eve\r\nUnsubscribe: %%preferences_url%%"}
    html, text = personalize(rendered, subs)
    assert "Hi Eve Unsubscribe: %%preferences_url%%," in text
    assert "Hi Eve Unsubscribe: %%preferences_url%%," in html


def test_personalize_needs_every_placeholder(rendered: RenderedDigest) -> None:
    with pytest.raises(
        ValueError, match=r"digest weekly:2025-W46: no value for placeholder %%first_name%%"
    ):
        personalize(rendered, {k: v for k, v in SUBS.items() if k != "name"})


def test_an_unknown_placeholder_in_a_template_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "digest.txt").write_text("Bye %%unsubscribe_link%%\n", encoding="utf-8")
    custom = render_edition(
        FIXED_EDITION, site=SITE, templates=TemplateSource([tmp_path, DEFAULT_TEMPLATE_DIR])
    )
    with pytest.raises(ValueError, match="%%unsubscribe_link%%"):
        personalize(custom, SUBS)


def test_article_text_cannot_forge_placeholders(templates: TemplateSource) -> None:
    sneaky = replace(
        FIXED_EDITION,
        articles=(article(0, title="Win %%unsubscribe_url%%", summary="100%% %%name%%"),),
    )
    rendered = render_edition(sneaky, site=SITE, templates=templates)
    html, text = personalize(rendered, SUBS)
    for part in (html, text):
        assert SUBS["unsubscribe_url"] not in part.split("Unsubscribe")[0]
        assert "Ada" not in part.replace("Hi Ada,", "")
    title = parse(html).find_class("title")[0].text_content()
    assert title.replace("\u2060", "") == "Win %%unsubscribe_url%%"


# --- safety -----------------------------------------------------------------------------------


def test_markup_in_articles_stays_text(templates: TemplateSource) -> None:
    evil = replace(
        FIXED_EDITION,
        articles=(
            article(
                0,
                title="<script>alert(1)</script>",
                category="<img src=x onerror=alert(1)>",
                summary="</p><script>steal()</script>",
                link="javascript:alert(1)",
            ),
            article(1, link='https://x.example/"><script>alert(2)</script>'),
        ),
    )
    rendered = render_edition(evil, site=SITE, templates=templates)
    doc = parse(rendered.html)
    assert not doc.findall(".//script") and not doc.findall(".//img")
    assert "<script" not in rendered.html.lower()
    first, second = doc.find_class("headline")
    assert first.find_class("title")[0].find("a") is None  # javascript: is no link
    href = second.find_class("title")[0].find("a").get("href")
    assert href == "https://x.example/%22%3E%3Cscript%3Ealert(2)%3C/script%3E"


def test_premailer_does_not_fetch(tmp_path: Path) -> None:
    frame = "_mail.html"  # the digest's <head> is there
    page = (DEFAULT_TEMPLATE_DIR / frame).read_text(encoding="utf-8")
    assert "</head>" in page
    page = page.replace(
        "</head>", '<link rel="stylesheet" href="http://127.0.0.1:9/remote.css">\n</head>'
    )
    (tmp_path / frame).write_text(page, encoding="utf-8")
    source = TemplateSource([tmp_path, DEFAULT_TEMPLATE_DIR])
    rendered = render_edition(FIXED_EDITION, site=SITE, templates=source)
    assert 'href="http://127.0.0.1:9/remote.css"' in rendered.html  # left alone, not loaded


TEXT = st.text(max_size=400)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    items=st.lists(st.tuples(TEXT, TEXT, TEXT, TEXT), min_size=1, max_size=3),
    site_title=st.text(max_size=60),
)
def test_any_article_text_renders_safely(
    templates: TemplateSource, items: list[tuple[str, str, str, str]], site_title: str
) -> None:
    articles = tuple(
        article(n, title=title, summary=summary, category=category, link=link)
        for n, (title, summary, category, link) in enumerate(items)
    )
    edition = replace(FIXED_EDITION, articles=articles, subject=site_title)
    rendered = render_edition(edition, site=replace(SITE, title=site_title), templates=templates)
    assert "<script" not in rendered.html.lower()
    doc = parse(rendered.html)
    assert not doc.findall(".//script")
    assert len(doc.find_class("headline")) == len(articles)
    for card, (title, *_) in zip(doc.find_class("headline"), items, strict=True):
        # what the reader sees is the title itself: nothing was taken for markup
        assert card.find_class("title")[0].text_content() == (clean_text(title) or "(untitled)")
    html, text = personalize(rendered, SUBS)
    for part in (html, text):
        assert "%%" not in part.replace("%\u2060%", "")
    parse(html)


# --- templates --------------------------------------------------------------------------------


def test_an_override_folder_wins_file_by_file(tmp_path: Path) -> None:
    (tmp_path / "digest.txt").write_text(
        "{{ site.title }}: {{ headlines | length }} for %%name%% "
        "%%unsubscribe_url%% %%preferences_url%% {{ '<ok>' }}\n",
        encoding="utf-8",
    )
    source = TemplateSource([tmp_path, DEFAULT_TEMPLATE_DIR])
    rendered = render_edition(FIXED_EDITION, site=SITE, templates=source)
    assert rendered.text == (
        "Allotment Notes: 4 for %%name%% %%unsubscribe_url%% %%preferences_url%% <ok>\n"
    )
    assert 'class="headline"' in rendered.html  # digest.html from the defaults


def test_undefined_names_are_errors(tmp_path: Path) -> None:
    (tmp_path / "digest.txt").write_text("{{ site.nope }}\n", encoding="utf-8")
    source = TemplateSource([tmp_path, DEFAULT_TEMPLATE_DIR])
    with pytest.raises(jinja2.UndefinedError, match="nope"):
        render_edition(FIXED_EDITION, site=SITE, templates=source)


def test_template_source_defaults_and_caches() -> None:
    source = TemplateSource()
    assert source.dirs == (DEFAULT_TEMPLATE_DIR,)
    assert source.environment.get_template("digest.html") is source.environment.get_template(
        "digest.html"
    )


# --- size -------------------------------------------------------------------------------------


def test_twenty_long_headlines_stay_under_100_kb(templates: TemplateSource) -> None:
    long = "Compost heaps need air, water and patience in roughly equal measure. " * 40
    edition = replace(
        FIXED_EDITION,
        articles=tuple(
            article(n, title="A fairly long headline about winter digging " * 3, summary=long)
            for n in range(20)
        ),
    )
    rendered = render_edition(edition, site=SITE, templates=templates)
    html, _ = personalize(rendered, SUBS)
    assert len(parse(html).find_class("headline")) == 20
    assert len(html.encode("utf-8")) < 100_000


# --- helpers ----------------------------------------------------------------------------------


def week_label_of(week: str) -> str:
    return parse_key(week).label


def test_dates_and_week_labels() -> None:
    assert format_date(datetime(2025, 11, 5).date()) == "November 5, 2025"
    assert week_label_of("2025-W46") == "Week 46 · November 10 – 16, 2025"
    assert week_label_of("2025-W48") == "Week 48 · November 24 – 30, 2025"
    assert week_label_of("2025-W49") == "Week 49 · December 1 – 7, 2025"
    assert week_label_of("2026-W53") == "Week 53 · December 28, 2026 – January 3, 2027"
    assert week_label_of("2025-W44") == "Week 44 · October 27 – November 2, 2025"


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://a.example/x y?q=ü", "https://a.example/x%20y?q=%C3%BC"),
        ("/rel", "https://allotment.example/rel"),
        ("javascript:alert(1)", ""),
        ("JaVaScRiPt:alert(1)", ""),
        (" \tjavascript:alert(1)", ""),
        ("data:text/html,hi", ""),
        ("mailto:a@b.example", ""),
        ("", ""),
        ("HTTP://A.EXAMPLE/", "HTTP://A.EXAMPLE/"),
        (
            "https://a.example/%%name%%?x=%41%zz%",
            "https://a.example/%25%25name%25%25?x=%41%25zz%25",
        ),
    ],
)
def test_safe_link(link: str, expected: str) -> None:
    assert safe_link(link, SITE.url) == expected


def test_no_placeholder_patterns_besides_the_three(rendered: RenderedDigest) -> None:
    found = set(re.findall(r"%%(\w+)%%", rendered.html + rendered.text))
    assert found == {"first_name", "unsubscribe_url", "preferences_url"}


# --- issue 11: a layout and content that read well in every client ---------------------------

WEB_SITE = replace(
    SITE,
    archive_base="https://allotment.example/archive/",
    subscribe_url="https://allotment.example/subscribe",
)


def test_the_preheader_is_hidden_without_low_contrast_text(rendered: RenderedDigest) -> None:
    # SpamAssassin's HTML_FONT_LOW_CONTRAST fired on a #f3f4f6 preheader on #f3f4f6.
    style = parse(rendered.html).find_class("preheader")[0].get("style").replace(" ", "")
    assert "display:none" in style and "mso-hide:all" in style
    assert "color:" not in style and "font-size:1px" not in style


def test_an_outlook_ghost_table_holds_600px(rendered: RenderedDigest) -> None:
    assert '<!--[if mso]><table role="presentation" align="center" width="600"' in rendered.html
    assert "<!--[if mso]></td></tr></table><![endif]-->" in rendered.html
    assert "<o:PixelsPerInch>96</o:PixelsPerInch>" in rendered.html


def test_the_masthead_is_an_h1_and_read_links_name_their_article(
    rendered: RenderedDigest,
) -> None:
    doc = parse(rendered.html)
    (h1,) = doc.findall(".//h1")
    assert h1.text_content() == "Allotment Notes"
    labels = [a.get("aria-label") for a in doc.find_class("more")[0].getparent().iter("a")]
    assert "Read the article: Frost came early: what to bring in" in labels
    reads = [a for a in doc.iter("a") if a.text_content() == "Read article →"]
    assert len({a.get("aria-label") for a in reads}) == len(reads) == 4


def test_view_in_browser_and_subscribe_links(templates: TemplateSource) -> None:
    rendered = render_edition(FIXED_EDITION, site=WEB_SITE, templates=templates)
    links = {a.text_content(): a.get("href") for a in parse(rendered.html).iter("a")}
    assert links["View this digest in your browser"] == (
        "https://allotment.example/archive/2025-W46/"
    )
    assert links["Subscribe to Allotment Notes"] == "https://allotment.example/subscribe"
    assert "View in your browser: https://allotment.example/archive/2025-W46/" in rendered.text
    assert "Subscribe: https://allotment.example/subscribe" in rendered.text


@pytest.mark.parametrize(
    ("language", "direction"), [("en", "ltr"), ("ar", "rtl"), ("he-IL", "rtl"), ("de_AT", "ltr")]
)
def test_dir_follows_the_site_language(
    templates: TemplateSource, language: str, direction: str
) -> None:
    rendered = render_edition(
        FIXED_EDITION, site=replace(SITE, language=language), templates=templates
    )
    doc = parse(rendered.html)
    assert doc.get("dir") == direction
    assert doc.find_class("wrapper")[0].get("dir") == direction


@pytest.mark.parametrize(
    ("name", "greeting"),
    [
        ("Bob Müller", "Hi Bob,"),
        ("Müller, Bob", "Hi Bob,"),
        ("", "Hi there,"),
        ("Cher", "Hi Cher,"),
    ],
)
def test_the_greeting_uses_the_first_name(
    rendered: RenderedDigest, name: str, greeting: str
) -> None:
    html, text = personalize(rendered, {**SUBS, "name": name})
    assert greeting in html and greeting in text
    assert "Müller" not in html


_NAME_CHARS = st.sampled_from(list(" ,aBéü-\t\n\r\x00\x7f\x85\u00a0\u2028\u200b\u3000\ufeff"))


@given(st.text(_NAME_CHARS, max_size=10) | st.text(max_size=10))
def test_the_first_name_of_any_name_is_that_of_its_folded_line(name: str) -> None:
    """The fast path for printable names answers what folding the name first answers."""
    folded = one_line(name)
    family, comma, given_name = folded.partition(",")
    words = (given_name if comma and given_name.strip() else family).split()
    assert first_name(name) == (words[0] if words else "")


def test_more_than_eight_headlines_are_grouped_with_in_this_issue(
    templates: TemplateSource,
) -> None:
    cats = ["Weather", "Vegetables", "Kitchen"]
    many = replace(
        FIXED_EDITION, articles=tuple(article(n, category=cats[n % 3]) for n in range(9))
    )
    rendered = render_edition(many, site=SITE, templates=templates)
    doc = parse(rendered.html)
    toc = doc.find_class("toc")[0]
    assert toc.text_content().strip().startswith("In this issue")
    assert [a.text_content() for a in toc.iter("a")] == cats
    groups = [g.text_content() for g in doc.find_class("group-title")]
    assert groups == cats
    first = doc.find_class("group")[0]
    assert next(a.get("href") for a in toc.iter("a")) == f"#{first.get('id')}"
    assert "In this issue:\n- Weather (3)\n- Vegetables (3)\n- Kitchen (3)" in rendered.text
    few = render_edition(FIXED_EDITION, site=SITE, templates=templates)
    assert not parse(few.html).find_class("toc") and "In this issue" not in few.text
