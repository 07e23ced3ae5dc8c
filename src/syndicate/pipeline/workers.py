"""One send shared by several worker processes on this machine (``--workers``,
``delivery.workers``): the way to go faster before going to more machines.

Each worker is a process of its own (forked, so it starts at once with what is imported)
with its own database connection and sender, running the ordinary send (pipeline.send)
under its own heartbeat: the workers share the edition only through the ledger, by claiming
batches (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, SQLite's writer lock), exactly as several
instances on several machines do. A worker that dies leaves its claimed rows to the owner
recovery of the others (pipeline.owners). The parent sends nothing: it starts the workers,
passes a stop request on, reports their progress, adds their reports up and, once all have
ended, concludes the send (the ledger's counts, the send marked paused or finished).
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable
from multiprocessing.context import ForkProcess
from multiprocessing.synchronize import Event

from syndicate.config import Settings
from syndicate.delivery import Sender
from syndicate.digest.periods import Period
from syndicate.pipeline.delivering import (
    Clock,
    Report,
    SendError,
    SendReport,
    Share,
    mark_outcome,
    take_stock,
)
from syndicate.pipeline.send import send_edition
from syndicate.store import Store

MakeSender = Callable[[], Sender]
_FROZEN_POLL = 0.05  # seconds between looks for the first worker's start
_POLL = 1.0  # seconds between looks at the ledger for progress and a stop request
_Result = tuple[int, SendReport | None, str]  # (worker, its report, or why it failed)


class Workers:
    """``start`` the workers, then ``wait`` for them (progress bars start between the two,
    so that no thread of theirs is running when the workers are forked)."""

    def __init__(
        self,
        settings: Settings,
        period: Period,
        count: int,
        *,
        clock: Clock,
        make_sender: MakeSender,
        on_event: Report | None = None,
    ) -> None:
        if count < 1:
            raise ValueError("a send needs at least one worker")
        self.settings, self.period, self.count = settings, period, count
        self.clock, self.make_sender, self.on_event = clock, make_sender, on_event
        self._context = multiprocessing.get_context("fork")
        self._stop: Event = self._context.Event()
        self._started: Event = self._context.Event()  # the first worker started the send
        self._results: multiprocessing.Queue[_Result] = self._context.Queue()
        self._processes: list[ForkProcess] = []
        # The progress comes from the workers: the recipients they have settled, added up as
        # they go, of the most any of them had waiting as it started (the first worker's, as a
        # one-worker send counts them). The parent never counts the ledger for it: on
        # PostgreSQL a count of the pending rows every second cost the server ~20 s of CPU in
        # a send of a million; even one count of a million rows took ~0.4 s of a core the
        # workers were sharing.
        self._settled = self._context.Value("q", 0)
        self._waiting = self._context.Value("q", 0, lock=False)

    def start(self, store: Store) -> None:
        """The first worker, then, once it has started the send, the others; should it end
        before, they start it themselves. Started: the recipients frozen (one transaction
        that holds SQLite's writer lock for long with a million of them) and a dead sender's
        rows looked for. A send frozen just now has none: the others start as soon as its
        rows can be seen, while the first still checkpoints the freeze's write-ahead log
        (up to a second at a million rows)."""
        key = self.period.key
        fresh = not store.send_started(key)
        self._fork(store, 0, first=True)
        started = False
        while not started and self._processes[0].is_alive():
            started = self._started.wait(_FROZEN_POLL) or (fresh and store.send_started(key))
        for index in range(1, self.count):
            self._fork(store, index, first=not started)

    def _fork(self, store: Store, index: int, *, first: bool) -> None:
        store.engine.dispose()  # no pooled connection of the parent's goes into a worker
        process = self._context.Process(
            target=self._work, args=(index, first), name=f"syndicate-send-{index + 1}"
        )
        process.start()
        self._processes.append(process)

    def wait(
        self,
        store: Store,
        *,
        should_stop: Callable[[], bool] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> SendReport:
        """Every worker's report added up, once all have ended; SendError when a worker
        failed (the others go on to the end: the ledger keeps what they did)."""
        results: dict[int, _Result] = {}
        while len(results) < len(self._processes):
            try:
                result = self._results.get(timeout=_POLL)
                results[result[0]] = result
            except queue.Empty:
                self._reap_silent(results)
            if should_stop is not None and should_stop():
                self._stop.set()
            if progress is not None:
                self._show_progress(progress)
        for process in self._processes:
            process.join()
        return self._merge(store, [results[i] for i in sorted(results)])

    def _show_progress(self, progress: Callable[[int, int], None]) -> None:
        """Rows put back and sent again count twice: the bar is clamped to the total (the
        report at the end counts the ledger)."""
        total = self._waiting.value
        progress(min(total, self._settled.value), total)

    def _count_settled(self) -> Callable[[int, int], None]:
        """A worker's progress callback: what it settled since its last call, added up, and
        what it had waiting as it started."""
        last = 0

        def settled(done: int, total: int) -> None:
            nonlocal last
            with self._settled.get_lock():  # the one lock of both counts
                self._settled.value += done - last
                self._waiting.value = max(self._waiting.value, total)
            last = done

        return settled

    def _work(self, index: int, first: bool) -> None:
        """In the worker process: one ordinary send, its report to the parent; ``first``:
        this one starts the send."""
        try:
            with Store(self.settings.database_url) as store:
                sender = self.make_sender()
                try:
                    report = send_edition(
                        self.settings,
                        store,
                        sender,
                        self.period,
                        clock=self.clock,
                        on_event=self.on_event,
                        should_stop=self._stop.is_set,
                        progress=self._count_settled(),
                        share=Share(first, self._started.set),
                    )
                finally:
                    sender.close()
            self._results.put((index, report, ""))
        except Exception as exc:  # reported by the parent, in one line
            self._results.put((index, None, _one_line(exc)))

    def _reap_silent(self, results: dict[int, _Result]) -> None:
        """A worker that ended without a word (killed) is reported as failed."""
        for index, process in enumerate(self._processes):
            if index not in results and process.exitcode not in (None, 0):
                try:  # its result may have been sent just before it ended
                    result = self._results.get(timeout=_POLL)
                    results[result[0]] = result
                except queue.Empty:
                    results[index] = (index, None, f"ended with exit code {process.exitcode}")

    def _merge(self, store: Store, results: list[_Result]) -> SendReport:
        failed = [f"worker {index + 1}: {error}" for index, report, error in results if error]
        reports = [report for _, report, _ in results if report is not None]
        merged = SendReport(week=self.period.key)
        for report in reports:
            merged.frozen += report.frozen
            merged.recovered += report.recovered
            merged.requests += report.requests
            for label, count in report.variants.items():
                merged.variants[label] = max(count, merged.variants.get(label, 0))
            if report.paused and not merged.paused:
                merged.paused, merged.pause_kind = report.paused, report.pause_kind
        # Every worker has ended: a row in flight now is a dead one's (a failed worker's too),
        # or another instance's.
        try:
            take_stock(self.settings, store, merged, self.clock, self.on_event, None)
            mark_outcome(store, merged, self.clock)
        except Exception as exc:  # a worker's failure is the news (the database may be down)
            if not failed:
                raise
            failed.append(f"the send's end: {_one_line(exc)}")
        if failed:
            raise SendError("; ".join(failed))
        return merged


def _one_line(exc: Exception) -> str:
    """A failure as the parent reports it: the text on one line, or the type without one."""
    return " ".join(str(exc).split()) or type(exc).__name__
