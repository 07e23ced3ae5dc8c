"""Real commands on a small site, timed from outside (issue 14's start-up targets).

    .venv/bin/python bench/bench_cli.py [--runs 10]

The site is examples/ (15 articles). Each command runs as an operator runs it (the
`syndicate` executable, a fresh interpreter each time); reported are the median wall time
and CPU time over the runs, against the target. "one article changed" edits one article
and runs `syndicate gather` then `syndicate feeds`, as cron would, or `syndicate publish`,
which does both in one process.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cli_runs import Run, run, verdict, write_site
from pace import PACE_LABEL, reference_loop

REPO = Path(__file__).resolve().parents[1]
Targets = dict[str, float | None]
TARGETS: Targets = {
    "python -c pass (interpreter start)": None,
    "syndicate --help": 0.3,
    "syndicate status": 0.3,
    "syndicate feeds": 0.3,
    "syndicate gather (nothing changed)": None,
    "nothing changed: gather + feeds (cron's usual run)": None,
    "syndicate digest preview": None,
    "one article changed: gather + feeds": 0.8,
    "one article changed: publish (the same, one process)": 0.8,
}


def interpreter() -> Run:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return Run(time.perf_counter() - start, 0.0, 0.0, 0.0, "")


def nothing_changed(config: Path) -> Run:
    gathered = run(config, "gather")
    assert "0 new, 0 updated" in gathered.stdout, gathered.stdout
    built = run(config, "feeds")
    assert "0 written" in built.stdout, built.stdout
    return Run(gathered.wall + built.wall, gathered.cpu + built.cpu, 0.0, 0.0, "")


def one_article_changed(config: Path, article: Path, *, one_process: bool) -> Callable[[], Run]:
    """Edit the article, then `gather` and `feeds` (or `publish`, both in one process)."""
    count = 0

    def rebuild() -> Run:
        nonlocal count
        count += 1
        article.write_text(article.read_text(encoding="utf-8") + f"\nEdit {count}.\n", "utf-8")
        if one_process:
            published = run(config, "publish")
            assert "1 updated" in published.stdout and "feeds:" in published.stdout
            return published
        gathered = run(config, "gather")
        assert "1 updated" in gathered.stdout, gathered.stdout
        built = run(config, "feeds")
        return Run(gathered.wall + built.wall, gathered.cpu + built.cpu, 0.0, 0.0, "")

    return rebuild


def measure(name: str, once: Callable[[], Run], runs: int) -> tuple[str, float, float]:
    once()  # warm: the page cache, .pyc files
    results = [once() for _ in range(runs)]
    wall = statistics.median(r.wall for r in results)
    cpu = statistics.median(r.cpu for r in results)
    return name, wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="syndicate-bench-cli-") as name:
        root = Path(name)
        shutil.copytree(REPO / "examples" / "articles", root / "articles")
        config = write_site(root, root / "articles", title="Bench CLI")
        run(config, "gather")
        run(config, "feeds")
        article = sorted((root / "articles").glob("*.md"))[-1]
        commands: dict[str, Callable[[], Run]] = {
            "python -c pass (interpreter start)": interpreter,
            "syndicate --help": lambda: run(config, "--help"),
            "syndicate status": lambda: run(config, "status"),
            "syndicate feeds": lambda: run(config, "feeds"),
            "syndicate gather (nothing changed)": lambda: run(config, "gather"),
            "nothing changed: gather + feeds (cron's usual run)": lambda: nothing_changed(config),
            "syndicate digest preview": lambda: run(config, "digest", "preview"),
            "one article changed: gather + feeds": one_article_changed(
                config, article, one_process=False
            ),
            "one article changed: publish (the same, one process)": one_article_changed(
                config, article, one_process=True
            ),
        }
        rows = [measure(label, once, args.runs) for label, once in commands.items()]
    print(f"Median of {args.runs} runs on a 15-article site (examples/):\n")
    print("| command | wall | CPU | target (wall) | |")
    print("| --- | ---: | ---: | ---: | --- |")
    for label, wall, cpu in rows:
        target = TARGETS[label]
        shown = f"≤ {target:g} s" if target is not None else ""
        judged = verdict(wall <= target) if target is not None else ""
        cpu_shown = f"{cpu:.2f} s" if cpu else ""
        print(f"| {label} | {wall:.2f} s | {cpu_shown} | {shown} | {judged} |")
    print(f"\n{PACE_LABEL}: {reference_loop():.2f} s")


if __name__ == "__main__":
    main()
