"""Instructions a recipient of a SendGrid send costs, counted by valgrind: a figure that does
not move with the machine's pace (this one's swings 2x within a session, and wall or CPU
time cannot then tell a 5 % change from noise).

    .venv/bin/python bench/bench_send_instructions.py                       # this tree
    .venv/bin/python bench/bench_send_instructions.py --old /tmp/old/src    # and an old one

The real ``syndicate digest send`` runs under ``valgrind --tool=cachegrind`` against the
SendGrid stand-in (in a process of its own, not counted), on SQLite, twice: with ``--small``
and ``--large`` recipients. Their difference over the difference in recipients is the cost
of one recipient (claim, links and tokens, its personalization, its outcome), without the
start-up both share; the small run is the start-up and freeze. The hash seed is fixed, so
two runs of one tree differ by a few hundred instructions a recipient (the heartbeat thread
beats on the wall clock). Needs valgrind (``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_send import API_KEY, NOW, SECRET, WEEK, start_peer, write_config

REPO = Path(__file__).resolve().parents[1]


def instructions(count: int, src: Path | None) -> int:
    """Instructions of one send of ``count`` recipients (``src``: the tree's src folder)."""
    with tempfile.TemporaryDirectory(prefix="syndicate-bench-instructions-") as name:
        tmp = Path(name)
        url = f"sqlite:///{tmp / 'send.db'}"
        env = {**os.environ, "SYNDICATE_SECRET_KEY": SECRET, "SENDGRID_API_KEY": API_KEY}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: from bytecode
        env["PYTHONHASHSEED"] = "0"
        if src is not None:
            env["PYTHONPATH"] = str(src)
        # The table is filled by the tree that sends (its own schema), outside valgrind.
        filled = subprocess.run(
            [sys.executable, "-c", _FILL, str(REPO / "bench"), url, str(count)], env=env
        )
        if filled.returncode:
            raise SystemExit("filling the table failed")
        peer = start_peer("sendgrid")
        try:
            config = write_config(tmp, url, peer.delivery)
            command = [sys.executable, "-m", "syndicate", "--config", str(config)]
            command += ["--now", NOW.isoformat(), "digest", "send", "--period", WEEK]
            done = subprocess.run(
                ["valgrind", "--tool=cachegrind", "--cache-sim=no",
                 "--cachegrind-out-file=/dev/null", *command],
                env=env, capture_output=True, text=True,
            )  # fmt: skip
        finally:
            peer.stop()
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode or found is None or f"{count} sent" not in done.stdout:
        raise SystemExit(f"the send failed:\n{done.stdout}\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


_FILL = "import sys; sys.path.insert(0, sys.argv[1]); import bench_send; " \
    "bench_send.fill(sys.argv[2], int(sys.argv[3]))"  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=40_000)
    parser.add_argument("--old", type=Path, help="an old tree's src folder, measured alike")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    trees: list[tuple[str, Path | None]] = [("this tree", None)]
    if args.old is not None:
        trees.append((f"old ({args.old})", args.old))
    print("| tree | instructions a recipient | start-up and freeze (small send) |")
    print("| --- | ---: | ---: |")
    for label, src in trees:
        small, large = instructions(args.small, src), instructions(args.large, src)
        each = (large - small) / (args.large - args.small)
        print(f"| {label} | {each:,.0f} | {small / 1e9:.2f} G ({args.small:,} recipients) |")


if __name__ == "__main__":
    main()
