"""The [email] and [delivery] sections; each sender's [delivery.<name>] table is validated by
the settings model its registration gives (``syndicate.registry.SENDERS``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from pydantic import (
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from syndicate.config.section import Section, registration
from syndicate.config.values import Duration, plain_address, within
from syndicate.registry import SENDERS


class EmailSettings(Section):
    from_address: str = Field("newsletter@example.com", description="The digest's From address.")
    from_name: str = Field("", description="The display name beside the From address.")
    unsubscribe_mailbox: str = Field(
        "",
        description="An address whose mail `syndicate bounces fetch` reads (the [bounces] "
        "mailbox): when set, List-Unsubscribe also offers mailto:<this>?subject=unsubscribe "
        "<token>, and such mails unsubscribe. Empty = only the https one-click link, since a "
        "mailto: that nothing reads is an unsubscribe nobody honours.",
    )
    welcome: bool = Field(
        True, description="Send a welcome mail when a subscriber confirms their subscription."
    )

    _mailbox = field_validator("unsubscribe_mailbox")(lambda cls, v: plain_address(v))


@dataclass(frozen=True, slots=True)
class Secret:
    """A key of a sender's table naming the environment variable that holds a secret: the
    variable's value is redacted from every log and `config show`."""

    setting: str  # the key, e.g. "api_key_env"
    what: str  # what the variable holds, for docs/settings.md
    required: bool = True  # sending cannot work while it is unset (/healthz says so)


class RegisteredSender(Protocol):
    """What the settings read of a registration (``syndicate.delivery.registry.SenderKind``)."""

    @property
    def settings(self) -> type[Section]: ...

    @property
    def secrets(self) -> tuple[Secret, ...]: ...


def registered_sender(name: str) -> RegisteredSender:
    """The registration of the sender ``name`` (ConfigError naming delivery.backend if none)."""
    return registration(SENDERS, name, RegisteredSender, "SenderKind")  # type: ignore[type-abstract]


def sender_sections() -> dict[str, type[Section]]:
    """Every registered sender's table: name -> its settings model (none for a sender
    without settings)."""
    models = ((name, registered_sender(name).settings) for name in SENDERS.names())
    return {name: model for name, model in models if model.model_fields}


class DeliverySettings(Section):
    model_config = ConfigDict(extra="allow", frozen=True)  # the senders' tables (checked below)

    backend: str = Field(
        "outbox",
        pattern=r"^[a-z][a-z0-9_]*$",
        description="How mail is sent: the name of a sender, 'outbox' (files), 'smtp' or "
        "'sendgrid' (or one a plug-in registers).",
    )
    outbox_dir: str = Field(
        "var/outbox", description="Folder for previews and for the outbox backend's .eml files."
    )
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Processes that share one send on this machine (`digest send --workers` "
        "overrides it): the way to go faster before going to more machines. Each claims its "
        "own batches from the ledger; a crash leaves at most one batch per worker uncertain.",
    )
    max_consecutive_failures: int = Field(
        5, ge=1, description="Pause a send after this many failed requests in a row."
    )
    owner_timeout: Duration = Field(
        timedelta(minutes=2),
        description="A sending process renews its heartbeat in the database every quarter of "
        "this; one whose heartbeat is older is taken for dead, and only then do the batches it "
        "had in flight become uncertain (one on the same machine whose process has exited is "
        "dead at once). Keep the machines' clocks in sync well within it.",
    )
    retry_paused: list[Duration] = Field(
        default_factory=lambda: [timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1)],
        description="`syndicate run` retries a send paused by provider failures after these "
        "waits in turn, the last one again and again while the send is within digest.grace "
        "of its start; [] = never on its own. A send the provider refused (401/403, a bad "
        "login) stays paused until the operator runs `digest send`.",
    )
    _owner_timeout = field_validator("owner_timeout")(
        within(timedelta(seconds=1), timedelta(days=1))
    )

    @field_validator("backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        return SENDERS.checked(value)

    @field_validator("retry_paused")
    @classmethod
    def _retry_paused(cls, value: list[timedelta]) -> list[timedelta]:
        if any(wait < timedelta(seconds=1) for wait in value):
            raise ValueError("every wait must be at least 1s")
        return value

    @classmethod
    def subsections(cls) -> dict[str, type[Section]]:
        return sender_sections()

    @model_validator(mode="wrap")
    @classmethod
    def _sender_tables(
        cls, data: Any, handler: ModelWrapValidatorHandler[DeliverySettings]
    ) -> DeliverySettings:
        """Each registered sender's table through its model (a missing one: its defaults);
        any other table is an unknown key, as in every other section."""
        if not isinstance(data, dict):
            return handler(data)
        tables = sender_sections()
        own = {k: v for k, v in data.items() if k not in tables}
        errors = [_unknown(k, v) for k, v in own.items() if k not in cls.model_fields]
        for name, model in tables.items():
            try:
                own[name] = model.model_validate(data.get(name, {}))
            except ValidationError as exc:
                errors += [_error(e, name) for e in exc.errors()]
        own = {k: v for k, v in own.items() if k in cls.model_fields or k in tables}
        try:
            delivery = handler(own)
        except ValidationError as exc:
            if not errors:
                raise
            errors = [*(_error(e) for e in exc.errors()), *errors]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return delivery

    def sender_settings(self, name: str) -> Section:
        """The table [delivery.<name>] of a registered sender, validated by its model."""
        table = (self.__pydantic_extra__ or {}).get(name)
        if isinstance(table, Section):
            return table
        return registered_sender(name).settings()  # registered after these settings were read


def _error(error: ErrorDetails, *within: str) -> InitErrorDetails:
    """An error of a nested validation, as it was (its type and text), under ``within``."""
    kind = PydanticCustomError(error["type"], "{message}", {"message": error["msg"]})
    return {"type": kind, "loc": (*within, *error["loc"]), "input": error["input"]}


def _unknown(key: str, value: Any) -> InitErrorDetails:
    return {"type": "extra_forbidden", "loc": (key,), "input": value}
