"""Benchmark of one edition sent to many subscribers through the real CLI (issue 14's targets).

    .venv/bin/python bench/bench_send.py --backend sendgrid --db sqlite --workers 1 --n 1000000
    .venv/bin/python bench/bench_send.py --backend sendgrid --concurrency 2   # requests overlap
    .venv/bin/python bench/bench_send.py --backend sendgrid --db postgresql+psycopg://… --workers 2
    .venv/bin/python bench/bench_send.py --backend smtp --n 50000
    .venv/bin/python bench/bench_send.py --backend smtp --n 300 --latency-ms 100 --workers 2 \
        --db postgresql+psycopg://…    # workers where the provider's round trip sets the pace

The table is filled first (not measured); then ``syndicate digest send --workers N`` runs
as a child process against the SendGrid stand-in (tests/sendgrid_standin.py, which checks
every request as the real API would) or a lean SMTP sink (bench/smtp_sink.py), both on
loopback in processes of their own. Reported: wall time of the command (start-up, freezing
the recipients and the send), sender CPU (the command and all its workers), the stand-in's
or sink's CPU, requests, messages a second and the peak RSS of the sender's largest process,
each against its target where the issue sets one, and the time of a fixed loop of plain
Python (machines and days differ: it says how fast this one was). ``--db URL`` (PostgreSQL)
makes a database of its own next to the one named, and drops it afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from pace import PACE_LABEL, reference_loop
from syndicate.models import Article
from syndicate.store import Store
from syndicate.store.schema import subscribers

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WEEK = "2026-W47"  # the week before the Monday send: its articles
API_KEY = "SG.bench-key"
SECRET = "yP5I2y2VBSkgim5axroR7OiXn6qyDFNxVJLrasTzEP0"
# (backend, workers, database kind) -> targets: wall s, sender CPU s (per 1M), messages/s
WALL_TARGETS = {("sendgrid", 1, "sqlite"): 20.0, ("sendgrid", 2, "sqlite"): 12.0}
PG_WALL_TARGET = 30.0  # 1M, --workers 2
CPU_TARGET = 15.0  # 1M SendGrid, one worker
SMTP_RATE_TARGET = 1500.0
RSS_TARGET_MB = 150.0


def articles(count: int = 20) -> list[Article]:
    text_ = "A sentence of an ordinary summary, long enough to look real. " * 3
    return [
        Article(
            guid=f"urn:uuid:00000000-0000-0000-0000-{i:012d}",
            slug=f"post-{i}",
            title=f"Headline number {i} of the week",
            link=f"https://bench.syndicate.test/post-{i}",
            published=NOW - timedelta(hours=3 * i + 1),
            category=f"Category {i % 5}",
            summary=text_,
            content=f"<p>{text_}</p>",
            content_hash=f"h{i}",
        )
        for i in range(count)
    ]


def fill(url: str, count: int) -> None:
    with Store(url) as store:
        store.upsert_articles(articles(), NOW)
        chunk = 50_000
        with store.engine.begin() as conn:
            for start in range(0, count, chunk):
                rows = [
                    {
                        "email": f"reader{i}@bench.syndicate.test",
                        "email_key": f"reader{i}@bench.syndicate.test",
                        "name": f"Reader {i}",
                        "status": "active",
                        "created_at": NOW,
                        "confirmed_at": NOW,
                        "updated_at": NOW,
                        "token_id": f"t{i:012d}",
                    }
                    for i in range(start, min(count, start + chunk))
                ]
                conn.execute(insert(subscribers), rows)


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'send.db'}"
        return
    admin = create_engine(kind, isolation_level="AUTOCOMMIT")
    name = f"syndicate_bench_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(kind).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


class ServerCPU:
    """CPU seconds of a local PostgreSQL's backends serving one database, sampled from /proc
    while the send runs (the backends end with the workers; the last 0.2 s may be missed).
    No database (SQLite): nothing is sampled, so no thread takes a core from the send."""

    def __init__(self, database: str | None) -> None:
        self.tag = f" {database} ".encode() if database else b""
        self.seen: dict[int, float] = {}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ServerCPU:
        if self.tag:
            self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()

    @property
    def seconds(self) -> float | None:
        return sum(self.seen.values()) if self.seen else None

    def _sample(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while True:
            for entry in Path("/proc").iterdir():
                try:
                    if entry.name.isdigit() and self.tag in (entry / "cmdline").read_bytes():
                        fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                        self.seen[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
                except OSError:
                    continue
            if self.stopped.wait(0.2):
                return


@dataclass
class Peer:
    """The stand-in or the sink: its process and what the settings need to reach it."""

    process: subprocess.Popen[str]
    delivery: dict[str, object]

    def stop(self) -> tuple[float, str]:
        """(CPU seconds it used, its last line: its stats)."""
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=60)
        return _children_cpu(), (out.strip().splitlines() or [""])[-1]


_cpu_seen = 0.0


def _children_cpu() -> float:
    """CPU of the children reaped since the last call."""
    global _cpu_seen
    times = os.times()
    total = times.children_user + times.children_system
    spent, _cpu_seen = total - _cpu_seen, total
    return spent


def start_peer(backend: str, latency_ms: float = 0.0, concurrency: int = 1) -> Peer:
    if backend == "sendgrid":
        command = [sys.executable, str(REPO / "tests" / "sendgrid_standin.py")]
        process = subprocess.Popen(
            [*command, "--api-key", API_KEY], stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        options = {"base_url": base_url, "concurrency": concurrency}
        return Peer(process, {"backend": "sendgrid", "sendgrid": options})
    process = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "smtp_sink.py"), "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    host, port = process.stdout.readline().split()
    smtp = {"host": host, "port": int(port), "security": "none"}
    return Peer(process, {"backend": "smtp", "smtp": smtp})


def write_config(tmp: Path, url: str, delivery: dict[str, object]) -> Path:
    def toml(value: object) -> str:
        if isinstance(value, dict):
            return "{ " + ", ".join(f"{k} = {toml(v)}" for k, v in value.items()) + " }"
        return json.dumps(value)

    lines = [
        "[site]",
        'title = "Bench"',
        'url = "https://bench.syndicate.test/"',
        'postal_address = "1 Bench Road, Testville"',
        "[email]",
        'from_address = "digest@bench.syndicate.test"',
        "[storage]",
        f"url = {json.dumps(url)}",
        "[delivery]",
        *(f"{key} = {toml(value)}" for key, value in delivery.items()),
    ]
    path = tmp / "syndicate.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


# Linux carries a process's peak RSS across exec: a command forked from this process after
# it filled the table reported this process's peak (111 MB whatever the send), not its own.
# So the command is started by a small launcher, itself started before the fill.
class Launcher:
    """Runs commands for the bench from a process of its own, started while the bench was
    small; each run answers the command's wall time, status, rusage and output."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH_AND_MEASURE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, command: list[str], env: dict[str, str]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"command": command, "env": env}) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        return answer

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


# The launcher's loop: wait4 gives the command's own rusage (it and its workers). Its stderr
# goes to a file, so that neither pipe can fill while the other is read.
_LAUNCH_AND_MEASURE = """
import json, os, subprocess, sys, tempfile, time
for line in sys.stdin:
    job = json.loads(line)
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(job["command"], env=job["env"], stdout=subprocess.PIPE,
                                   stderr=errors, text=True)
        out = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        errors.seek(0)
        err = errors.read()
    print(json.dumps({"wall": time.perf_counter() - start, "status": status,
                      "user": usage.ru_utime, "system": usage.ru_stime,
                      "maxrss_kb": usage.ru_maxrss, "out": out, "err": err}), flush=True)
"""


def run_send(
    launcher: Launcher, config: Path, workers: int, profile: Path | None = None
) -> tuple[float, tuple[float, float], float, str]:
    """(wall s, (user, system) CPU s of the command and its workers, peak RSS MB of its
    largest process, its summary line)."""
    env = {**os.environ, "SYNDICATE_SECRET_KEY": SECRET, "SENDGRID_API_KEY": API_KEY}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: from bytecode, not compiling
    command = [sys.executable, "-m", "syndicate", "--config", str(config)]
    command += ["--now", NOW.isoformat(), "digest", "send", "--period", WEEK]
    command += ["--workers", str(workers)]
    if profile is not None:  # py-spy's collapsed stacks of the command and its workers
        spy = Path(sys.executable).with_name("py-spy")
        command = [
            str(spy),
            "record",
            "-r",
            "200",
            "--nonblocking",  # the send is not paused at each sample: it runs at its pace
            "-f",
            "raw",
            "-s",
            "-o",
            str(profile),
            "--",
            *command,
        ]
    done = launcher.run(command, env)
    out = done["out"]
    if done["status"] != 0:
        raise SystemExit(f"the send failed ({done['status']}):\n{out}\n{done['err']}")
    rss = done["maxrss_kb"] / 1024
    return done["wall"], (done["user"], done["system"]), rss, out.splitlines()[0]


def server_cpu(server: ServerCPU, per_million: float) -> str:
    seconds = server.seconds
    if seconds is None:
        return "n/a (SQLite, or not a local server)"
    return f"{seconds * per_million:.1f} s ({seconds:.1f} s)"


def check(value: float, target: float | None, *, at_most: bool = True) -> str:
    if target is None:
        return ""
    met = value <= target if at_most else value >= target
    return f"{'≤' if at_most else '≥'} {target:,.0f} ({'met' if met else 'NOT met'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sendgrid", "smtp"), default="sendgrid")
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL URL")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="sendgrid: requests in flight per worker (delivery.sendgrid.concurrency)",
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="smtp: the sink answers each message later"
    )
    parser.add_argument(
        "--profile", type=Path, help="write py-spy's collapsed stacks of the send to this file"
    )
    args = parser.parse_args()
    kind = "sqlite" if args.db == "sqlite" else "postgresql"
    launcher = Launcher()  # before the fill: see Launcher for why
    with tempfile.TemporaryDirectory(prefix="syndicate-bench-send-") as name:
        tmp = Path(name)
        with database(args.db, tmp) as url:
            fill(url, args.n)
            _children_cpu()
            peer = start_peer(args.backend, args.latency_ms, args.concurrency)
            try:
                config = write_config(tmp, url, peer.delivery)
                served = make_url(url).database if kind == "postgresql" else None
                with ServerCPU(served) as server:
                    wall, (user, system), rss, summary = run_send(
                        launcher, config, args.workers, args.profile
                    )
                _children_cpu()  # the send's CPU is counted from its own rusage
            finally:
                peer_cpu, peer_stats = peer.stop()
            with Store(url) as store:
                key = f"weekly:{WEEK}"
                counts = store.delivery_counts(key)
                with store.engine.connect() as conn:
                    owners = conn.execute(
                        text("SELECT count(DISTINCT owner) FROM deliveries WHERE week = :w"),
                        {"w": key},
                    ).scalar_one()
    launcher.close()
    per_million = 1_000_000 / args.n
    cpu = user + system
    rate = args.n / wall
    if args.backend == "sendgrid":
        wall_target = WALL_TARGETS.get(("sendgrid", args.workers, kind))
        if kind == "postgresql" and args.workers == 2:
            wall_target = PG_WALL_TARGET
        cpu_target = CPU_TARGET if args.workers == 1 else None
        rate_target = None
    else:
        wall_target = cpu_target = None
        rate_target = None if args.latency_ms else SMTP_RATE_TARGET
    uptime = Path("/proc/loadavg").read_text().split()[:3]
    shape = f"{args.backend} / {kind} / {args.workers}"
    if args.backend == "sendgrid":
        shape += f" / {args.concurrency}"
    rows = [
        ("backend / database / workers (/ requests in flight)", shape, ""),
        ("recipients", f"{args.n:,}", ""),
        ("wall time of `digest send` (start-up, freeze, send)", f"{wall:.1f} s", ""),
        (
            "wall per million",
            f"{wall * per_million:.1f} s",
            check(wall * per_million, wall_target) if args.n >= 200_000 else "",
        ),
        (
            "sender CPU per million (all processes)",
            f"{cpu * per_million:.1f} s ({cpu:.1f} s)",
            check(cpu * per_million, cpu_target),
        ),
        ("of which in the kernel (system CPU)", f"{system * per_million:.1f} s", ""),
        (f"{args.backend} peer CPU", f"{peer_cpu:.1f} s", ""),
        # The peer does the same work in every run: the ratio leaves the machine's pace out.
        ("sender CPU / peer CPU", f"{cpu / peer_cpu:.2f}" if peer_cpu else "n/a", ""),
        ("database server CPU per million (its backends)", server_cpu(server, per_million), ""),
        ("messages a second", f"{rate:,.0f}", check(rate, rate_target, at_most=False)),
        ("peak RSS of the sender (largest process)", f"{rss:.0f} MB", check(rss, RSS_TARGET_MB)),
        ("the send's summary", summary, ""),
        ("ledger", ", ".join(f"{n} {s}" for s, n in counts.items() if n), ""),
        ("workers that sent (owners)", str(owners), ""),
        ("peer's count", peer_stats, ""),
        ("load average when measured", " ".join(uptime), ""),
        (PACE_LABEL, f"{reference_loop():.2f} s", ""),
    ]
    print("| measurement | value | target |")
    print("| --- | ---: | --- |")
    for label, value, target in rows:
        print(f"| {label} | {value} | {target} |")
    assert counts.get("sent") == args.n, counts


if __name__ == "__main__":
    main()
