"""Every command imports only what it uses (issue 14, item 6).

The real command runs in its own interpreter under ``-X importtime``, which names every
module it imported; a command that does not need the web server, the scheduler, the CSS
inliner or an HTTP client must not load them. bench/bench_cli.py measures the start-up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# The slow lane: every test starts fresh interpreters.
pytestmark = pytest.mark.slow

NOW = "2026-11-21T12:00:00+00:00"
EXAMPLES = Path(__file__).parent.parent / "examples" / "articles"

# What none of these commands needs: the web front, the scheduler, a mail API client.
SERVICE = ("uvicorn", "starlette", "apscheduler", "sendgrid", "python_http_client")
# The CSS inliner and what it brings (requests comes with premailer): only for rendering mail.
INLINER = ("premailer", "cssutils", "requests")
# Only for feed sources: fetching and parsing remote feeds.
FEED_CLIENT = ("httpx", "httpcore", "feedparser")
# Only for the SMTP sender: every settings load reads the senders' registrations, not them.
SMTP_CLIENT = ("smtplib",)


def modules(site: Path, *args: str) -> set[str]:
    """The full names of the modules the real command imported (it must succeed)."""
    config = site / "config" / "syndicate.toml"
    env = {**os.environ, "SYNDICATE_NOW": NOW}
    command = [sys.executable, "-X", "importtime", "-m", "syndicate", "--config", str(config)]
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "syndicate" in names  # the probe sees imports at all
    return names


def imported(site: Path, *args: str) -> set[str]:
    """The top-level packages the real command imported (it must succeed)."""
    return {name.split(".")[0] for name in modules(site, *args)}


def leaked(loaded: set[str], unwanted: tuple[str, ...]) -> list[str]:
    return sorted(loaded.intersection(unwanted))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small site (the examples), gathered once."""
    from click.testing import CliRunner

    from syndicate.cli import main

    root = tmp_path_factory.mktemp("startup") / "site"
    result = CliRunner().invoke(main, ["init", str(root)])
    assert result.exit_code == 0, result.output
    shutil.rmtree(root / "articles")
    shutil.copytree(EXAMPLES, root / "articles")
    imported(root, "gather")
    return root


@pytest.mark.parametrize(
    "args",
    [("status",), ("status", "--json"), ("feeds",), ("gather",)],
    ids=" ".join,
)
def test_command_loads_no_service_inliner_or_http_client(site: Path, args: tuple[str]) -> None:
    assert leaked(imported(site, *args), SERVICE + INLINER + FEED_CLIENT + SMTP_CLIENT) == []


@pytest.mark.parametrize("args", [("status",), ("status", "--json")], ids=" ".join)
def test_status_of_a_sqlite_store_loads_no_sqlalchemy(site: Path, args: tuple[str]) -> None:
    """It reads the store with the sqlite3 module (store.status_reads)."""
    loaded = imported(site, *args)
    assert "sqlite3" in loaded  # the probe sees how it read the store
    assert leaked(loaded, ("sqlalchemy", "alembic")) == []


def test_feeds_with_nothing_changed_loads_no_sqlalchemy_and_renders_nothing(
    site: Path, tmp_path: Path
) -> None:
    """It finds through sqlite3 that the last build stands (pipeline.publish.unchanged_build):
    no SQLAlchemy, no feed writer, no template engine; a change builds again, with them."""
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    imported(copy, "feeds")  # the first build
    loaded = imported(copy, "feeds")
    assert "sqlite3" in loaded  # the probe sees how it read the store
    assert leaked(loaded, ("sqlalchemy", "alembic", "jinja2", "lxml")) == []
    article = sorted((copy / "articles").glob("*.md"))[-1]
    article.write_text(article.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    imported(copy, "gather")
    rebuilt = imported(copy, "feeds")
    assert {"jinja2", "lxml"} <= rebuilt


def test_feeds_after_a_change_builds_without_sqlalchemy(site: Path, tmp_path: Path) -> None:
    """A build reads the articles through sqlite3 too (store.build_reads): after cron's
    gather of one edited article, `feeds` renders and writes without loading SQLAlchemy."""
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    imported(copy, "feeds")  # the first build
    article = sorted((copy / "articles").glob("*.md"))[-1]
    article.write_text(article.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    imported(copy, "gather")
    rebuilt = imported(copy, "feeds")
    assert {"sqlite3", "jinja2", "lxml"} <= rebuilt  # it read the store and built
    assert leaked(rebuilt, ("sqlalchemy", "alembic")) == []


def test_gather_with_nothing_changed_loads_no_sqlalchemy_and_no_parser(
    site: Path, tmp_path: Path
) -> None:
    """It compares the files with their rows through sqlite3 (pipeline.gather_check): no
    SQLAlchemy, no front-matter or YAML parser, nor in `publish` (the quick gather, then the
    quick feeds); a changed file is parsed, and stored through sqlite3 too
    (store.gather_writes), still without SQLAlchemy."""
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    loaded = imported(copy, "gather")
    assert "sqlite3" in loaded  # the probe sees how it read the store
    assert leaked(loaded, ("sqlalchemy", "alembic", "frontmatter", "yaml")) == []
    imported(copy, "feeds")  # the first build
    assert leaked(imported(copy, "publish"), ("sqlalchemy", "frontmatter", "jinja2")) == []
    article = sorted((copy / "articles").glob("*.md"))[-1]
    article.write_text(article.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    changed = imported(copy, "gather")
    assert "frontmatter" in changed and leaked(changed, ("sqlalchemy", "alembic")) == []


def test_a_sqlite_site_loads_no_postgresql_dialect(site: Path, tmp_path: Path) -> None:
    """SQLAlchemy's PostgreSQL dialect (~40 ms to import) loads for a PostgreSQL store only:
    the schema's PostgreSQL index options wait in the indexes' info (store.columns). A first
    `publish` creates the store through SQLAlchemy and gathers into it."""
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    for database in (copy / "var").glob("*.db*"):
        database.unlink()
    loaded = modules(copy, "publish")
    assert "sqlalchemy.dialects.sqlite" in loaded  # the probe sees the store's dialect
    assert (
        sorted(name for name in loaded if name.startswith("sqlalchemy.dialects.postgresql")) == []
    )


_PLUGIN_PROBE = """
import importlib.metadata, sys
groups = []
lookup = importlib.metadata.entry_points
def entry_points(**selection):
    groups.append(selection.get("group"))
    return lookup(**selection)
importlib.metadata.entry_points = entry_points
from syndicate.cli import main
try:
    main(["--config", sys.argv[1], "status"])
except SystemExit as exit:
    assert not exit.code, exit.code
print("pydantic" in groups, file=sys.stderr)
"""


@pytest.mark.parametrize(("operator", "looked"), [(None, "False"), ("", "True")])
def test_the_command_line_does_not_look_for_pydantic_plugins(
    site: Path, operator: str | None, looked: str
) -> None:
    """pydantic's plugin lookup scans every installed package's metadata as the settings
    models are built (~20 ms a command): syndicate.cli turns it off, unless the operator
    set PYDANTIC_DISABLE_PLUGINS (here to "", which looks for every plugin)."""
    env = {**os.environ, "SYNDICATE_NOW": NOW}
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    if operator is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = operator
    config = str(site / "config" / "syndicate.toml")
    done = subprocess.run(
        [sys.executable, "-c", _PLUGIN_PROBE, config],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr.splitlines()[-1] == looked


def test_digest_preview_loads_the_inliner_and_nothing_of_the_service(site: Path) -> None:
    loaded = imported(site, "digest", "preview")
    assert "premailer" in loaded  # it renders and inlines: the probe sees what it needs
    assert leaked(loaded, SERVICE + FEED_CLIENT + SMTP_CLIENT) == []


def test_gather_of_a_feed_source_loads_the_feed_client(site: Path, tmp_path: Path) -> None:
    """The feed client is left out because it is not needed, not because it is broken."""
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Partner</title>'
        "<link>https://partner.example.org/</link><description>d</description><item>"
        "<title>Partner night</title><link>https://partner.example.org/night</link>"
        "<pubDate>Tue, 17 Nov 2026 20:00:00 GMT</pubDate></item></channel></rss>",
        encoding="utf-8",
    )
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    config = copy / "config" / "syndicate.toml"
    with config.open("a", encoding="utf-8") as out:
        out.write(f'\n[[sources]]\nname = "partner"\nkind = "feed"\nurl = "{feed}"\n')
    loaded = imported(copy, "gather")
    assert {"feedparser"} <= loaded
    assert leaked(loaded, SERVICE + INLINER) == []


@pytest.mark.parametrize(
    "package",
    [
        "syndicate.pipeline",
        "syndicate.sources",
        "syndicate.feeds",
        "syndicate.service",
        "syndicate.store",
    ],
)
def test_lazy_package_exports_exactly_what_it_declares(package: str) -> None:
    """``__all__`` is the ``if TYPE_CHECKING:`` block's names, and each of them resolves."""
    import importlib

    from syndicate.lazy import type_checking_imports

    module = importlib.import_module(package)
    assert module.__file__ is not None
    declared = type_checking_imports(Path(module.__file__).read_text(encoding="utf-8"))
    assert sorted(declared) == sorted(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is getattr(importlib.import_module(declared[name]), name)
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = module.missing


def test_feed_parsing_children_start_with_the_parser_loaded() -> None:
    """The fork server imports what its children run: with the lazy package namespaces,
    nothing else imports it for them, and each child would import it afresh."""
    from syndicate.pipeline.feed_schedule import read_newest
    from syndicate.sources import isolation

    assert read_newest.__module__ in isolation.PRELOAD
