"""Senders by name: a toy backend registered from outside is built and sent through."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from tests.test_cli_delivery import WEEK, make_site, run

from syndicate.config import Settings
from syndicate.delivery import Batch, Outcome
from syndicate.delivery.registry import (
    SenderKind,
    register_sender,
    sender_kind,
    sender_names,
    unregister_sender,
)
from syndicate.errors import ConfigError


class ToySender:
    """Keeps what it is given: the whole of a backend is `send` and `close`."""

    max_batch = 2
    batches: ClassVar[list[Batch]] = []

    def send(self, batch: Batch) -> list[Outcome]:
        ToySender.batches.append(batch)
        return [Outcome(r.delivery_id, "sent") for r in batch.recipients]

    def close(self) -> None:
        pass


def build_toy(settings: Settings, clock: object) -> ToySender:
    return ToySender()


@pytest.fixture
def toy() -> Iterator[None]:
    ToySender.batches = []
    register_sender(SenderKind("toy", "keeps messages in memory", build_toy))
    yield
    unregister_sender("toy")


def test_a_registered_sender_is_chosen_by_name_and_sends_an_edition(
    toy: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path / "site", monkeypatch)
    assert run(site, "gather")[0] == 0
    for address in ("ann@example.com", "bob@example.com", "cy@example.com"):
        run(site, "subscribers", "add", address)
    monkeypatch.setenv("SYNDICATE_DELIVERY__BACKEND", "toy")
    code, out, err = run(site, "digest", "send", "--week", WEEK)
    assert code == 0, err
    assert "3 sent" in out
    sent = sorted(r.email for b in ToySender.batches for r in b.recipients)
    assert sent == ["ann@example.com", "bob@example.com", "cy@example.com"]
    assert max(len(b.recipients) for b in ToySender.batches) == ToySender.max_batch


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
        register_sender(SenderKind("smtp", "a second smtp", build_toy))
    assert sender_kind("smtp").name == "smtp"
