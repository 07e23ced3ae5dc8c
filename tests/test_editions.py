"""Issue 10: an edition is a period of a cadence. Each "What was seen" of the issue, on a real
store (SQLite, and PostgreSQL when configured) with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import html as lxml_html

from syndicate.config import Settings
from syndicate.delivery import Batch, Outcome
from syndicate.models import Article, SubscriberStatus
from syndicate.pipeline.edition import (
    EditionError,
    choose_period,
    latest_complete,
    prepare_edition,
    preview_edition,
)
from syndicate.pipeline.send import send_edition
from syndicate.store import Store

SECRET = "AFqM6Bln4J8zNJ1ddMVvhaFvY7a3VqMJUpHcjlfTDtg"
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # the scheduled Monday, 2026-W48


@dataclass
class Capture:
    """A sender that keeps every batch (subject, parts, recipients)."""

    max_batch: int = 100
    batches: list[Batch] = field(default_factory=list)

    def send(self, batch: Batch) -> list[Outcome]:
        self.batches.append(batch)
        return [Outcome(r.delivery_id, "sent") for r in batch.recipients]

    def close(self) -> None:
        return None

    def to(self, email: str) -> Batch:
        (batch,) = [b for b in self.batches if any(r.email == email for r in b.recipients)]
        return batch


def article(n: int, published: datetime, category: str = "News", **fields: object) -> Article:
    values: dict[str, object] = {
        "guid": f"urn:test:{n}",
        "slug": f"post-{n}",
        "title": f"Post {n}",
        "link": f"https://site.example.org/post-{n}",
        "published": published,
        "category": category,
        "summary": f"Summary {n}.",
        "content": f"<p>Body {n}</p>",
        "content_hash": f"h{n}",
    }
    return Article(**(values | fields))  # type: ignore[arg-type]


def make_settings(root: Path, **digest: object) -> Settings:
    return Settings.model_validate(
        {
            "site": {"title": "Site", "url": "https://site.example.org/"},
            "email": {"from_address": "digest@site.example.org"},
            "digest": digest,
            "root": root,
        }
    )


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with Store(database_url) as opened:
        yield opened


def reader(store: Store, email: str, categories: frozenset[str] = frozenset(), **kw: str) -> None:
    store.add_subscriber(email, "", categories, SubscriberStatus.ACTIVE, MONDAY_8, **kw)


# --- 1: the period of an edition ---------------------------------------------------------


def test_the_monday_send_covers_the_week_that_just_ended(tmp_path: Path, store: Store) -> None:
    # Seen: at Monday 08:00 the digest was titled "Week 48 · November 23 – 29" and listed
    # articles of November 18–19.
    settings = make_settings(tmp_path)
    store.upsert_articles(
        [article(1, datetime(2026, 11, 18, 9, tzinfo=UTC)), article(2, MONDAY_8)], MONDAY_8
    )
    period = latest_complete(settings, "weekly", MONDAY_8)
    assert (period.key, period.label) == ("weekly:2026-W47", "Week 47 · November 16 – 22, 2026")
    edition = prepare_edition(settings, store, period, now=MONDAY_8)
    assert edition is not None and [a.guid for a in edition.articles] == ["urn:test:1"]
    reader(store, "ann@example.org")
    sender = Capture()
    report = send_edition(settings, store, sender, period, clock=lambda: MONDAY_8)
    assert report.week == "weekly:2026-W47" and report.counts["sent"] == 1
    assert "Week 47 · November 16 – 22, 2026" in sender.batches[0].text
    assert "Post 2" not in sender.batches[0].text  # Monday's own article waits for its week


def test_a_first_edition_holds_only_its_own_period(tmp_path: Path, store: Store) -> None:
    # Seen: a first edition in December 2026 listed articles of April 2024, October 2024
    # ("Renewals for 2025 open…") and June 2025 under "new this week".
    settings = make_settings(tmp_path)
    old = [datetime(2024, 4, 12, tzinfo=UTC), datetime(2024, 10, 8, tzinfo=UTC)]
    old.append(datetime(2025, 6, 10, tzinfo=UTC))
    new = datetime(2026, 12, 2, 9, tzinfo=UTC)
    store.upsert_articles([article(n, when) for n, when in enumerate([*old, new])], new)
    now = datetime(2026, 12, 7, 8, tzinfo=UTC)
    edition = prepare_edition(settings, store, latest_complete(settings, "weekly", now), now=now)
    assert edition is not None and [a.published for a in edition.articles] == [new]


def test_the_rest_beyond_max_items_is_counted(tmp_path: Path, store: Store) -> None:
    settings = make_settings(tmp_path, max_items=3)
    week = datetime(2026, 11, 16, 10, tzinfo=UTC)
    store.upsert_articles([article(n, week + timedelta(hours=n)) for n in range(15)], MONDAY_8)
    edition = prepare_edition(settings, store, "2026-W47", now=MONDAY_8)
    assert edition is not None and [a.guid for a in edition.articles] == [
        "urn:test:14",
        "urn:test:13",
        "urn:test:12",
    ]
    assert edition.more == 12
    report = preview_edition(settings, store, "2026-W47", now=MONDAY_8)
    assert report is not None
    assert "and 12 more on the site: https://site.example.org/" in report.text.read_text()
    assert "and 12 more on" in report.html.read_text()


def test_cadences_are_independent_a_daily_and_a_weekly_reader_both_get_it(
    tmp_path: Path, store: Store
) -> None:
    # Seen: a daily or monthly cadence would take the weekly edition's articles.
    settings = make_settings(tmp_path, cadences=["daily", "weekly", "monthly"])
    sunday = datetime(2026, 11, 22, 9, tzinfo=UTC)
    store.upsert_articles([article(1, sunday)], sunday)
    reader(store, "day@example.org", cadence="daily")
    reader(store, "week@example.org", cadence="weekly")
    reader(store, "month@example.org", cadence="monthly")
    sender = Capture()
    for period in ("daily:2026-11-22", "weekly:2026-W47"):
        send_edition(settings, store, sender, period, clock=lambda: MONDAY_8)
    assert sorted(r.email for b in sender.batches for r in b.recipients) == [
        "day@example.org",
        "week@example.org",
    ]
    assert all("Post 1" in b.text for b in sender.batches)
    assert store.get_edition("daily:2026-11-22") is not None
    assert sender.to("day@example.org").recipients[0].message_id.startswith("<daily-2026-11-22.")
    assert sender.to("week@example.org").recipients[0].message_id.startswith("<2026-W47.")
    december = datetime(2026, 12, 1, 8, tzinfo=UTC)
    send_edition(settings, store, sender, "monthly:2026-11", clock=lambda: december)
    assert "Post 1" in sender.to("month@example.org").text


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ((None, None), "weekly:2026-W47"),
        (("daily", None), "daily:2026-11-22"),
        (("monthly", None), "monthly:2026-10"),
        ((None, "2026-11-20"), "daily:2026-11-20"),
        ((None, "2026-10"), "monthly:2026-10"),
        ((None, "daily-2026-11-20"), "daily:2026-11-20"),
        (("weekly", "2026-W40"), "weekly:2026-W40"),
    ],
)
def test_choosing_a_period(tmp_path: Path, given: tuple[str | None, str | None], key: str) -> None:
    settings = make_settings(tmp_path, cadences=["daily", "weekly", "monthly"])
    cadence, period = given
    assert choose_period(settings, cadence, period, now=MONDAY_8).key == key


def test_a_bad_or_disabled_period_is_one_clear_line(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    for cadence, period, message in [
        ("daily", None, "--cadence: daily is not in digest.cadences (weekly)"),
        ("monthly", "2026-13", "--period: monthly period '2026-13': month must be in 1..12"),
        ("weekly", "2026-W60", "--period: week '2026-W60': 2026 has weeks 01 to 53"),
        ("hourly", None, "--period: cadence 'hourly': expected one of daily, weekly, monthly"),
    ]:
        with pytest.raises(EditionError) as caught:
            choose_period(settings, cadence, period, now=MONDAY_8)
        assert str(caught.value) == message


# --- 3: live until sent, the editor's note -----------------------------------------------


def test_an_edition_stays_live_until_its_send_starts_then_never_changes(
    tmp_path: Path, store: Store
) -> None:
    # Seen: after the first `digest preview`, an article written later that week never
    # reached that week's edition.
    settings = make_settings(tmp_path)
    tuesday = datetime(2026, 11, 17, 9, tzinfo=UTC)
    store.upsert_articles([article(1, tuesday)], tuesday)
    first = preview_edition(settings, store, "2026-W47", now=tuesday + timedelta(hours=1))
    assert first is not None and [a.guid for a in first.edition.articles] == ["urn:test:1"]
    assert store.get_edition("weekly:2026-W47") is None  # a preview stores nothing
    friday = datetime(2026, 11, 20, 9, tzinfo=UTC)
    store.upsert_articles([article(2, friday)], friday)
    again = preview_edition(settings, store, "2026-W47", now=friday + timedelta(hours=1))
    assert again is not None and [a.guid for a in again.edition.articles] == [
        "urn:test:2",
        "urn:test:1",
    ]
    reader(store, "ann@example.org")
    sender = Capture()
    send_edition(settings, store, sender, "2026-W47", clock=lambda: MONDAY_8)
    # Published later (a back-dated post): the sent edition keeps what it sent.
    store.upsert_articles([article(3, friday + timedelta(hours=2))], MONDAY_8)
    later = MONDAY_8 + timedelta(hours=1)
    frozen = prepare_edition(settings, store, "2026-W47", now=later)
    assert frozen is not None and frozen.frozen
    assert [a.guid for a in frozen.articles] == ["urn:test:2", "urn:test:1"]
    preview = preview_edition(settings, store, "2026-W47", now=later)
    assert preview is not None and "Post 3" not in preview.text.read_text()


def test_the_editors_note_is_above_the_headlines_in_both_parts_and_frozen_with_the_send(
    tmp_path: Path, store: Store
) -> None:
    settings = make_settings(tmp_path)
    store.upsert_articles([article(1, datetime(2026, 11, 18, tzinfo=UTC))], MONDAY_8)
    notes = tmp_path / "digest"
    notes.mkdir()
    note = notes / "weekly-2026-W47.md"
    note.write_text("**Clear skies** this week.\n\n<script>x()</script>Meeting on *Friday*.\n")
    report = preview_edition(settings, store, "2026-W47", now=MONDAY_8)
    assert report is not None
    page = report.html.read_text()
    assert "<strong>Clear skies</strong>" in page and "<script" not in page
    assert page.index('class="note"') < page.index('class="headline"')
    text = report.text.read_text()
    assert "Clear skies this week." in text and text.index("Clear skies") < text.index("Post 1")
    reader(store, "ann@example.org")
    send_edition(settings, store, Capture(), "2026-W47", clock=lambda: MONDAY_8)
    note.write_text("Changed after the send.\n")
    frozen = prepare_edition(settings, store, "2026-W47", now=MONDAY_8 + timedelta(hours=1))
    assert frozen is not None and "Clear skies" in frozen.note


def test_a_bad_note_is_one_line_naming_the_file(tmp_path: Path, store: Store) -> None:
    settings = make_settings(tmp_path)
    store.upsert_articles([article(1, datetime(2026, 11, 18, tzinfo=UTC))], MONDAY_8)
    (tmp_path / "digest").mkdir()
    (tmp_path / "digest" / "weekly-2026-W47.md").write_bytes(b"caf\xe9\n")
    with pytest.raises(EditionError, match=r"weekly-2026-W47\.md: not UTF-8 \(byte 3\)"):
        prepare_edition(settings, store, "2026-W47", now=MONDAY_8)


# --- 4: what a reader sees is about their variant ----------------------------------------


def test_subject_title_preheader_and_intro_are_the_variants_own(
    tmp_path: Path, store: Store
) -> None:
    # Seen: a subscriber with two categories got the subject and <title> "15 new articles"
    # and a body "Here are 5 new articles".
    settings = make_settings(tmp_path, subject="{count} new articles · {site}")
    week = datetime(2026, 11, 16, 10, tzinfo=UTC)
    cats = ["Events", "Sky Guide", "Club News"]
    store.upsert_articles(
        [article(n, week + timedelta(hours=n), cats[n % 3]) for n in range(15)], MONDAY_8
    )
    reader(store, "two@example.org", frozenset({"Events", "Sky Guide"}))
    reader(store, "all@example.org")
    sender = Capture()
    send_edition(settings, store, sender, "2026-W47", clock=lambda: MONDAY_8)
    two, everyone = sender.to("two@example.org"), sender.to("all@example.org")
    assert two.subject == "10 new articles · Site" and everyone.subject == "15 new articles · Site"
    doc = lxml_html.fromstring(two.html)
    assert doc.find(".//title").text == "10 new articles · Site"
    assert "Here are 10 new articles" in two.text and "Here are 10 new articles" in two.html
    preheader = doc.find_class("preheader")[0].text_content()
    assert preheader.startswith("Post 13 · Post 12 · Post 10")  # Events and Sky Guide only


def test_the_default_subject_leads_with_the_top_headline(tmp_path: Path, store: Store) -> None:
    settings = make_settings(tmp_path)
    week = datetime(2026, 11, 16, 10, tzinfo=UTC)
    store.upsert_articles(
        [
            article(1, week, "Events", title="Star party"),
            article(2, week + timedelta(hours=1), "Sky Guide", title="Geminids"),
        ],
        MONDAY_8,
    )
    reader(store, "events@example.org", frozenset({"Events"}))
    reader(store, "all@example.org")
    sender = Capture()
    send_edition(settings, store, sender, "2026-W47", clock=lambda: MONDAY_8)
    assert sender.to("all@example.org").subject == "Geminids + 1 more · Site"
    assert sender.to("events@example.org").subject == "Star party · Site"  # no "+ 0 more"
