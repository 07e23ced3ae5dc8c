"""One real command of two trees, alternated run by run: the CPU each takes, as a ratio.

    git worktree add /tmp/old <rev>
    .venv/bin/python bench/ab_cli.py --old /tmp/old/src --runs 20 gather
    .venv/bin/python bench/ab_cli.py --old /tmp/old/src --edit publish
    .venv/bin/python bench/ab_cli.py --old /tmp/old/src --edit gather + feeds

This machine's pace swings by 2× within an hour, so two trees are compared in one run, each
command of the old tree (through PYTHONPATH) followed by the same command of this one, on
the same copy of examples/. ``--edit`` appends a line to one article before every run (the
one-article-changed rebuild). Commands joined by ``+`` run one after the other, as cron
runs them, and count as one. Reported: the median and lowest CPU of each (the command's own
process and its children), and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from cli_runs import NOW, write_site
from pace import PACE_LABEL, reference_loop

REPO = Path(__file__).resolve().parents[1]


def cpu_of(command: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--old", type=Path, required=True, help="the old tree's src folder")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--edit", action="store_true", help="edit an article before each run")
    parser.add_argument(
        "args", nargs="+", help="the command's arguments, e.g. gather; `gather + feeds`: both"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="syndicate-bench-ab-") as name:
        root = Path(name)
        shutil.copytree(REPO / "examples" / "articles", root / "articles")
        config = write_site(root, root / "articles", title="Bench A/B")
        env = {**os.environ, "SYNDICATE_NOW": NOW, "SYNDICATE_CONFIG": str(config)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: from bytecode
        env.pop("PYTHONPATH", None)
        trees = {"old": {**env, "PYTHONPATH": str(options.old.resolve())}, "new": env}
        commands = [[sys.executable, "-m", "syndicate", *part] for part in _split(options.args)]
        for step in ("gather", "feeds"):
            subprocess.run([sys.executable, "-m", "syndicate", step], env=env, check=True,
                           capture_output=True)  # fmt: skip
        article = sorted((root / "articles").glob("*.md"))[-1]
        cpu: dict[str, list[float]] = {tree: [] for tree in trees}
        for run in range(options.runs):
            for tree, tree_env in trees.items():
                if options.edit:
                    with article.open("a", encoding="utf-8") as out:
                        out.write(f"\nEdit {tree} {run}.\n")
                cpu[tree].append(sum(cpu_of(command, tree_env) for command in commands))
    medians = {tree: statistics.median(values) for tree, values in cpu.items()}
    shown = " ".join(options.args) + (" (one article edited before each)" if options.edit else "")
    print(f"`syndicate {shown}`, {options.runs} alternating runs each, CPU:\n")
    print("| tree | median | lowest |")
    print("| --- | ---: | ---: |")
    for tree, values in cpu.items():
        print(f"| {tree} | {medians[tree]:.3f} s | {min(values):.3f} s |")
    print(f"\nnew / old: {medians['new'] / medians['old']:.2f}")
    print(f"{PACE_LABEL}: {reference_loop():.2f} s")


def _split(args: list[str]) -> list[list[str]]:
    """``gather + feeds`` -> [["gather"], ["feeds"]]."""
    commands: list[list[str]] = [[]]
    for arg in args:
        if arg == "+":
            commands.append([])
        else:
            commands[-1].append(arg)
    return [command for command in commands if command]


if __name__ == "__main__":
    main()
