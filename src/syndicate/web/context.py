"""What every route of the web front is given: settings, store, backends, clock, limits."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from syndicate.config import Settings
from syndicate.delivery import Sender
from syndicate.store import Store
from syndicate.web.pages import Pages
from syndicate.web.ratelimit import Limit, SlidingWindow

Clock = Callable[[], datetime]
SenderFactory = Callable[[], Sender]
HealthCallback = Callable[[], Mapping[str, Any]]  # the contract is in web/ops.py


@dataclass(frozen=True, slots=True)
class WebOptions:
    """The web front's knobs, made once from ``[web]`` (whose models hold the defaults)."""

    confirm_ttl: timedelta
    subscribe_per_ip: Limit  # POST /subscribe per client address
    subscribe_per_address: Limit  # per address subscribed
    cache_seconds: int  # Cache-Control max-age of feeds and archive pages
    body_seconds: float  # a body still arriving after this gets 408
    max_form_bytes: int = 16_384  # a larger POST body is refused with 413 (not a setting)

    @classmethod
    def from_settings(cls, settings: Settings) -> WebOptions:
        web = settings.web
        return cls(
            confirm_ttl=web.confirm_ttl,
            subscribe_per_ip=Limit(web.subscribe_per_ip_per_hour, 3600),
            subscribe_per_address=Limit(web.subscribe_per_address_per_day, 86_400),
            cache_seconds=int(web.cache_max_age.total_seconds()),
            body_seconds=web.body_timeout.total_seconds(),
        )


@dataclass
class WebContext:
    settings: Settings
    store: Store
    sender_factory: SenderFactory
    clock: Clock
    health: HealthCallback | None
    options: WebOptions
    pages: Pages
    per_ip: SlidingWindow = field(init=False)
    per_address: SlidingWindow = field(init=False)

    def __post_init__(self) -> None:
        self.per_ip = SlidingWindow(self.options.subscribe_per_ip)
        self.per_address = SlidingWindow(self.options.subscribe_per_address)

    @property
    def cache_control(self) -> str:
        return f"public, max-age={self.options.cache_seconds}"
