"""Fetching a feed source: httpx at the I/O edge, with a guard on where it may go.

Redirects are followed here, one hop at a time. Before each hop the host is resolved and
every address it resolves to is checked (see ``address_problem``); the request then goes to
a checked address, the host kept in the Host header and for TLS (SNI and the certificate
check), so a DNS answer that changes between the check and the connection cannot send the
request elsewhere. The body is streamed and abandoned at ``fetch.max_bytes``; the whole
fetch, redirects, status line and headers included, is bounded by ``fetch.total_timeout``
(every network operation is given at most the time left: ``syndicate.sources.deadline``).
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx

from syndicate.config.settings import FetchSettings
from syndicate.content import one_line, strip_control
from syndicate.errors import SourceError
from syndicate.sources.deadline import DeadlineTransport, overtime

Resolver = Callable[[str, int], list[str]]  # (host, port) → IP addresses
Clock = Callable[[], float]

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NEVER = "never allowed"
_PRIVATE = "allowed only with fetch.allow_private"


class FetchError(SourceError):
    """Why a fetch failed, in one line."""


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # where the body came from, after redirects
    not_modified: bool  # a 304: the validators sent still hold; no body
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""
    content_type: str = ""


# --- where a fetch may go ------------------------------------------------------------------


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_problem(address: str, *, allow_private: bool) -> str | None:
    """None if a feed may be fetched from ``address``, else what kind of address it is and
    whether a setting could allow it."""
    ip = ipaddress.ip_address(address.partition("%")[0])  # an IPv6 zone is not part of it
    if isinstance(ip, ipaddress.IPv6Address):
        ip = _embedded_v4(ip) or ip
    for kind, hit in (
        ("link-local", ip.is_link_local),  # 169.254.169.254: cloud metadata services
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved and not ip.is_loopback),  # ::1 is in IPv6's reserved ::/8
    ):
        if hit:
            return f"{_article(kind)} {kind} address ({_NEVER})"
    if ip.is_global or allow_private:
        return None
    kind = "loopback" if ip.is_loopback else "private"
    return f"a {kind} address ({_PRIVATE})"


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise FetchError(f"cannot resolve {host}: {reason}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_addresses(host: str, port: int, resolve: Resolver, allow_private: bool) -> list[str]:
    """Every address of ``host``, if every one may be fetched from; else FetchError."""
    addresses = resolve(host, port)
    if not addresses:
        raise FetchError(f"{host} resolves to no address")
    for address in addresses:
        problem = address_problem(address, allow_private=allow_private)
        if problem is not None:
            shown = f"{host} is" if host == address else f"{host} resolves to {address},"
            raise FetchError(f"refused: {shown} {problem}")
    return addresses


# --- fetching --------------------------------------------------------------------------


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


@dataclass(frozen=True, slots=True)
class _Fetch:
    options: FetchSettings
    headers: dict[str, str]
    resolve: Resolver
    clock: Clock
    deadline: float

    def remaining(self) -> float:
        left = self.deadline - self.clock()
        if left <= 0:
            raise FetchError(self.too_slow())
        return left

    def too_slow(self) -> str:
        return f"took longer than {self.options.total_timeout:g}s (fetch.total_timeout)"


def fetch_feed(
    url: str,
    options: FetchSettings,
    *,
    etag: str = "",
    last_modified: str = "",
    resolve: Resolver = system_resolver,
    clock: Clock = time.monotonic,
) -> Fetched:
    """GET ``url`` (conditionally, given the validators of the last fetch), following at
    most ``options.max_redirects`` redirects. Raises FetchError, one line."""
    headers = {"User-Agent": options.user_agent, "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    fetch = _Fetch(options, headers, resolve, clock, clock() + options.total_timeout)
    visited = [url]
    for _ in range(options.max_redirects + 1):
        outcome = _hop(fetch, visited[-1])
        if isinstance(outcome, Fetched):
            return outcome
        if outcome in visited:
            raise FetchError(f"redirect loop: {visited[-1]} redirects back to {outcome}")
        visited.append(outcome)
    raise FetchError(
        f"too many redirects: more than {options.max_redirects} (fetch.max_redirects), "
        f"the last to {visited[-1]}"
    )


def _hop(fetch: _Fetch, url: str) -> Fetched | str:
    """One request: the Fetched answer, or the URL a redirect points to."""
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchError(f"bad URL {url!r}: {exc}") from None
    if target.scheme not in ("http", "https") or not target.host:
        raise FetchError(f"not an http(s) URL: {url}")
    host = target.raw_host.decode("ascii")  # IDNA-encoded
    port = target.port or (443 if target.scheme == "https" else 80)
    addresses = checked_addresses(host, port, fetch.resolve, fetch.options.allow_private)
    failure: httpx.ConnectError | None = None
    for address in addresses:  # the first that takes the connection
        try:
            return _request(fetch, target, address)
        except httpx.ConnectError as exc:
            failure = exc
    raise FetchError(f"cannot connect to {host}: {_reason(failure)}")


def _request(fetch: _Fetch, target: httpx.URL, address: str) -> Fetched | str:
    left = fetch.remaining()
    options = fetch.options
    timeout = httpx.Timeout(
        connect=min(options.connect_timeout, left),
        read=min(options.read_timeout, left),
        write=min(options.read_timeout, left),
        pool=min(options.connect_timeout, left),
    )
    headers = {**fetch.headers, "Host": target.netloc.decode("ascii")}
    sni = target.raw_host.decode("ascii")
    extensions = {"sni_hostname": sni} if target.scheme == "https" else {}
    # A client per hop: a connection verified for one host is never reused for another.
    transport = DeadlineTransport(_ssl_context(), fetch.deadline, fetch.clock)
    with (
        httpx.Client(transport=transport, trust_env=False, timeout=timeout) as client,
        _httpx_errors(fetch, left),
    ):
        request = client.build_request(
            "GET", target.copy_with(host=address), headers=headers, extensions=extensions
        )
        response = client.send(request, stream=True)
        try:
            return _answer(fetch, target, response)
        finally:
            response.close()


def _answer(fetch: _Fetch, target: httpx.URL, response: httpx.Response) -> Fetched | str:
    status = response.status_code
    if status in REDIRECTS:
        location = strip_control(response.headers.get("location", "")).strip()
        if not location:
            raise FetchError(f"HTTP {status} redirect without a Location")
        return urljoin(str(target), location)
    if status == 304:
        return Fetched(str(target), not_modified=True, etag=_header(response, "etag"))
    if status != 200:
        raise FetchError(f"HTTP {status} {response.reason_phrase}".rstrip())
    cap = fetch.options.max_bytes
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError(f"too large: {int(declared)} bytes, over the {cap}-byte cap "
                         "(fetch.max_bytes); not downloaded")  # fmt: skip
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > cap:
            raise FetchError(f"too large: over the {cap}-byte cap (fetch.max_bytes); "
                             "download stopped")  # fmt: skip
        fetch.remaining()
    return Fetched(
        str(target),
        not_modified=False,
        body=bytes(body),
        etag=_header(response, "etag"),
        last_modified=_header(response, "last-modified"),
        content_type=_header(response, "content-type"),
    )


def _header(response: httpx.Response, name: str) -> str:
    return one_line(response.headers.get(name, ""))


def _reason(exc: BaseException | None) -> str:
    text = " ".join(str(exc).split()) if exc is not None else ""
    return text or type(exc).__name__


@contextmanager
def _httpx_errors(fetch: _Fetch, left: float) -> Iterator[None]:
    """httpx's exceptions as FetchError lines; ConnectError passes (the next address)."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise FetchError(_timeout_line(fetch, left, exc)) from None
    except httpx.ConnectError:
        raise
    except httpx.DecodingError as exc:
        raise FetchError(f"cannot decode the response body: {_reason(exc)}") from None
    except httpx.InvalidURL as exc:
        raise FetchError(f"bad redirect target: {_reason(exc)}") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{type(exc).__name__}: {_reason(exc)}") from None


def _timeout_line(fetch: _Fetch, left: float, exc: httpx.TimeoutException) -> str:
    """Which limit ran out: the whole fetch's, or one connect's or read's."""
    options = fetch.options
    if overtime(exc):
        return fetch.too_slow()
    if isinstance(exc, httpx.ConnectTimeout):
        if options.connect_timeout <= left:
            return f"no connection within {options.connect_timeout:g}s (fetch.connect_timeout)"
        return fetch.too_slow()
    if options.read_timeout <= left:
        return f"no answer for {options.read_timeout:g}s (fetch.read_timeout)"
    return fetch.too_slow()


def read_feed_file(path: Path, max_bytes: int) -> bytes:
    """A feed file's bytes; FetchError if it is missing, unreadable or over the cap."""
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise FetchError(f"file not found: {path}") from None
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise FetchError(f"too large: over the {max_bytes}-byte cap (fetch.max_bytes)")
    return data
