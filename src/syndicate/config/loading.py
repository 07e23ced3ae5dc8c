"""Reading settings: TOML file, then SYNDICATE_<SECTION>__<KEY> overrides, then validation."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ValidationError,
)

from syndicate.config.section import Section
from syndicate.config.settings import SECRET_ENV, Settings
from syndicate.config.values import key_problem
from syndicate.errors import ConfigError

ENV_PREFIX = "SYNDICATE_"
CONFIG_ENV = "SYNDICATE_CONFIG"
DEFAULT_CONFIG = Path("config/syndicate.toml")


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to read: --config, else $SYNDICATE_CONFIG, else ./config/syndicate.toml."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def load_settings(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read, override from the environment, and validate. Raises ConfigError."""
    env = os.environ if env is None else env
    config_path = find_config(path)
    raw: dict[str, Any] = {}
    where = "<defaults>"
    root = Path.cwd()
    if config_path is not None:
        where = str(config_path)
        try:
            raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{where}: file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: cannot read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: not valid TOML: {exc}") from None
        root = config_path.resolve().parent.parent
    for key in ("root", "source_file"):
        if key in raw:
            raise ConfigError(f"{where}: {key}: not a setting")
    from_env = _apply_env(raw, env)
    _check_keys(env)
    try:
        return Settings.model_validate({**raw, "root": root, "source_file": where})
    except ValidationError as exc:
        raise ConfigError("\n".join(describe_errors(exc, where, from_env))) from None


def _check_keys(env: Mapping[str, str]) -> None:
    """A key that is set must be strong enough; its value is never shown."""
    for name in SECRET_ENV.values():
        if name.startswith("SYNDICATE_SECRET_KEY") and env.get(name):
            problem = key_problem(env[name])
            if problem is not None:
                raise ConfigError(f"{name}: {problem}")


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """SYNDICATE_FEEDS__ITEMS sets [feeds] items; SYNDICATE_DELIVERY__SMTP__HOST sets
    [delivery.smtp] host. Returns which variable set which key, to name it in errors."""
    from_env: dict[tuple[str, ...], str] = {}
    for name, value in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        *sections, key = name[len(ENV_PREFIX) :].lower().split("__")
        model: type[BaseModel] = Settings
        table = raw
        for depth, section in enumerate(sections):
            field = model.model_fields.get(section)
            inner = field.annotation if field is not None else None
            if inner is None and issubclass(model, Section):
                inner = model.subsections().get(section)
            where = ".".join(sections[: depth + 1])
            if not (isinstance(inner, type) and issubclass(inner, Section)):
                raise ConfigError(f"{name}: no settings section [{where}]")
            model = inner
            table = table.setdefault(section, {})
            if not isinstance(table, dict):
                raise ConfigError(f"{name}: [{where}] is not a table in the file")
        if key not in model.model_fields:
            raise ConfigError(f"{name}: [{'.'.join(sections)}] has no key {key!r}")
        table[key] = _env_value(value)
        from_env[(*sections, key)] = name
    return from_env


def _env_value(value: str) -> Any:
    """Lists come as JSON or comma-separated text; pydantic converts scalars from text."""
    stripped = value.strip()
    if stripped.startswith("["):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return value
    return value


_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def describe_errors(
    exc: ValidationError, where: str, from_env: Mapping[tuple[str, ...], str] | None = None
) -> list[str]:
    """One line per error, each naming where the value came from: the file and the key, or
    the environment variable that set it."""
    lines: list[str] = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        msg = err["msg"]
        for prefix in _PYDANTIC_PREFIXES:
            msg = msg.removeprefix(prefix)
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        origin = (from_env or {}).get(loc, where)
        if err["type"] == "setting":  # the message names the setting itself, e.g. sources[x].url
            lines.append(f"{origin}: {msg}")
        else:
            lines.append(f"{origin}: {'.'.join(loc) or '(top)'}: {msg}")
    return lines
