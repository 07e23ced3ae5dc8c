"""Signing keys that cannot be guessed: a weak SYNDICATE_SECRET_KEY stops every command with
one line, `syndicate keygen` prints a strong one, and the previous key still verifies."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate import tokens
from syndicate.cli import main
from syndicate.config import ConfigError, load_settings
from syndicate.config.values import MIN_KEY_BYTES, key_problem, new_key

NOW = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
OLD = "4yHFUcXgZi0iQ7vzd0q3qkOK_XtTqT8F3z5y6CqRrX0"
NEW = "Zq2vW7Xw0u1tVb2yA9kLm3nOp4qRs5tUv6wXy7zA8bC"


@pytest.mark.parametrize(
    "weak",
    ["x", "s3cret-for-tests", "a" * 64, "ab" * 32, base64.b64encode(b"k" * 31).decode()],
)
def test_weak_keys_are_refused_with_one_line(weak: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(None, env={"SYNDICATE_SECRET_KEY": weak})
    message = str(err.value)
    assert message.startswith("SYNDICATE_SECRET_KEY: ") and "\n" not in message
    assert len(weak) < 4 or weak not in message  # the key itself is never shown
    assert "syndicate keygen" in message


def test_a_weak_previous_key_is_refused_too() -> None:
    with pytest.raises(ConfigError, match=r"^SYNDICATE_SECRET_KEY_PREVIOUS: "):
        load_settings(None, env={"SYNDICATE_SECRET_KEY": NEW, "SYNDICATE_SECRET_KEY_PREVIOUS": "x"})


@pytest.mark.parametrize(
    "encoded",
    [
        base64.urlsafe_b64encode(bytes(range(32))).decode(),  # padded base64url
        base64.b64encode(bytes(range(100, 140))).decode(),  # standard base64
        bytes(range(32)).hex(),  # hex
    ],
)
def test_strong_keys_in_any_usual_encoding_are_accepted(encoded: str) -> None:
    assert key_problem(encoded) is None
    load_settings(None, env={"SYNDICATE_SECRET_KEY": encoded})


def test_keygen_prints_a_fresh_strong_key() -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["keygen"], env={"SYNDICATE_SECRET_KEY": "x"})
    second = runner.invoke(main, ["keygen"])
    assert first.exit_code == 0 and second.exit_code == 0
    key = first.output.strip()
    assert key != second.output.strip()
    assert key_problem(key) is None
    assert len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))) == MIN_KEY_BYTES


def test_a_weak_key_stops_a_command_with_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(tmp_path / "site")]).exit_code == 0
    config = tmp_path / "site" / "config" / "syndicate.toml"
    result = runner.invoke(
        main, ["--config", str(config), "status"], env={"SYNDICATE_SECRET_KEY": "hunter2"}
    )
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "SYNDICATE_SECRET_KEY" in lines[0]
    assert "hunter2" not in result.output and "Traceback" not in result.output


def test_previous_key_still_verifies_and_new_tokens_use_the_new_key() -> None:
    old_token = tokens.sign("unsubscribe", "abc", secret=OLD, now=NOW, ttl=None)
    assert tokens.verify(old_token, "unsubscribe", secret=NEW, now=NOW, previous=[OLD]) == "abc"
    with pytest.raises(tokens.TokenError):
        tokens.verify(old_token, "unsubscribe", secret=NEW, now=NOW)
    new_token = tokens.sign("unsubscribe", "abc", secret=NEW, now=NOW, ttl=None)
    assert tokens.verify(new_token, "unsubscribe", secret=NEW, now=NOW, previous=[OLD]) == "abc"
    with pytest.raises(tokens.TokenError):
        tokens.verify(new_token, "unsubscribe", secret=OLD, now=NOW)


def test_new_key_is_random() -> None:
    assert len({new_key() for _ in range(20)}) == 20
