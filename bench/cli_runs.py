"""Real `syndicate` commands run as an operator runs them, measured from outside.

Used by bench_cli.py and bench_pipeline.py: a site folder with its settings file, and one
command's wall time, CPU time (its own and its children's: the gather's parsing processes)
and peak RSS (of the command's process, and of the largest child).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SYNDICATE = str(Path(sys.executable).with_name("syndicate"))
NOW = "2026-11-21T12:00:00+00:00"

# The command under a thin wrapper that writes its peak RSS (self, children) at exit. Its
# own is VmHWM: ru_maxrss of an exec'd process starts at its parent's RSS when forked (a
# bench holding 100,000 articles would show as the command's peak).
_PROBE = """\
import atexit, json, os, resource, sys
def _report():
    with open("/proc/self/status") as status:
        me = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(os.environ["SYNDICATE_BENCH_RUSAGE"], "w") as out:
        json.dump({"self_kb": me, "children_kb": kids}, out)
atexit.register(_report)
sys.argv = ["syndicate", *sys.argv[1:]]
from syndicate.cli import main
main()
"""


@dataclass(frozen=True)
class Run:
    wall: float  # seconds, interpreter start included
    cpu: float  # user + system seconds of the command and its children
    peak_mb: float  # peak RSS of the command's own process (0 when not probed)
    children_peak_mb: float  # peak RSS of its largest child process (0 when none, or not probed)
    stdout: str


def write_site(root: Path, articles: Path, title: str = "Bench") -> Path:
    """A site at ``root`` reading ``articles``; its settings file's path."""
    config = root / "config" / "syndicate.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[site]\ntitle = "{title}"\nurl = "https://bench.example.org/"\ntimezone = "UTC"\n\n'
        '[storage]\nurl = "sqlite:///var/syndicate.db"\n\n'
        f'[[sources]]\nname = "articles"\nkind = "folder"\npath = "{articles}"\n'
        'category = "Misc"\n\n'
        '[feeds]\noutput_dir = "var/public"\n',
        encoding="utf-8",
    )
    return config


def run(config: Path, *args: str, probe: bool = False) -> Run:
    """One command, which must succeed; ``probe`` also records its peak memory."""
    env = {**os.environ, "SYNDICATE_NOW": NOW, "SYNDICATE_CONFIG": str(config)}
    # As installed, the code runs from bytecode: without this (set in some shells) every
    # run would compile syndicate's sources again (~0.2 s of CPU), which no install does.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [SYNDICATE, *args]
    with tempfile.NamedTemporaryFile(suffix=".json") as rusage:
        if probe:
            env["SYNDICATE_BENCH_RUSAGE"] = rusage.name
            command = [sys.executable, "-c", _PROBE, *args]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"syndicate {' '.join(args)} failed:\n{done.stderr}")
        peaks = json.loads(Path(rusage.name).read_text() or "{}") if probe else {}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(
        wall,
        cpu,
        peaks.get("self_kb", 0) / 1024,
        peaks.get("children_kb", 0) / 1024,
        done.stdout,
    )


def verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"
