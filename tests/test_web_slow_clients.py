"""Slow clients (issue 13): request headers must arrive within `web.header_timeout`, a body
within `web.body_timeout`, or the connection is closed. Real uvicorn on 127.0.0.1, raw
sockets trickling bytes; the timeouts below are only hang guards."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tests.web_helpers import SECRET, Site, free_socket, open_site, serve

from syndicate.config import WebSettings

# The slow lane: each test waits out a server deadline.
pytestmark = pytest.mark.slow

GUARD = 30.0  # seconds: far beyond the 1 s timeouts under test; only ends a hung test


@pytest.fixture
def site(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    yield from open_site(tmp_path, database_url)


@pytest.fixture
def address(site: Site) -> Iterator[tuple[str, int]]:
    web = WebSettings(header_timeout=timedelta(seconds=1), body_timeout=timedelta(seconds=1))
    sock = free_socket()
    where = sock.getsockname()[:2]
    with serve(site.app(body_seconds=1.0), sock, web):
        yield where


def trickle_until_closed(conn: socket.socket, data: bytes) -> tuple[bytes, bool]:
    """Send ``data`` one byte at a time (then keep sending spaces) until the server closes
    the connection; (what it answered, whether it closed before the guard)."""
    conn.setblocking(False)
    answer = b""
    deadline = time.monotonic() + GUARD
    source = iter(data)
    while time.monotonic() < deadline:
        try:
            chunk = conn.recv(65536)
            if chunk == b"":
                return answer, True
            answer += chunk
        except BlockingIOError:
            pass
        except (ConnectionResetError, BrokenPipeError):
            return answer, True
        try:
            conn.send(bytes([next(source, 0x20)]))
        except (ConnectionResetError, BrokenPipeError):
            return answer, True
        except BlockingIOError:
            pass
        time.sleep(0.1)
    return answer, False


def test_headers_that_trickle_are_cut_off(address: tuple[str, int]) -> None:
    with socket.create_connection(address, timeout=GUARD) as conn:
        # Every 0.1 s one more byte of a request head that never ends.
        answer, closed = trickle_until_closed(conn, b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    assert closed, "the connection was still open after the guard"
    assert answer == b""


def test_a_second_request_on_a_keep_alive_connection_gets_its_own_deadline(
    address: tuple[str, int],
) -> None:
    with socket.create_connection(address, timeout=GUARD) as conn:
        conn.sendall(b"GET /rss.xml HTTP/1.1\r\nHost: x\r\n\r\n")
        first = conn.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        _, closed = trickle_until_closed(conn, b"GET / HTTP/1.1\r\nX-Slow: ")
    assert closed


def test_a_body_that_trickles_gets_408_and_the_connection_closes(
    address: tuple[str, int],
) -> None:
    head = (
        b"POST /subscribe HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\n"
    )
    with socket.create_connection(address, timeout=GUARD) as conn:
        conn.sendall(head)
        answer, closed = trickle_until_closed(conn, b"email=" + b"a" * 4000)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert closed


def test_many_slow_connections_are_all_closed(address: tuple[str, int]) -> None:
    conns = [socket.create_connection(address, timeout=GUARD) for _ in range(50)]
    try:
        for conn in conns:
            conn.sendall(b"GET / HTTP/1.1\r\n")
        deadline = time.monotonic() + GUARD
        open_ones = list(conns)
        while open_ones and time.monotonic() < deadline:
            still = []
            for conn in open_ones:
                conn.setblocking(False)
                try:
                    if conn.recv(1) != b"":
                        still.append(conn)
                except BlockingIOError:
                    still.append(conn)
                except ConnectionResetError:
                    pass
            open_ones = still
            time.sleep(0.1)
        assert not open_ones, f"{len(open_ones)} of 50 still open"
    finally:
        for conn in conns:
            conn.close()
