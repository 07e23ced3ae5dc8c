"""One deadline for a whole HTTP exchange, status line and headers included (issue 13).

httpx's timeouts count each network operation: a server that sends one byte every few
seconds never trips the read timeout, and the status line and headers are read before any
code of ours sees the response. ``DeadlineTransport`` gives httpcore a network backend whose
every connect, read and write is given at most the time left until the deadline; when none
is left it raises a timeout that names ``fetch.total_timeout`` (``OVERTIME``).
"""

from __future__ import annotations

import ssl
import time
import typing
from collections.abc import Callable, Iterable

import httpcore
import httpx

Clock = Callable[[], float]
OVERTIME = "fetch.total_timeout"  # in the message of a timeout the deadline caused


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, left: Callable[[float | None], float]):
        self._inner = inner
        self._left = left

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            return self._inner.read(max_bytes, self._left(timeout))
        except httpcore.ReadTimeout:
            self._left(None)  # raises the deadline's timeout if that is what ran out
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, self._left(timeout))
        return _DeadlineStream(inner, self._left)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, deadline: float, clock: Clock) -> None:
        self._deadline = deadline
        self._clock = clock
        self._inner = httpcore.SyncBackend()

    def left(self, timeout: float | None) -> float:
        """The time an operation may take: its own timeout, cut to what is left."""
        remaining = self._deadline - self._clock()
        if remaining <= 0:
            raise httpcore.ReadTimeout(f"the deadline passed ({OVERTIME})")
        return remaining if timeout is None else min(timeout, remaining)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            stream = self._inner.connect_tcp(
                host, port, self.left(timeout), local_address, socket_options
            )
        except httpcore.ReadTimeout as exc:
            raise httpcore.ConnectTimeout(str(exc)) from None
        return _DeadlineStream(stream, self.left)

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, self.left(None)))


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport, its connections made by the deadline backend."""

    def __init__(self, ssl_context: ssl.SSLContext, deadline: float, clock: Clock) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx builds its httpcore pool without a way to pass a network backend: the pool
        # is rebuilt here as httpx would (no proxy: trust_env is off), with ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, network_backend=_DeadlineBackend(deadline, clock)
        )


def overtime(exc: BaseException) -> bool:
    """Whether an httpx timeout was the deadline's (rather than a single operation's)."""
    return OVERTIME in str(exc)
