"""SIGTERM and SIGINT ask the service to stop; nothing else happens in the handler."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopFlag:
    """Set once, by a signal or by the service itself; read by the jobs between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def set(self, reason: str) -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)


@contextmanager
def stop_on_signals(flag: StopFlag) -> Iterator[None]:
    """While inside, SIGTERM and SIGINT set ``flag`` (main thread only; the handler only
    sets the flag, the main loop logs and acts)."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        flag.set(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
