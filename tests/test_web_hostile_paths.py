"""No path answers 5xx (issue 13): a list of hostile request targets, sent as raw bytes to the
real uvicorn on 127.0.0.1, gets 4xx (or an ordinary answer) and at most a debug line (no
warning or error from uvicorn or from us)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.web_helpers import SECRET, Site, free_socket, open_site, serve

LONG = "a" * 256
HOSTILE = [
    f"/{LONG}",
    f"/{LONG}.xml",
    f"/{'b' * 5000}",
    f"/category/{LONG}/rss.xml",
    f"/archive/{LONG}/",
    f"/static/{LONG}",
    "/" + "/".join(["d"] * 600),
    "/d/" * 2000,
    "/" + "%41" * 3000,
    "/%00",
    "/a%00b.xml",
    "/index.html%00.xml",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/..%2f..%2fetc%2fpasswd",
    "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/%ff%fe",
    "/%ed%a0%80.xml",
    "/%E2%80%AE.xml",
    "/%5c..%5c..%5cwindows",
    "//",
    "///etc/passwd",
    "/static/../../pyproject.toml",
    "/category/%2e%2e/rss.xml",
    "/rss.xml/",
    "/rss.xml/x",
    "/favicon.ico/..",
    "/archive/%00/",
    "/archive/../",
    "/archive/2026-W99/",
    "/archive/99999999999999999999-W01/",
    "/archive/2026-W47/../../etc/passwd",
    "/CON",
    "/aux.xml",
    "/~root",
    "/%0d%0aSet-Cookie:%20x=y",
    "/confirm?token=" + "A" * 5000,
    "/confirm?token=%ff%fe",
    "/unsubscribe?token=..%00",
    "/preferences?token=" + "." * 300,
    "/healthz/..",
    "/metrics/" + LONG,
    "/webhooks/sendgrid/" + LONG,
    "/?" + "x=" * 3000,
]
RAW = [b"/\xff\xfe", b"/a b", b"/\x00", b"/\r", b"*", b"http://evil.example/", b"/" + b"\x80" * 300]


@pytest.fixture
def base(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", SECRET)
    yield from open_site(tmp_path, database_url)


def raw_get(where: tuple[str, int], target: bytes, method: bytes = b"GET") -> int:
    with socket.create_connection(where, timeout=30) as conn:
        conn.sendall(method + b" " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 "), (target[:80], answer[:80])
    return int(status_line.split()[1])


def test_no_hostile_path_answers_5xx_or_logs_an_error(
    base: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sock = free_socket()
    where = sock.getsockname()[:2]
    answers: dict[str, int] = {}
    with serve(base.app(), sock):
        for target in [p.encode("ascii") for p in HOSTILE] + RAW:
            for method in (b"GET", b"HEAD", b"POST"):
                answers[f"{method.decode()} {target[:60]!r} ({len(target)})"] = raw_get(
                    where, target, method
                )
        assert raw_get(where, b"/rss.xml") == 200, "and the server still serves"
    failed = {t: s for t, s in answers.items() if s >= 500}
    assert not failed, failed
    # At most debug lines: nothing an operator would be paged or flooded by.
    loud = [
        f"{r.name} {r.levelname}: {r.getMessage()[:200]}"
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name != "httpx"
    ]
    assert not loud, loud
