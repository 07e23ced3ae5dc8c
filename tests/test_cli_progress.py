"""Progress when stderr is not a terminal: one line every PROGRESS_EVERY seconds, with the
rate and the time left, on an injected clock."""

from __future__ import annotations

from syndicate.cli.app import PROGRESS_EVERY, ProgressLog


def test_a_line_every_interval_with_rate_and_time_left() -> None:
    now = [100.0]
    lines: list[str] = []
    log = ProgressLog("sending 2026-W48", lambda: now[0], lines.append)
    for done in range(1000, 20_001, 1000):
        now[0] += 2.0  # 1,000 recipients every 2 s
        log(done, 20_000)
    assert len(lines) == int(40 / PROGRESS_EVERY)
    assert lines[0] == "sending 2026-W48: 5,000/20,000 (25%), 500/s, about 30 s left"
    assert lines[-1] == "sending 2026-W48: 20,000/20,000 (100%), 500/s"


def test_nothing_for_a_short_job() -> None:
    lines: list[str] = []
    log = ProgressLog("importing", lambda: 0.0, lines.append)
    log(10, 10)
    assert lines == []
