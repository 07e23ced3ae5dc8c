"""Settings: TOML file + ``SYNDICATE_<SECTION>__<KEY>`` environment overrides, validated.

Every field carries a description; ``settings_reference()`` renders them all, and a test
checks that docs/settings.md is that reference, so no setting goes undocumented.
"""

from syndicate.config.digest import DigestSettings
from syndicate.config.loading import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    ENV_PREFIX,
    describe_errors,
    find_config,
    load_settings,
)
from syndicate.config.reference import (
    effective_settings,
    iter_settings,
    secret_env_names,
    settings_reference,
)
from syndicate.config.section import Section
from syndicate.config.settings import (
    SECRET_ENV,
    DeliverySettings,
    FeedSettings,
    Settings,
    SourceSettings,
    WebhookSettings,
    WebSettings,
)
from syndicate.config.values import (
    MIN_KEY_BYTES,
    CadenceTime,
    Duration,
    WeeklyTime,
    format_duration,
    parse_duration,
    parse_schedule,
    parse_weekly_time,
)
from syndicate.errors import ConfigError

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "ENV_PREFIX",
    "MIN_KEY_BYTES",
    "SECRET_ENV",
    "CadenceTime",
    "ConfigError",
    "DeliverySettings",
    "DigestSettings",
    "Duration",
    "FeedSettings",
    "Section",
    "Settings",
    "SourceSettings",
    "WebSettings",
    "WebhookSettings",
    "WeeklyTime",
    "describe_errors",
    "effective_settings",
    "find_config",
    "format_duration",
    "iter_settings",
    "load_settings",
    "parse_duration",
    "parse_schedule",
    "parse_weekly_time",
    "secret_env_names",
    "settings_reference",
]
