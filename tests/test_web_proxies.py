"""Forwarded addresses are believed only from `web.trusted_proxies` (issue 13), under the
real uvicorn configuration of `syndicate run`, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.web_helpers import SECRET, Site, free_socket, open_site, serve

from syndicate.config import ConfigError, WebSettings, load_settings
from syndicate.web import Limit

FORM = {"email": "bob@example.org", "name": "Bob", "website": ""}


@pytest.fixture
def site(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    yield from open_site(tmp_path, database_url)


@contextmanager
def served(site: Site, trusted: list[str]) -> Iterator[httpx.Client]:
    app = site.app(subscribe_per_ip=Limit(2, 3600), subscribe_per_address=Limit(100, 3600))
    web = WebSettings(trusted_proxies=trusted)
    with serve(app, free_socket(), web) as base, httpx.Client(base_url=base, timeout=10) as http:
        yield http


def subscribe(http: httpx.Client, n: int, **headers: str) -> int:
    form = {**FORM, "email": f"r{n}@example.org"}
    return http.post("/subscribe", data=form, headers=headers).status_code


def test_without_trusted_proxies_forwarded_headers_are_ignored(site: Site) -> None:
    with served(site, []) as http:
        assert [subscribe(http, 1), subscribe(http, 2)] == [200, 200]
        assert subscribe(http, 3) == 429
        assert subscribe(http, 4, **{"X-Forwarded-For": "203.0.113.7"}) == 429
        assert subscribe(http, 5, Forwarded="for=203.0.113.8") == 429
        assert subscribe(http, 6, **{"X-Real-IP": "203.0.113.9"}) == 429


@pytest.mark.parametrize("trusted", [["127.0.0.1"], ["127.0.0.0/8", "::1"]])
def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client(
    site: Site, trusted: list[str]
) -> None:
    with served(site, trusted) as http:
        ann = {"X-Forwarded-For": "203.0.113.7"}
        assert [subscribe(http, 1, **ann), subscribe(http, 2, **ann)] == [200, 200]
        assert subscribe(http, 3, **ann) == 429
        # A forged hop to the left changes nothing: the proxy appended the real one.
        assert subscribe(http, 4, **{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}) == 429
        # Another visitor behind the same proxy has a bucket of their own.
        assert subscribe(http, 5, **{"X-Forwarded-For": "203.0.113.99"}) == 200


def test_a_bad_trusted_proxy_entry_is_one_line_naming_the_key() -> None:
    env = {"SYNDICATE_WEB__TRUSTED_PROXIES": '["10.0.0.0/8", "proxy.example"]'}
    with pytest.raises(ConfigError, match=r"web\.trusted_proxies.*proxy\.example"):
        load_settings(None, env=env)
