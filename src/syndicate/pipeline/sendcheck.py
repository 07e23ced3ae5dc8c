"""Before a real send: the example values of a new site must have been replaced."""

from __future__ import annotations

from urllib.parse import urlsplit

from syndicate.config import Settings

EXAMPLE_DOMAINS = ("example.com", "example.org")


def _is_example(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in EXAMPLE_DOMAINS)


def unsafe_defaults(settings: Settings) -> list[str]:
    """One item per setting still at an example value (a From address or a URL on
    example.com / example.org) or empty where the law wants a value (postal_address)."""
    problems: list[str] = []
    sender = settings.email.from_address
    if _is_example(sender.rpartition("@")[2]):
        problems.append(f"email.from_address is {sender} (an example domain)")
    for key, url in (("site.url", settings.site.url), ("web.base_url", settings.web.base_url)):
        if url and _is_example(urlsplit(url).hostname or ""):
            problems.append(f"{key} is {url} (an example domain)")
    if not settings.site.postal_address.strip():
        problems.append("site.postal_address is empty (anti-spam laws want it in every mail)")
    return problems
