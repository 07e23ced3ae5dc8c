"""Source kinds and feed formats by name: a newcomer's toy kind and toy format, defined only
here and registered, run end to end (settings → gather → store → feeds written), and no
file of the package knows them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicate import pipeline
from syndicate.config import ConfigError, SourceSettings, load_settings
from syndicate.feeds.data import FeedData
from syndicate.feeds.formats import FeedFormat
from syndicate.models import Observation
from syndicate.pipeline.entries import store_entries
from syndicate.pipeline.publish import changed_feed_urls
from syndicate.pipeline.source_kinds import GatherRun, SourceKind
from syndicate.registry import FEED_FORMATS, SOURCE_KINDS
from syndicate.sources.feed_entries import FeedEntry, ParsedFeed
from syndicate.store import Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PACKAGE = Path(__file__).parent.parent / "src" / "syndicate"


def read_lines(
    run: GatherRun, sources: Sequence[SourceSettings], meanwhile: Callable[[], None]
) -> None:
    """The toy kind: a text file, one article per line, "YYYY-MM-DD title"."""
    meanwhile()
    for source in sources:
        entries = []
        text = run.settings.path(source.path).read_text(encoding="utf-8")
        for line in text.splitlines():
            day, _, title = line.partition(" ")
            published = datetime.fromisoformat(day).replace(tzinfo=UTC)
            slug = title.lower().replace(" ", "-")
            observation = Observation(slug, title, published, "full", content=f"<p>{title}</p>")
            entries.append(FeedEntry(slug, observation, hashlib.sha256(line.encode()).hexdigest()))
        store_entries(run, source, ParsedFeed("lines", tuple(entries), (), 0))


def write_titles(feed: FeedData) -> bytes:
    """The toy format: the feed's own URL, then one title per line."""
    return "\n".join([feed.urls["titles"], *(item.title for item in feed.items)]).encode()


@pytest.fixture
def registered() -> Iterator[None]:
    SOURCE_KINDS.register("lines", SourceKind("lines", read_lines))
    FEED_FORMATS.register(
        "titles", FeedFormat("titles", "Titles", "titles.txt", "text/plain", write_titles)
    )
    yield
    SOURCE_KINDS.unregister("lines")
    FEED_FORMATS.unregister("titles")


def site(tmp_path: Path, database_url: str, sources: str, formats: str) -> Path:
    config = tmp_path / "config" / "syndicate.toml"
    config.parent.mkdir()
    config.write_text(
        f'[site]\nurl = "https://toy.example/"\n[storage]\nurl = "{database_url}"\n'
        f'[feeds]\noutput_dir = "public"\nformats = {formats}\nper_category = true\n{sources}',
        encoding="utf-8",
    )
    return config


LINES = "[[sources]]\nname = 'notes'\nkind = 'lines'\npath = 'notes.txt'\ncategory = 'Notes'\n"


def test_a_toy_source_kind_and_feed_format_run_end_to_end(
    registered: None, tmp_path: Path, database_url: str
) -> None:
    (tmp_path / "notes.txt").write_text(
        "2026-11-19 Frost on the cold frame\n2026-11-20 Leeks lifted\n", encoding="utf-8"
    )
    config = site(tmp_path, database_url, LINES, '["rss", "titles"]')
    settings = load_settings(config)
    with Store(settings.database_url) as store:
        errors: list[str] = []
        report = pipeline.gather(settings, store, now=NOW, on_error=errors.append)
        assert errors == [] and (report.new, report.failed) == (2, 0)
        again = pipeline.gather(settings, store, now=NOW, on_error=errors.append)
        assert (again.new, again.updated) == (0, 0)  # unchanged lines are not written again
        built = pipeline.build_all_feeds(settings, store, NOW)
    public = tmp_path / "public"
    assert (public / "titles.txt").read_text(encoding="utf-8").splitlines() == [
        "https://toy.example/titles.txt",
        "Leeks lifted",
        "Frost on the cold frame",
    ]
    assert (public / "category" / "notes" / "titles.txt").is_file()
    assert "Leeks lifted" in (public / "rss.xml").read_text(encoding="utf-8")
    assert not (public / "atom.xml").exists()
    assert "Titles" in {link.title.rsplit("(", 1)[-1].rstrip(")") for link in built.feeds}
    assert "https://toy.example/titles.txt" in changed_feed_urls(settings, built)


def test_the_toy_lives_only_in_the_test() -> None:
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "read_lines" not in text and "titles.txt" not in text, path


@pytest.mark.parametrize(
    ("sources", "formats", "expected"),
    [
        (LINES, '["rss"]', "sources.0.kind: no source kind named 'lines' (one of feed, folder)"),
        ("", '["titles"]', "feeds.formats: no feed format named 'titles' (one of rss, atom, json)"),
    ],
)
def test_an_unregistered_name_is_one_line_naming_the_key_and_the_known_names(
    tmp_path: Path, sources: str, formats: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(site(tmp_path, "sqlite:///var/x.db", sources, formats))
    assert expected in str(info.value) and "\n" not in str(info.value)
