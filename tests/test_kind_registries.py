"""Source kinds and feed formats by name: a newcomer's toy kind and toy format, defined only
here and registered, run end to end (settings → gather → store → feeds written), and no
file of the package knows them."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import Field

from syndicate import pipeline
from syndicate.config import ConfigError, Section, SourceSettings, load_settings
from syndicate.config.reference import (
    effective_settings,
    secret_env_names,
    settings_reference,
)
from syndicate.feeds.data import FeedData
from syndicate.feeds.formats import FeedFormat
from syndicate.models import Observation
from syndicate.pipeline.entries import store_entries
from syndicate.pipeline.folder_kind import FOLDER
from syndicate.pipeline.publish import changed_feed_urls
from syndicate.pipeline.source_kinds import GatherRun, SourceKind
from syndicate.registry import FEED_FORMATS, SOURCE_KINDS
from syndicate.sources.feed_entries import FeedEntry, ParsedFeed
from syndicate.store import Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PACKAGE = Path(__file__).parent.parent / "src" / "syndicate"


class LinesSource(Section):
    """The toy kind's own keys."""

    file: str = Field(description="A text file of the toy kind's articles.")
    separator: str = Field(" ", min_length=1, description="Between a line's date and title.")
    token_env: str = Field("LINES_TOKEN", description="The variable of a (toy) secret.")


def read_lines(
    run: GatherRun, sources: Sequence[SourceSettings], meanwhile: Callable[[], None]
) -> None:
    """The toy kind: a text file, one article per line, "YYYY-MM-DD<separator>title"."""
    meanwhile()
    for source in sources:
        entries = []
        options = LINES_KIND.options(source)
        text = run.settings.path(options.file).read_text(encoding="utf-8")
        for line in text.splitlines():
            day, _, title = line.partition(options.separator)
            published = datetime.fromisoformat(day).replace(tzinfo=UTC)
            slug = title.lower().replace(" ", "-")
            observation = Observation(slug, title, published, "full", content=f"<p>{title}</p>")
            entries.append(FeedEntry(slug, observation, hashlib.sha256(line.encode()).hexdigest()))
        store_entries(run, source, ParsedFeed("lines", tuple(entries), (), 0))


def write_titles(feed: FeedData) -> bytes:
    """The toy format: the feed's own URL, then one title per line."""
    return "\n".join([feed.urls["titles"], *(item.title for item in feed.items)]).encode()


LINES_KIND = SourceKind("lines", "one article per line of a text file", read_lines, LinesSource)


@pytest.fixture
def registered() -> Iterator[None]:
    SOURCE_KINDS.register("lines", LINES_KIND)
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


LINES = "[[sources]]\nname = 'notes'\nkind = 'lines'\nfile = 'notes.txt'\ncategory = 'Notes'\n"


def test_a_toy_source_kind_and_feed_format_run_end_to_end(
    registered: None, tmp_path: Path, database_url: str
) -> None:
    (tmp_path / "notes.txt").write_text(
        "2026-11-19|Frost on the cold frame\n2026-11-20|Leeks lifted\n", encoding="utf-8"
    )
    sources = LINES + "separator = '|'\n"
    config = site(tmp_path, database_url, sources, '["rss", "titles"]')
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


def test_the_toy_kinds_keys_are_validated_shown_and_documented(
    registered: None, tmp_path: Path
) -> None:
    settings = load_settings(site(tmp_path, "sqlite:///var/x.db", LINES, '["rss"]'))
    (notes,) = settings.sources
    assert LINES_KIND.options(notes) == LinesSource(file="notes.txt")
    shown = effective_settings(settings)["sources"][0]
    assert (shown["kind"], shown["file"], shown["separator"]) == ("lines", "notes.txt", " ")
    assert "options" not in shown and "path" not in shown
    assert "LINES_TOKEN" in secret_env_names(settings)  # redacted like every *_env key
    reference = settings_reference()
    assert "| `sources[].file` | (required) | (kind 'lines') A text file of" in reference
    assert "| `sources[].path` | `\"\"` | (kind 'folder') Folder of" in reference
    with pytest.raises(TypeError):
        LINES_KIND.options(SourceSettings(name="a", path="a"))  # a folder source


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("", "sources[notes].file: Field required"),
        ("file = 'n.txt'\nseparator = ''\n", "sources[notes].separator: String should have"),
        ("file = 'n.txt'\noptions = {}\n", "sources[notes].options: a lines source has no options"),
        (
            "file = 'n.txt'\npath = 'n'\n",
            "sources[notes].path: a lines source has no path (a key of folder sources)",
        ),
    ],
)
def test_a_bad_key_of_the_toy_kind_is_one_line_naming_the_source_and_key(
    registered: None, tmp_path: Path, table: str, expected: str
) -> None:
    sources = "[[sources]]\nname = 'notes'\nkind = 'lines'\n" + table
    with pytest.raises(ConfigError) as info:
        load_settings(site(tmp_path, "sqlite:///var/x.db", sources, '["rss"]'))
    assert expected in str(info.value) and "\n" not in str(info.value)


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


def test_reading_the_settings_imports_the_kinds_registrations_but_not_their_work(
    tmp_path: Path,
) -> None:
    sources = (
        "[[sources]]\nname = 'blog'\npath = 'articles'\n"
        "[[sources]]\nname = 'partner'\nkind = 'feed'\nurl = 'https://partner.example/feed'\n"
    )
    config = site(tmp_path, "sqlite:///var/x.db", sources, '["rss"]')
    probe = (
        "import sys; from syndicate.config import load_settings; "
        f"s = load_settings({str(config)!r}); assert len(s.sources) == 2; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('syndicate.pipeline', "
        "'syndicate.sources', 'syndicate.store', 'httpx', 'feedparser', 'sqlalchemy')))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == [
        "syndicate.pipeline",
        "syndicate.pipeline.feed_kind",
        "syndicate.pipeline.folder_kind",
        "syndicate.pipeline.source_kinds",
    ]


def test_a_copy_of_a_source_changes_the_keys_of_its_kind() -> None:
    source = SourceSettings(name="a", path="articles", category="Blog")
    moved = source.model_copy(update={"path": "elsewhere", "category": "News"})
    assert FOLDER.options(moved).path == "elsewhere" and moved.category == "News"
    assert FOLDER.options(source).path == "articles"  # the original is as it was
    with pytest.raises(ValueError, match="a folder source has no url"):
        source.model_copy(update={"url": "https://x.example/feed"})
