"""Benchmark of the publishing pipeline (issue 2's and issue 14's targets).

    .venv/bin/python bench/bench_pipeline.py [--files 10000] [--categories 20] [--store 100000]
                                             [--rss-files 10000,100000] [--only feeds]

Reports: first gather of N generated article files, a re-gather of the unchanged folder,
building every feed from a 10,000- and a 100,000-article store (first build, which writes
every article page; nothing changed; one article changed; the ratio shows whether the cost
grows with the archive), and one edition's render with CSS inlining. Then, through
the real `syndicate` command (a fresh process each, as cron runs it): the peak RSS of a
first gather of each of --rss-files files, and on the first of those sites, one article
changed: `syndicate gather` + `syndicate feeds`. Each figure is printed against its target.
``--only feeds`` runs the feed builds alone; their first build (every page) writes without
fsync, so that 100,000 pages fit in minutes (the builds measured after it fsync as usual).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from cli_runs import run, verdict, write_site
from syndicate import content
from syndicate.config import Settings
from syndicate.digest.render import render_edition
from syndicate.models import Article, Edition
from syndicate.pipeline import build_all_feeds, gather, site_view, template_source
from syndicate.store import Store

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
WORDS = [
    "soil",
    "compost",
    "tomato",
    "basil",
    "rooftop",
    "balcony",
    "water",
    "sun",
    "shade",
    "seed",
    "harvest",
    "bee",
    "worm",
    "pot",
    "garden",
    "neighbour",
    "city",
    "wind",
    "rain",
    "mulch",
    "leaf",
    "root",
    "frost",
    "spring",
    "autumn",
    "trellis",
]
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng, rng.randint(8, 20)) for _ in range(rng.randint(3, 7)))


def human_date(moment: datetime) -> str:
    return f"{MONTHS[moment.month - 1]} {moment.day}, {moment.year}"


def write_articles(folder: Path, count: int, categories: int, seed: int = 7) -> None:
    """Half text format (each with one teaser card naming the next article), half Markdown."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    titles = [f"{sentence(rng, 5)[:-1]} number {i}" for i in range(count)]
    dates = [NOW - timedelta(hours=7 * i + 1) for i in range(count)]
    for i in range(count):
        category = f"Category {i % categories:02d}"
        body = "\n\n".join(paragraph(rng) for _ in range(rng.randint(3, 6)))
        if i % 2:
            text = (
                f'---\ntitle: "{titles[i]}"\ndate: {dates[i].date().isoformat()}\n'
                f"category: {category}\nauthor: Bench Writer\n---\n\n{body}\n"
            )
            (folder / f"a{i:06d}.md").write_text(text, encoding="utf-8")
        else:
            nxt = (i + 1) % count
            card = (
                f"{human_date(dates[nxt])}\nCategory {nxt % categories:02d}\n{titles[nxt]}\n"
                f"{sentence(rng, 14)}\nRead article\n"
            )
            text = (
                f"{titles[i]}\n\n{human_date(dates[i])}\n\n{body}\n\nWritten by\nBench Writer\n"
                f"Continue reading\n{card}"
            )
            (folder / f"a{i:06d}.txt").write_text(text, encoding="utf-8")


def synthetic_articles(count: int, categories: int, seed: int = 11) -> list[Article]:
    rng = random.Random(seed)
    site = "https://bench.example.org/"
    out = []
    for i in range(count):
        slug = f"article-{i}"
        title = f"{sentence(rng, 6)[:-1]} {i}"
        html = "".join(f"<p>{paragraph(rng)}</p>" for _ in range(3))
        out.append(
            Article(
                guid=content.article_guid(site, slug),
                slug=slug,
                title=title,
                link=site + slug + "/",  # as a gather writes it with article pages on
                published=NOW - timedelta(minutes=37 * i),
                category=f"Category {i % categories:02d}",
                summary=content.excerpt(content.html_to_text(html)),
                content=html,
                author="Bench Writer",
                source="bench",
                content_hash=content.content_hash(title, html, str(i)),
            )
        )
    return out


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        CPU.append(time.process_time() - cpu)
    return statistics.median(times), result


CPU: list[float] = []  # the CPU time (user + sys) of each timed call, in order


def cpu_of_last(count: int) -> str:
    return f"{statistics.median(CPU[-count:]):.3f} s CPU"


@contextmanager
def without_fsync() -> Iterator[None]:
    real = os.fsync
    os.fsync = lambda fd: None
    try:
        yield
    finally:
        os.fsync = real


def settings_for(root: Path, db: Path, categories: int) -> Settings:
    return Settings.model_validate(
        {
            "site": {"title": "Bench", "url": "https://bench.example.org/", "timezone": "UTC"},
            "storage": {"url": f"sqlite:///{db}"},
            "sources": [{"name": "bench", "path": str(root / "articles"), "category": "Misc"}],
            "feeds": {"output_dir": str(root / "public")},
            "root": root,
        }
    )


Row = tuple[str, float, str]  # (measurement, seconds, target in seconds)


def bench_gather(tmp: Path, files: int, categories: int) -> list[Row]:
    write_articles(tmp / "articles", files, categories)
    settings = settings_for(tmp, tmp / "gather.db", categories)
    rows = []
    with Store(settings.database_url) as store:
        first, report = timed(lambda: gather(settings, store, now=NOW))
        assert report.failed == 0 and report.new == files, report.summary()
        rows.append((f"first gather of {files:,} files", first, "≤ 10 s"))
        again, report = timed(lambda: gather(settings, store, now=NOW), repeat=3)
        assert report.unchanged == files, report.summary()
        rows.append((f"re-gather, {files:,} unchanged files", again, "≤ 1 s"))
    return rows


def bench_feeds(tmp: Path, sizes: list[int], categories: int) -> list[Row]:
    """Per store size: the first build (every article page written), a build with nothing
    changed (issue 9: ≤ 1 s at 100,000 articles), and a build after one article changed."""
    rows = []
    articles = synthetic_articles(max(sizes), categories)
    for size in sizes:
        root = tmp / f"feeds-{size}"
        settings = settings_for(root, root / "store.db", categories)
        feeds = len(settings.feeds.formats) * (categories + 1)
        what = f"all {feeds} feeds (+ front page, article pages) from a {size:,}-article store"
        with Store(settings.database_url) as store:
            store.upsert_articles(articles[:size], NOW)
            build = partial(build_all_feeds, settings, store, NOW)
            with without_fsync():
                first, report = timed(build)
            written = f"first build (no fsync), {len(report.written):,} files written"
            rows.append((f"{written}; {cpu_of_last(1)}", first, ""))
            elapsed, report = timed(build, repeat=3)
            assert report.written == [], report.written
            rows.append((f"{what}, nothing changed; {cpu_of_last(3)}", elapsed, "≤ 1 s"))
            edited = after_one_edit(store, articles, build)
            rows.append((f"{what}, one article changed; {cpu_of_last(3)}", edited, "≤ 1 s"))
    return rows


def after_one_edit(store: Store, articles: list[Article], build: Callable[[], Any]) -> float:
    """The median build after one article's text changed in the store (three articles)."""
    times = []
    for article in articles[:3]:
        html = article.content + "<p>An edit.</p>"
        digest = content.content_hash(article.guid, html)
        store.upsert_articles([replace(article, content=html, content_hash=digest)], NOW)
        elapsed, report = timed(build)
        times.append(elapsed)
        assert sum(p.endswith("/index.html") for p in report.written) == 1, report.written
    return statistics.median(times)


def bench_render(tmp: Path, categories: int) -> list[Row]:
    settings = settings_for(tmp, tmp / "render.db", categories)
    articles = tuple(synthetic_articles(20, categories))
    edition = Edition("weekly:2026-W47", "weekly", "2026-W47", NOW, articles, "Bench digest")
    site, templates = site_view(settings), template_source(settings)
    render_edition(edition, site=site, templates=templates)  # warm-up: template compile
    elapsed, rendered = timed(
        lambda: render_edition(edition, site=site, templates=templates), repeat=7
    )
    size = len(rendered.html.encode())
    return [(f"one edition render + inlining (20 items, {size // 1024} KB)", elapsed, "≤ 0.1 s")]


FIRST_GATHER_RSS_MB = 250  # issue 14: a first gather of 100,000 files
ONE_ARTICLE_S = 0.8  # issue 14: one article changed, gather + feeds via the CLI


def bench_cli(tmp: Path, sizes: list[int], categories: int) -> list[tuple[str, str, str, bool]]:
    """Through the real command: the first gather's peak RSS at each size, and on the
    first site a rebuild after one article changed."""
    rows = []
    for size in sizes:
        site = tmp / f"cli-{size}"
        write_articles(site / "articles", size, categories)
        config = write_site(site, site / "articles")
        first = run(config, "gather", probe=True)
        assert f"{size} new" in first.stdout, first.stdout
        shown = (
            f"{first.peak_mb:.0f} MB (largest parsing process {first.children_peak_mb:.0f} MB;"
            f" {first.wall:.1f} s wall, {first.cpu:.1f} s CPU)"
        )
        ok = first.peak_mb <= FIRST_GATHER_RSS_MB
        label = f"first gather of {size:,} files (`syndicate gather`), peak RSS"
        rows.append((label, shown, f"≤ {FIRST_GATHER_RSS_MB} MB", ok))
        if size == sizes[0]:
            rows.append(one_article_changed(config, site / "articles", size))
        shutil.rmtree(site)
    return rows


def one_article_changed(config: Path, folder: Path, size: int) -> tuple[str, str, str, bool]:
    run(config, "feeds")
    walls, cpus = [], []
    for attempt in range(5):
        article = folder / f"a{2 * attempt + 1:06d}.md"  # Markdown: the body ends the file
        article.write_text(article.read_text(encoding="utf-8") + "\nAn edit.\n", "utf-8")
        gathered = run(config, "gather")
        assert "1 updated" in gathered.stdout, gathered.stdout
        built = run(config, "feeds")
        walls.append(gathered.wall + built.wall)
        cpus.append(gathered.cpu + built.cpu)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    label = f"one article changed of {size:,}: `syndicate gather` + `syndicate feeds`"
    shown = f"{wall:.2f} s wall, {cpu:.2f} s CPU (median of 5)"
    return label, shown, f"≤ {ONE_ARTICLE_S} s wall", wall <= ONE_ARTICLE_S


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--store", type=int, default=100_000)
    parser.add_argument("--rss-files", default="10000,100000", help="comma-separated sizes")
    parser.add_argument("--only", choices=["feeds"], help="run only the feed builds")
    args = parser.parse_args()
    sizes = [int(size) for size in args.rss_files.split(",") if size]
    with tempfile.TemporaryDirectory(prefix="syndicate-bench-") as name:
        tmp = Path(name)
        feeds = args.only == "feeds"
        rows = [] if feeds else bench_gather(tmp, args.files, args.categories)
        rows += bench_feeds(tmp, [args.store // 10, args.store], args.categories)
        rows += [] if feeds else bench_render(tmp, args.categories)
        cli_rows = bench_cli(tmp, sizes, args.categories) if sizes and not feeds else []
    print("| measurement | seconds | target | |")
    print("| --- | ---: | --- | --- |")
    for label, seconds, target in rows:
        judged = verdict(seconds <= float(target.split()[1])) if target else ""
        print(f"| {label} | {seconds:.3f} | {target} | {judged} |")
    unchanged = [seconds for label, seconds, _ in rows if "nothing changed" in label]
    print(
        f"\nfeeds: {args.store:,}-article store / {args.store // 10:,}: "
        f"{unchanged[1] / unchanged[0]:.2f}×"
    )
    if cli_rows:
        print("\n| through the CLI | value | target | |")
        print("| --- | ---: | --- | --- |")
        for label, value, target, ok in cli_rows:
            print(f"| {label} | {value} | {target} | {verdict(ok)} |")


if __name__ == "__main__":
    main()
