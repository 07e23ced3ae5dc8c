"""Senders by name: a toy backend registered from outside, with a settings model and a secret
of its own (it lives only in this file), is configured, documented, redacted and sent
through like a built-in one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import Field
from tests.service_support import captured_logs
from tests.test_cli_delivery import WEEK, make_site, run

from syndicate.config import Section, Settings, load_settings
from syndicate.delivery import Batch, Outcome
from syndicate.delivery.registry import (
    Secret,
    SenderKind,
    register_sender,
    sender_kind,
    sender_names,
    unregister_sender,
)
from syndicate.errors import ConfigError
from syndicate.log import EventLog
from syndicate.service.runner import secret_values

TOKEN = "toy-token-5f1e9c0b7d2a"  # in the variable the toy's settings name
TOKEN_VARIABLE = "TOY_CARRIER_TOKEN"


class ToySettings(Section):
    loft: str = Field("north", min_length=1, description="Which loft the toy carrier flies to.")
    flock: int = Field(2, ge=1, le=8, description="Toy carriers in flight at once.")
    # Deliberately not named *_env: only its registration says it is a secret.
    token_variable: str = Field(
        "TOY_TOKEN", description="Name of the environment variable holding the toy's token."
    )


class ToySender:
    """Keeps what it is given: the whole of a backend is `send` and `close`."""

    max_batch = 2
    batches: ClassVar[list[Batch]] = []
    built_with: ClassVar[list[ToySettings]] = []

    def __init__(self, options: ToySettings) -> None:
        self.token = os.environ.get(options.token_variable, "")
        ToySender.built_with.append(options)

    def send(self, batch: Batch) -> list[Outcome]:
        ToySender.batches.append(batch)
        # A careless backend: it logs its credentials.
        EventLog("tests.toy").info("toy.sent", authorization=f"Bearer {self.token}")
        return [Outcome(r.delivery_id, "sent") for r in batch.recipients]

    def close(self) -> None:
        pass


def build_toy(settings: Settings, options: ToySettings, clock: object) -> ToySender:
    return ToySender(options)


TOY = SenderKind(
    "toy",
    "keeps messages in memory",
    build_toy,
    ToySettings,
    secrets=(Secret("token_variable", "the toy carrier's token"),),
    concurrency=lambda options: options.flock,
)


@pytest.fixture
def toy() -> Iterator[None]:
    ToySender.batches, ToySender.built_with = [], []
    register_sender(TOY)
    yield
    unregister_sender("toy")


def configure(site: Path, table: str) -> None:
    """The site's config naming the toy, with ``table`` as its [delivery.toy]."""
    config = site / "config" / "syndicate.toml"
    original = site / "config" / "original.toml"
    if not original.exists():
        original.write_bytes(config.read_bytes())
    text = original.read_text(encoding="utf-8").replace('backend = "outbox"', 'backend = "toy"')
    config.write_text(text + f"\n[delivery.toy]\n{table}\n", encoding="utf-8")


def test_a_registered_sender_is_configured_redacted_and_sends_an_edition(
    toy: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path / "site", monkeypatch)
    configure(site, f'loft = "south"\nflock = 3\ntoken_variable = "{TOKEN_VARIABLE}"')
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    assert run(site, "gather")[0] == 0
    for address in ("ann@example.com", "bob@example.com", "cy@example.com"):
        run(site, "subscribers", "add", address)
    settings = load_settings(site / "config" / "syndicate.toml")
    assert TOKEN in secret_values(settings)  # what `syndicate run` hands its log redactor
    with captured_logs(secret_values(settings)) as logs:
        code, out, err = run(site, "digest", "send", "--week", WEEK)
    assert code == 0, err
    assert "3 sent" in out
    sent = sorted(r.email for b in ToySender.batches for r in b.recipients)
    assert sent == ["ann@example.com", "bob@example.com", "cy@example.com"]
    assert max(len(b.recipients) for b in ToySender.batches) == ToySender.max_batch
    # It was built from its own table, and its concurrency read from it.
    assert {(o.loft, o.flock) for o in ToySender.built_with} == {("south", 3)}
    assert sender_kind("toy").concurrency(ToySender.built_with[0]) == 3
    assert "toy.sent" in logs.names()
    assert TOKEN not in logs.text and "Bearer ********" in logs.text
    code, shown, _ = run(site, "config", "show")
    assert code == 0
    assert 'toy = {"loft": "south", "flock": 3' in shown
    assert TOKEN not in shown and f'{TOKEN_VARIABLE} = "********"' in shown


def test_a_bad_value_in_the_toys_table_is_one_line_naming_the_key(
    toy: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path / "site", monkeypatch)
    configure(site, "flock = 99")
    code, _out, err = run(site, "status")
    assert code == 1
    assert err.strip().endswith("delivery.toy.flock: Input should be less than or equal to 8")
    assert "\n" not in err.strip()
    configure(site, "wings = 2")
    code, _out, err = run(site, "status")
    assert err.strip().endswith("delivery.toy.wings: unknown key") and "\n" not in err.strip()
    configure(site, "")
    monkeypatch.setenv("SYNDICATE_DELIVERY__TOY__LOFT", "")  # the environment reaches it too
    code, _out, err = run(site, "status")
    assert code == 1 and "\n" not in err.strip()
    assert err.strip().endswith(
        "SYNDICATE_DELIVERY__TOY__LOFT: delivery.toy.loft: String should have at least 1 character"
    )


def test_the_reference_documents_the_toys_settings_and_secret(toy: None) -> None:
    code, reference, _ = run_docs()
    assert code == 0
    assert '| `delivery.toy.loft` | `"north"` | Which loft the toy carrier flies to. |' in reference
    assert "| `delivery.toy.flock` | `2` |" in reference
    assert (
        "- the toy carrier's token, in the variable `delivery.toy.token_variable` names "
        "(`TOY_TOKEN` by default)." in reference
    )
    unregister_sender("toy")
    assert "delivery.toy" not in run_docs()[1]
    register_sender(TOY)


def run_docs() -> tuple[int, str, str]:
    from click.testing import CliRunner

    from syndicate.cli import main

    result = CliRunner().invoke(main, ["config", "docs"])
    return result.exit_code, result.stdout, result.stderr


def test_an_undeclared_variable_setting_or_an_unknown_secret_is_refused() -> None:
    class Leaky(Section):
        key_env: str = Field("LEAKY_KEY", description="The key's variable.")

    with pytest.raises(ValueError, match="'key_env' names a variable; declare it"):
        SenderKind("leaky", "forgets its secret", build_toy, Leaky)
    with pytest.raises(ValueError, match="secret 'nope' is not one of its settings"):
        SenderKind(
            "leaky", "", build_toy, Leaky, secrets=(Secret("key_env", "k"), Secret("nope", "n"))
        )


def test_an_unknown_sender_name_is_a_one_line_setting_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path / "site", monkeypatch)
    monkeypatch.setenv("SYNDICATE_DELIVERY__BACKEND", "carrier_pigeon")
    code, _out, err = run(site, "status")
    assert code == 1
    assert err.strip().endswith(
        "delivery.backend: no sender named 'carrier_pigeon' (one of outbox, sendgrid, smtp)"
    )
    assert "\n" not in err.strip()
    with pytest.raises(ConfigError, match="carrier_pigeon"):
        sender_kind("carrier_pigeon")


def test_the_built_in_senders_are_imported_only_when_built() -> None:
    assert sender_names() == ["outbox", "sendgrid", "smtp"]
    with pytest.raises(ValueError, match="already registered"):
        register_sender(SenderKind("smtp", "a second smtp", build_toy, ToySettings))
    assert sender_kind("smtp").name == "smtp"
