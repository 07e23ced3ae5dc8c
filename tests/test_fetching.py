"""Fetching feed sources from real servers on loopback: validators, caps, timeouts, redirects,
and the address guard."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.feed_documents import RSS
from tests.feed_servers import (
    FeedServer,
    huge,
    never_answer,
    redirect,
    static,
    trickle,
    trickle_head,
)

from syndicate.config.settings import FetchSettings
from syndicate.sources import fetching
from syndicate.sources.fetching import (
    FetchError,
    address_problem,
    checked_addresses,
    fetch_feed,
)

MB = 1_000_000


def options(**changes: Any) -> FetchSettings:
    base: dict[str, Any] = {
        "connect_timeout": 2,
        "read_timeout": 2,
        "total_timeout": 10,
        "max_bytes": MB,
        "allow_private": True,  # the servers are on loopback
    }
    return FetchSettings.model_validate({**base, **changes})


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


# Only catches a hang (the messages above say which limit ended each fetch); how fast the
# limits act is not a test's business on a shared 2-core machine.
HANG = 30.0


def elapsed(started: float) -> float:
    return time.monotonic() - started


# --- the address guard ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "private_ok", "verdict"),
    [
        ("93.184.216.34", False, None),
        ("2606:4700::6810:84e5", False, None),
        ("127.0.0.1", False, "a loopback address (allowed only with fetch.allow_private)"),
        ("127.0.0.1", True, None),
        ("::1", False, "a loopback address"),
        ("10.1.2.3", False, "a private address"),
        ("192.168.0.10", True, None),
        ("100.64.0.1", False, "a private address"),  # carrier-grade NAT
        ("fd12:3456::1", False, "a private address"),
        ("169.254.169.254", True, "a link-local address (never allowed)"),
        ("fe80::1%eth0", True, "a link-local address (never allowed)"),
        ("::ffff:169.254.169.254", True, "a link-local address"),
        ("64:ff9b::a9fe:a9fe", True, "a link-local address"),  # NAT64 of 169.254.169.254
        ("2002:a9fe:a9fe::1", True, "a link-local address"),  # 6to4 of it
        ("::ffff:127.0.0.1", False, "a loopback address"),
        ("224.0.0.251", True, "a multicast address (never allowed)"),
        ("ff02::1", True, "a multicast address"),
        ("0.0.0.0", True, "an unspecified address (never allowed)"),
        ("240.0.0.1", True, "a reserved address"),
        ("255.255.255.255", True, "a reserved address"),
    ],
)
def test_address_problem(address: str, private_ok: bool, verdict: str | None) -> None:
    found = address_problem(address, allow_private=private_ok)
    if verdict is None:
        assert found is None
    else:
        assert found is not None and found.startswith(verdict)


def test_every_resolved_address_is_checked() -> None:
    def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.7"]  # one public, one private: refused

    with pytest.raises(FetchError, match=r"feeds\.example resolves to 10\.0\.0\.7, a private"):
        checked_addresses("feeds.example", 443, resolve, allow_private=False)
    assert checked_addresses("feeds.example", 443, resolve, allow_private=True) == [
        "93.184.216.34",
        "10.0.0.7",
    ]


def test_loopback_is_refused_by_default_before_any_request(server: FeedServer) -> None:
    url = server.add("/rss", static(RSS))
    with pytest.raises(FetchError, match=r"refused: 127\.0\.0\.1 is a loopback address"):
        fetch_feed(url, FetchSettings())
    assert server.requests == []


def test_localhost_by_name_is_refused_too(server: FeedServer) -> None:
    server.add("/rss", static(RSS))
    with pytest.raises(FetchError, match=r"localhost resolves to .*a loopback address"):
        fetch_feed(f"http://localhost:{server.port}/rss", FetchSettings())
    assert server.requests == []


def test_the_request_goes_to_the_checked_address_with_the_host_kept(server: FeedServer) -> None:
    """Resolved once, checked, connected to: the name is only the Host header (and SNI)."""
    route = server.add("/rss", static(RSS))
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    url = route.replace("127.0.0.1", "feeds.invalid")
    fetched = fetch_feed(url, options(), resolve=resolve)
    assert fetched.body == RSS
    assert asked == ["feeds.invalid"]
    (seen,) = server.seen("/rss")
    assert seen.headers["host"] == f"feeds.invalid:{server.port}"
    assert seen.headers["user-agent"] == FetchSettings().user_agent


# --- conditional GET -------------------------------------------------------------------------


def test_validators_are_kept_and_sent_back_for_a_304(server: FeedServer) -> None:
    document = static(
        RSS, "application/rss+xml", etag='"v1"', last_modified="Tue, 17 Nov 2026 06:00:00 GMT"
    )
    url = server.add("/rss", document)
    first = fetch_feed(url, options())
    assert (first.not_modified, first.body, first.etag, first.last_modified) == (
        False,
        RSS,
        '"v1"',
        "Tue, 17 Nov 2026 06:00:00 GMT",
    )
    assert first.content_type == "application/rss+xml"
    second = fetch_feed(url, options(), etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.body == b""
    sent = server.seen("/rss")[1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Tue, 17 Nov 2026 06:00:00 GMT"
    assert (document.served, document.not_modified) == (1, 1)


# --- hostile servers ------------------------------------------------------------------------


def test_a_server_that_never_answers_times_out_in_seconds(server: FeedServer) -> None:
    url = server.add("/slow", never_answer())
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"no answer for 0\.3s \(fetch\.read_timeout\)"):
        fetch_feed(url, options(read_timeout=0.3))
    assert elapsed(started) < HANG


def test_a_server_that_trickles_is_cut_off_by_the_total_timeout(server: FeedServer) -> None:
    url = server.add("/trickle", trickle(0.05))
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"took longer than 0\.5s \(fetch\.total_timeout\)"):
        fetch_feed(url, options(read_timeout=1, total_timeout=0.5))
    assert elapsed(started) < HANG


def test_a_status_line_and_headers_that_trickle_are_cut_off_by_the_total_timeout(
    server: FeedServer,
) -> None:
    # Each byte comes well within the read timeout, so only the overall deadline can end it.
    url = server.add("/head", trickle_head(0.05))
    with pytest.raises(FetchError, match=r"took longer than 0\.5s \(fetch\.total_timeout\)"):
        fetch_feed(url, options(read_timeout=5, total_timeout=0.5))
    assert server.bytes_sent["/head"] < 400, "the fetch gave up before the server did"


def test_a_declared_50_mb_body_is_refused_unread(server: FeedServer) -> None:
    url = server.add("/huge", huge(50 * MB, declare_length=True))
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"too large: 50000000 bytes, over the 1000000-byte cap"):
        fetch_feed(url, options())
    assert elapsed(started) < HANG
    server.stop.wait(0.2)
    assert server.bytes_sent["/huge"] < 10 * MB  # what the socket buffers took, at most


def test_an_undeclared_50_mb_body_is_abandoned_at_the_cap(server: FeedServer) -> None:
    url = server.add("/huge", huge(50 * MB, declare_length=False))
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"too large: over the 1000000-byte cap .*stopped"):
        fetch_feed(url, options())
    assert elapsed(started) < HANG
    server.stop.wait(0.2)
    assert server.bytes_sent["/huge"] < 10 * MB


def test_a_gzip_bomb_is_abandoned_at_the_cap_of_decompressed_bytes(server: FeedServer) -> None:
    url = server.add("/bomb.gz", huge(30 * MB, declare_length=False, encoding="gzip"))
    with pytest.raises(FetchError, match=r"too large: over the 1000000-byte cap"):
        fetch_feed(url, options())
    assert server.bytes_sent["/bomb.gz"] < MB  # ~30 kB of gzip, for 30 MB of zeros


def test_a_redirect_to_the_metadata_address_is_refused_before_connecting(
    server: FeedServer,
) -> None:
    url = server.add("/rss", redirect("http://169.254.169.254/latest/meta-data/"))
    started = time.monotonic()
    with pytest.raises(
        FetchError, match=r"refused: 169\.254\.169\.254 is a link-local address \(never allowed\)"
    ):
        fetch_feed(url, options(connect_timeout=5))  # even with allow_private
    assert elapsed(started) < HANG  # refused by the address check above, before any connect


def test_a_redirect_to_a_name_of_a_link_local_address_is_refused(server: FeedServer) -> None:
    url = server.add("/rss", redirect("http://metadata.invalid/latest/"))
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["169.254.169.254"] if host == "metadata.invalid" else ["127.0.0.1"]

    pattern = r"refused: metadata\.invalid resolves to 169\.254\.169\.254, a link-local"
    with pytest.raises(FetchError, match=pattern):
        fetch_feed(url, options(), resolve=resolve)
    assert asked == ["127.0.0.1", "metadata.invalid"]


def test_redirects_are_followed_up_to_the_limit(server: FeedServer) -> None:
    for n in range(1, 8):
        server.add(f"/hop{n}", redirect(f"/hop{n + 1}", 301 if n % 2 else 307))
    server.add("/hop8", static(RSS))
    assert fetch_feed(server.url("/hop3"), options(max_redirects=5)).body == RSS
    assert fetch_feed(server.url("/hop3"), options(max_redirects=5)).url == server.url("/hop8")
    with pytest.raises(
        FetchError, match=r"too many redirects: more than 5 \(fetch.max_redirects\)"
    ):
        fetch_feed(server.url("/hop1"), options(max_redirects=5))
    assert len(server.seen("/hop7")) == 2  # the sixth hop from /hop1 was never requested


def test_a_redirect_loop_is_named(server: FeedServer) -> None:
    server.add("/a", redirect("/b"))
    server.add("/b", redirect("/a"))
    with pytest.raises(FetchError, match=r"redirect loop: .*/b redirects back to .*/a"):
        fetch_feed(server.url("/a"), options())


def test_a_redirect_to_another_scheme_is_refused(server: FeedServer) -> None:
    url = server.add("/rss", redirect("file:///etc/passwd"))
    with pytest.raises(FetchError, match=r"not an http\(s\) URL: file:///etc/passwd"):
        fetch_feed(url, options())


@pytest.mark.parametrize(("status", "text"), [(404, "HTTP 404 Not Found"), (500, "HTTP 500")])
def test_an_error_status_is_one_line(server: FeedServer, status: int, text: str) -> None:
    def route(handler: Any) -> None:
        handler.answer(status, b"oops", "text/plain")

    url = server.add("/gone", route)
    with pytest.raises(FetchError, match=text):
        fetch_feed(url, options())


def test_a_closed_port_is_a_connection_error() -> None:
    with FeedServer() as gone:
        url = gone.url("/rss")
    with pytest.raises(FetchError, match=r"cannot connect to 127\.0\.0\.1"):
        fetch_feed(url, options())


# --- TLS to a checked address ------------------------------------------------------------------


def _certificates(tmp_path: Path, name: str) -> tuple[Path, ssl.SSLContext]:
    """A CA file for the client, and a server context whose certificate names ``name``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def make(subject: str, key: Any, issuer: str, signer: Any, ca: bool) -> Any:
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = make("Test CA", ca_key, "Test CA", ca_key, True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = make(name, leaf_key, "Test CA", ca_key, False)
    pem = serialization.Encoding.PEM
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(pem))
    chain = tmp_path / "leaf.pem"
    chain.write_bytes(
        leaf.public_bytes(pem)
        + leaf_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(chain)
    return ca_file, context


@pytest.fixture
def trusted_ca(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Path], None]]:
    def trust(ca_file: Path) -> None:
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        fetching._ssl_context.cache_clear()

    yield trust
    fetching._ssl_context.cache_clear()


def test_https_to_the_checked_address_verifies_the_certificate_of_the_name(
    tmp_path: Path, trusted_ca: Callable[[Path], None]
) -> None:
    ca_file, context = _certificates(tmp_path, "feeds.invalid")
    trusted_ca(ca_file)
    with FeedServer(tls=context) as server:
        server.add("/rss", static(RSS))
        fetched = fetch_feed(
            f"https://feeds.invalid:{server.port}/rss",
            options(),
            resolve=lambda host, port: ["127.0.0.1"],
        )
        assert fetched.body == RSS
        assert server.seen("/rss")[0].headers["host"] == f"feeds.invalid:{server.port}"
        # The same server under a name its certificate does not carry: refused.
        with pytest.raises(FetchError, match=r"cannot connect to other\.invalid: .*certificate"):
            fetch_feed(
                f"https://other.invalid:{server.port}/rss",
                options(),
                resolve=lambda host, port: ["127.0.0.1"],
            )
