"""The web front (Starlette): feeds over HTTP, double opt-in, one-click unsubscribe,
preferences, the digest archive, health and metrics. Build it with ``create_app``."""

from syndicate.web.app import create_app
from syndicate.web.context import HealthCallback, WebOptions
from syndicate.web.ratelimit import Limit

__all__ = ["HealthCallback", "Limit", "WebOptions", "create_app"]
