"""`syndicate init`: flags or questions, a checked config, and never half a site."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import syndicate.cli.site
from syndicate.cli import main
from syndicate.config import load_settings

FLAGS = [
    "--title",
    'The "Dark Sky" Club',
    "--url",
    "https://darksky.example.net/news",
    "--from-address",
    "news@darksky.example.net",
    "--postal-address",
    "1 Observatory Rd\nHollis, NH 03049",
    "--timezone",
    "America/New_York",
]


def test_flags_fill_the_config(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "site"), *FLAGS])
    assert result.exit_code == 0, result.output
    settings = load_settings(tmp_path / "site" / "config" / "syndicate.toml", env={})
    assert settings.site.title == 'The "Dark Sky" Club'
    assert settings.site.url == "https://darksky.example.net/news/"
    assert settings.email.from_address == "news@darksky.example.net"
    assert settings.site.postal_address == "1 Observatory Rd\nHollis, NH 03049"
    assert settings.site.timezone == settings.digest.timezone == "America/New_York"


def test_on_a_terminal_it_asks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(syndicate.cli.site, "on_terminal", lambda: True)
    answers = "Club\nhttps://club.example.net/\nhi@club.example.net\n2 Elm St\nEurope/Vienna\n"
    result = CliRunner().invoke(main, ["init", str(tmp_path / "site")], input=answers)
    assert result.exit_code == 0, result.output
    assert "Public URL" in result.output and "Time zone" in result.output
    settings = load_settings(tmp_path / "site" / "config" / "syndicate.toml", env={})
    assert (settings.site.title, settings.site.url) == ("Club", "https://club.example.net/")
    assert settings.email.from_address == "hi@club.example.net"
    assert (settings.site.postal_address, settings.site.timezone) == ("2 Elm St", "Europe/Vienna")


def test_on_a_terminal_a_bad_answer_is_asked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(syndicate.cli.site, "on_terminal", lambda: True)
    answers = "Club\nclub.example.net\nhttps://club.example.net/\nnobody\nhi@club.example.net\n\n"
    answers += "Mars/Olympus\nEurope/Vienna\n"
    result = CliRunner().invoke(main, ["init", str(tmp_path / "site")], input=answers)
    assert result.exit_code == 0, result.output
    assert "must be an absolute http(s) URL" in result.output
    assert "unknown time zone 'Mars/Olympus'" in result.output
    settings = load_settings(tmp_path / "site" / "config" / "syndicate.toml", env={})
    assert settings.site.url == "https://club.example.net/"
    assert settings.email.from_address == "hi@club.example.net"
    assert settings.site.timezone == "Europe/Vienna"


@pytest.mark.parametrize(
    ("flag", "value", "named"),
    [
        ("--url", "ftp://x", "url"),
        ("--timezone", "Mars/Olympus", "timezone"),
    ],
)
def test_a_bad_answer_is_one_line_and_makes_nothing(
    tmp_path: Path, flag: str, value: str, named: str
) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "site"), flag, value])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and named in result.stderr
    assert "Value error" not in result.stderr
    assert not (tmp_path / "site").exists()


def test_a_failure_half_way_leaves_no_half_site(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "templates").write_text("a file where a folder should be")
    result = CliRunner().invoke(main, ["init", str(site)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert str(site / "templates") in result.stderr and result.stderr.count("\n") == 1
    assert not (site / "config").exists()
    (site / "templates").unlink()
    again = CliRunner().invoke(main, ["init", str(site)])
    assert again.exit_code == 0, again.output
    assert (site / "templates" / "email" / "digest.html").is_file()


@pytest.mark.parametrize(
    "command",
    [
        ["gather"],
        ["feeds"],
        ["status"],
        ["digest", "preview"],
        ["subscribers", "list"],
        ["config", "show"],
        ["run", "--once"],
        ["db", "current"],
    ],
)
def test_without_a_config_every_command_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert str(tmp_path / "config" / "syndicate.toml") in result.stderr
    assert "syndicate init" in result.stderr and "$SYNDICATE_CONFIG" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no var/syndicate.db


@pytest.mark.parametrize("command", [["--help"], ["--version"], ["config", "docs"]])
def test_help_and_version_need_no_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNDICATE_CONFIG", raising=False)
    assert CliRunner().invoke(main, command).exit_code == 0
