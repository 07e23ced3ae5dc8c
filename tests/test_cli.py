"""The CLI as an operator uses it: init a site, feed it good and hostile files, run the jobs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate.cli import main

NOW = "2026-11-23T08:00:00+00:00"  # the Monday send: it covers 2026-W47

GOOD = """A night under the pines

November 18, 2026

We set up on the ridge after sunset & waited for the fog. <script>alert(1)</script> stayed text.

The seeing improved after midnight and the last of us packed up at three.

Written by
Ada Observer
Continue reading
November 18, 2026
Observing Reports
A night under the pines
Fog, patience and a clear sky after midnight.
Read article
November 16, 2026
Club News
Library telescope returns
The loaner scope is back on the shelf, with a new finder.
Read article
"""

HOSTILE = {
    "empty.txt": b"",
    "latin1.txt": "Caf\xe9 night\n\nNovember 1, 2026\n\nBody.\n".encode("latin-1"),
    "nodate.txt": b"A title\n\nsometime soon\n\nBody text.\n",
    "notitle.md": b"---\ndate: 2026-11-01\n---\n\nBody.\n",
    "huge.txt": b"Huge\n\nNovember 1, 2026\n\n" + b"x" * 2_000,
}


def invoke(site: Path, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(
        main, ["--config", str(site / "config" / "syndicate.toml"), "--now", NOW, *args]
    )
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    runner = CliRunner()
    result = runner.invoke(main, ["init", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("SYNDICATE_GATHER__MAX_FILE_SIZE", "1000")
    return tmp_path / "site"


def test_init_refuses_to_overwrite(site: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(site)])
    assert result.exit_code == 1
    assert "already exists" in result.stderr


def test_bad_files_are_named_skipped_and_counted(site: Path) -> None:
    articles = site / "articles"
    (articles / "good.txt").write_text(GOOD, encoding="utf-8")
    for name, data in HOSTILE.items():
        (articles / name).write_bytes(data)
    code, out, err = invoke(site, "gather")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == len(HOSTILE)
    for name in HOSTILE:
        assert sum(name in line for line in lines) == 1, (name, lines)
    assert "2 new, 0 updated, 0 unchanged, 0 removed, 5 failed" in out
    code, out, _ = invoke(site, "status")
    assert "articles: 2" in out and "Observing Reports" in out and "Club News" in out


def test_run_once_writes_feeds_and_preview(site: Path) -> None:
    (site / "articles" / "good.txt").write_text(GOOD, encoding="utf-8")
    code, out, err = invoke(site, "run", "--once")
    assert code == 0, err
    public = site / "var" / "public"
    assert (public / "rss.xml").exists() and (public / "index.html").exists()
    assert (public / "category" / "club-news" / "feed.json").exists()
    feed = json.loads((public / "feed.json").read_text(encoding="utf-8"))
    assert [item["title"] for item in feed["items"]] == [
        "A night under the pines",
        "Library telescope returns",
    ]
    assert "<script>" not in (public / "rss.xml").read_text(encoding="utf-8").replace(
        "&lt;script&gt;", ""
    )
    outbox = site / "var" / "outbox"
    for name in ("digest.html", "digest.txt", "digest.eml"):
        assert str(outbox / name) in out
    assert "2026-W47: 2 articles" in out


def test_publish_is_gather_then_feeds_in_one_process(tmp_path: Path, site: Path) -> None:
    (site / "articles" / "good.txt").write_text(GOOD, encoding="utf-8")
    (site / "articles" / "empty.txt").write_bytes(b"")
    other = tmp_path / "separate" / site.name  # the same name: the same site title
    assert CliRunner().invoke(main, ["init", str(other)]).exit_code == 0
    for name in ("good.txt", "empty.txt"):
        (other / "articles" / name).write_bytes((site / "articles" / name).read_bytes())
    code, out, err = invoke(site, "publish")
    # A file that failed: exit 1, named once, and the feeds are built from the rest.
    assert code == 1 and err.count("empty.txt") == 1, err
    assert "gather: 2 new, 0 updated, 0 unchanged, 0 removed, 1 failed" in out
    assert "feeds: " in out.splitlines()[1]
    assert invoke(other, "gather")[0] == 1 and invoke(other, "feeds")[0] == 0
    public, separate = site / "var" / "public", other / "var" / "public"
    built = {p.relative_to(public): p.read_bytes() for p in public.rglob("*") if p.is_file()}
    assert {
        p.relative_to(separate): p.read_bytes() for p in separate.rglob("*") if p.is_file()
    } == built
    assert Path("category/club-news/feed.json") in built


def test_preview_of_a_bad_week_is_a_clear_error(site: Path) -> None:
    code, _, err = invoke(site, "digest", "preview", "--week", "2026-W99")
    assert code == 1 and "--week" in err and err[-1] == "\n" and err.count("\n") == 1


def test_config_show_redacts_secrets(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", "VKLExOMNBlWFtYexvDUzwsj6Gl8EXfWjzOOUufJ8HWo")
    monkeypatch.setenv("SYNDICATE_FEEDS__ITEMS", "7")
    code, out, _ = invoke(site, "config", "show")
    assert code == 0
    assert "VKLExOMNBlWFtYexvDUzwsj6Gl8EXfWjzOOUufJ8HWo" not in out and "********" in out
    assert "items = 7" in out


def test_bad_config_is_one_line_naming_file_and_key(site: Path) -> None:
    config = site / "config" / "syndicate.toml"
    config.write_text(config.read_text().replace("items = 50", "items = -1"))
    code, _, err = invoke(site, "feeds")
    assert code == 1
    assert err.count("\n") == 1 and "syndicate.toml" in err and "feeds.items" in err


def test_help_imports_no_heavy_library() -> None:
    """`syndicate --help` stays fast because nothing heavy is imported for it
    (bench/bench_cli.py measures the time)."""
    probe = "import sys; from syndicate.cli import main; print(sorted(sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    for heavy in ("sqlalchemy", "feedgen", "premailer", "lxml", "rich", "pydantic", "jinja2"):
        assert f"'{heavy}'" not in done.stdout, heavy


def test_a_command_ends_with_its_heap_frozen_and_every_exit_function_run(site: Path) -> None:
    """The interpreter's shutdown collections skip what the command made (the CLI freezes it
    in an exit function); the probe's exit function, registered before the CLI's, still runs
    after it."""
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen:', gc.get_freeze_count() > 0, flush=True))\n"
        "from syndicate.cli import main\n"
        "main(['--config', sys.argv[1], 'status'])\n"
    )
    config = str(site / "config" / "syndicate.toml")
    done = subprocess.run(
        [sys.executable, "-c", probe, config], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "frozen: True"


def test_status_lists_drafts_and_scheduled_articles(site: Path) -> None:
    articles = site / "articles"
    (articles / "draft.md").write_text(
        "---\ntitle: Half written\ndate: 2026-11-01\ndraft: true\n---\n\nSoon.\n", "utf-8"
    )
    (articles / "later.md").write_text(
        "---\ntitle: Next year\ndate: 2027-01-05\n---\n\nLater.\n", "utf-8"
    )
    code, out, err = invoke(site, "gather")
    assert code == 0, err
    code, out, _ = invoke(site, "status")
    assert code == 0
    assert "draft: Half written" in out
    assert "scheduled: Next year" in out and "2027-01-05" in out
