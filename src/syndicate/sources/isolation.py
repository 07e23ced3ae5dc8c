"""Running a pure function on hostile input in a child process that is killed at a deadline.

feedparser (pure Python) is superlinear on some inputs: thousands of attributes on one
element or of categories on one entry, deeply nested broken XML. A 500 kB document of that
kind takes it half a minute, a 10 MB one hours. So a feed is parsed in a child process, and
a parse that outlives its time is killed; the gather goes on with the next source. Children
come from a fork server with the parser already imported (~10 ms a call, not a fresh
interpreter), and a fork server is safe in a process with threads, unlike a plain fork.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext, SpawnContext
from typing import Any, TypeVar

from syndicate.errors import SourceError

T = TypeVar("T")
# Imported once by the fork server, so that its children start with them loaded. (The
# parent's __main__ is still re-run in each child: Python 3.11 ignores "__main__" here.)
PRELOAD = [
    "syndicate.sources.isolation",
    "syndicate.pipeline.feed_schedule",
    "syndicate.sources.feed",
]

_CONTEXT: ForkServerContext | SpawnContext
if "forkserver" in multiprocessing.get_all_start_methods():
    _CONTEXT = multiprocessing.get_context("forkserver")
    _CONTEXT.set_forkserver_preload(PRELOAD)
else:  # no fork server (Windows): a fresh interpreter each time
    _CONTEXT = multiprocessing.get_context("spawn")


def child_context() -> ForkServerContext | SpawnContext:
    """Where worker processes come from: the fork server (safe beside threads, as a plain
    fork of the multi-threaded service is not), else fresh interpreters."""
    return _CONTEXT


class Overtime(SourceError):
    """The call was still running at its deadline, and was killed."""


class ChildFailed(SourceError):
    """The child process died without an answer (a crash, or killed from outside)."""


def _child(conn: Connection, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        outcome: tuple[str, Any] = ("ok", func(*args))
    except Exception as exc:
        outcome = ("raised", exc)
    try:
        conn.send(outcome)
    except (pickle.PicklingError, TypeError, AttributeError):
        conn.send(("raised", RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]}")))
    conn.close()


def call_with_deadline(func: Callable[..., T], args: tuple[Any, ...], timeout: float) -> T:
    """``func(*args)`` in a child process: its result, or its exception re-raised here;
    Overtime if it runs longer than ``timeout`` seconds. ``func`` must be importable."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=_child, args=(sender, func, args), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise Overtime(f"still running after {timeout:g}s")
        try:
            status, value = receiver.recv()
        except EOFError:
            process.join(1)
            raise ChildFailed(f"the child process died (exit code {process.exitcode})") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
    if status == "raised":
        raise value
    result: T = value
    return result
