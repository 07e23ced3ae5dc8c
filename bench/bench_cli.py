"""How long `syndicate --help` takes to start (target < 300 ms).

.venv/bin/python bench/bench_cli.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    exe = Path(sys.executable).with_name("syndicate")
    commands = {
        "python -c pass (interpreter start)": [sys.executable, "-c", "pass"],
        "syndicate --help": [str(exe), "--help"],
    }
    results = {}
    for label, cmd in commands.items():
        subprocess.run(cmd, check=True, capture_output=True)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        results[label] = statistics.median(times)
        print(f"{label}: median {results[label] * 1000:.0f} ms over {args.runs} runs")


if __name__ == "__main__":
    main()
