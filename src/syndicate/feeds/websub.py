"""WebSub: telling the hub (feeds.hub) which feeds changed, so readers hear in seconds.

One form-encoded POST per changed feed (``hub.mode=publish``, ``hub.url`` = the feed's
absolute URL): every hub takes that form, not every hub takes several ``hub.url`` in one.
A 2xx answer is success. A 5xx, a 429, a timeout or a refused connection is retried with
exponential backoff (1 s, 2 s, 4 s ..., at most 30 s apart, HUB_ATTEMPTS tries in all);
another 4xx is final. When a feed's tries are used up on a hub that never answered, the
remaining feeds are not tried: one backoff series per run, however many feeds changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # httpx is imported only when there is a hub to tell
    import httpx

HUB_ATTEMPTS = 5
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
Sleep = Callable[[float], None]


@dataclass
class HubReport:
    hub: str
    told: list[str] = field(default_factory=list)  # feed URLs the hub accepted
    errors: list[str] = field(default_factory=list)  # one line per feed it did not
    attempts: int = 0  # requests made

    def summary(self) -> str:
        failed = f", {len(self.errors)} failed" if self.errors else ""
        return f"told {self.hub} about {len(self.told)} changed feeds{failed}"


class _Retryable(Exception):
    pass


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2.0 ** (attempt - 1))


def ping_hub(
    hub: str,
    urls: Sequence[str],
    *,
    connect_timeout: float,
    read_timeout: float,
    user_agent: str,
    sleep: Sleep = time.sleep,
) -> HubReport:
    """Tell ``hub`` about ``urls`` over one client of its own."""
    import httpx

    timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
    with httpx.Client(
        timeout=timeout, headers={"User-Agent": user_agent}, trust_env=False
    ) as client:
        return publish_to_hub(client, hub, urls, sleep=sleep)


def publish_to_hub(
    client: httpx.Client,
    hub: str,
    urls: Sequence[str],
    *,
    sleep: Sleep = time.sleep,
    attempts: int = HUB_ATTEMPTS,
) -> HubReport:
    report = HubReport(hub)
    for number, url in enumerate(urls):
        error, unreachable = _publish_one(client, hub, url, report, sleep, attempts)
        if error is None:
            report.told.append(url)
            continue
        report.errors.append(f"feeds.hub {hub}: {url}: {error}")
        if unreachable:
            rest = len(urls) - number - 1
            if rest:
                report.errors.append(f"feeds.hub {hub}: not tried for {rest} more feeds")
            break
    return report


def _publish_one(
    client: httpx.Client, hub: str, url: str, report: HubReport, sleep: Sleep, attempts: int
) -> tuple[str | None, bool]:
    """(None, _) once the hub accepts; else (why not, whether the hub seems unreachable)."""
    import httpx

    form = {"hub.mode": "publish", "hub.url": url}
    for attempt in range(1, attempts + 1):
        report.attempts += 1
        try:
            response = client.post(hub, data=form)
            if response.status_code >= 500 or response.status_code == 429:
                raise _Retryable(f"HTTP {response.status_code}")
        except (_Retryable, httpx.HTTPError) as exc:
            reason = str(exc) if isinstance(exc, _Retryable) else type(exc).__name__
            if attempt == attempts:
                return f"{reason}, {attempts} attempts", True
            sleep(backoff(attempt))
            continue
        if response.is_success:
            return None, False
        return f"HTTP {response.status_code} (not retried)", False
    return "no attempts", False
