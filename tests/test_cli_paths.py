"""Every command against a bad path: one line on stderr naming it, a non-zero exit, no
traceback. As root, permissions do not stop a write, so the unwritable place is under /proc."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.test_cli_delivery import make_site

from syndicate.cli import main

NOW = "2026-11-23T08:00:00+00:00"
UNWRITABLE = Path("/proc/syndicate-unwritable")


def bad_path(kind: str, tmp_path: Path) -> Path:
    if kind == "unwritable":
        return UNWRITABLE / "out"
    if kind == "file":
        path = tmp_path / "a-file"
        path.write_text("not a folder")
        return path
    return tmp_path / "missing-parent-file" / "x" if kind == "under-a-file" else tmp_path


CASES = ["unwritable", "file"]
# (command, the environment variable pointing it at the bad path)
OUTPUTS = [
    (["feeds"], "SYNDICATE_FEEDS__OUTPUT_DIR"),
    (["digest", "preview"], "SYNDICATE_DELIVERY__OUTBOX_DIR"),
    (["run", "--once"], "SYNDICATE_FEEDS__OUTPUT_DIR"),
    (["run", "--once"], "SYNDICATE_DELIVERY__OUTBOX_DIR"),
    (["digest", "test-send", "me@example.net"], "SYNDICATE_DELIVERY__OUTBOX_DIR"),
    (["gather"], "SYNDICATE_STORAGE__URL"),
    (["status"], "SYNDICATE_STORAGE__URL"),
    (["db", "upgrade"], "SYNDICATE_STORAGE__URL"),
]


def check_one_line(result: object, named: str) -> None:
    from click.testing import Result

    assert isinstance(result, Result)
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert named in result.stderr, result.stderr


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", "paths-secret")
    site = make_site(tmp_path / "site", monkeypatch)
    result = CliRunner().invoke(main, ["--config", str(site / "config/syndicate.toml"), "gather"])
    assert result.exit_code == 0, result.output
    return site


@pytest.mark.parametrize("kind", CASES)
@pytest.mark.parametrize(("command", "variable"), OUTPUTS)
def test_a_bad_output_path_is_one_line(
    site: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    command: list[str],
    variable: str,
) -> None:
    path = bad_path(kind, tmp_path)
    value = f"sqlite:///{path / 'x.db'}" if variable == "SYNDICATE_STORAGE__URL" else str(path)
    monkeypatch.setenv(variable, value)
    config = str(site / "config" / "syndicate.toml")
    result = CliRunner().invoke(main, ["--config", config, "--now", NOW, *command])
    check_one_line(result, str(UNWRITABLE if kind == "unwritable" else path))


@pytest.mark.parametrize("kind", ["unwritable", "file", "missing"])
def test_init_on_a_bad_path_is_one_line(tmp_path: Path, kind: str) -> None:
    path = {
        "unwritable": UNWRITABLE / "site",
        "file": bad_path("file", tmp_path) / "site",
        "missing": tmp_path / "no" / "such" / "site",
    }[kind]
    result = CliRunner().invoke(main, ["init", str(path)])
    if kind == "missing":  # parents are made, as mkdir -p does
        assert result.exit_code == 0, result.output
        return
    check_one_line(result, str(path.parent))


@pytest.mark.parametrize("kind", ["file", "missing"])
def test_a_bad_source_folder_is_one_line(site: Path, tmp_path: Path, kind: str) -> None:
    articles = site / "articles"
    for child in articles.iterdir():
        child.unlink()
    articles.rmdir()
    if kind == "file":
        articles.write_text("not a folder")
    config = str(site / "config" / "syndicate.toml")
    result = CliRunner().invoke(main, ["--config", config, "--now", NOW, "gather"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert str(articles) in result.stderr


@pytest.mark.parametrize("kind", ["file", "missing"])
def test_a_bad_config_path_is_one_line(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "x.toml" if kind == "missing" else tmp_path
    result = CliRunner().invoke(main, ["--config", str(path), "gather"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert str(path) in result.stderr  # click's usage error for --config, or ours
