"""Benchmark of the publishing pipeline (issue 2's targets).

    .venv/bin/python bench/bench_pipeline.py [--files 10000] [--categories 20] [--store 100000]

Reports: first gather of N generated article files, a re-gather of the unchanged folder,
building every feed from a 10,000- and a 100,000-article store (the ratio shows whether the
cost grows with the archive), and one edition's render with CSS inlining.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


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


def bench_gather(tmp: Path, files: int, categories: int) -> list[tuple[str, float, str]]:
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


def bench_feeds(tmp: Path, sizes: list[int], categories: int) -> list[tuple[str, float, str]]:
    rows = []
    articles = synthetic_articles(max(sizes), categories)
    for size in sizes:
        root = tmp / f"feeds-{size}"
        settings = settings_for(root, root / "store.db", categories)
        with Store(settings.database_url) as store:
            store.upsert_articles(articles[:size], NOW)
            feeds = len(settings.feeds.formats) * (categories + 1)
            elapsed, _ = timed(lambda s=settings, db=store: build_all_feeds(s, db, NOW), repeat=3)
        rows.append((f"all {feeds} feeds from a {size:,}-article store", elapsed, "≤ 1 s"))
    return rows


def bench_render(tmp: Path, categories: int) -> list[tuple[str, float, str]]:
    settings = settings_for(tmp, tmp / "render.db", categories)
    articles = tuple(synthetic_articles(20, categories))
    edition = Edition(week="2026-W47", created_at=NOW, articles=articles, subject="Bench digest")
    site, templates = site_view(settings), template_source(settings)
    render_edition(edition, site=site, templates=templates)  # warm-up: template compile
    elapsed, rendered = timed(
        lambda: render_edition(edition, site=site, templates=templates), repeat=7
    )
    size = len(rendered.html.encode())
    return [(f"one edition render + inlining (20 items, {size // 1024} KB)", elapsed, "≤ 0.1 s")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--store", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="syndicate-bench-") as name:
        tmp = Path(name)
        rows = bench_gather(tmp, args.files, args.categories)
        rows += bench_feeds(tmp, [args.store // 10, args.store], args.categories)
        rows += bench_render(tmp, args.categories)
    print("| measurement | seconds | target |")
    print("| --- | ---: | --- |")
    for label, seconds, target in rows:
        print(f"| {label} | {seconds:.3f} | {target} |")
    small, large = rows[2][1], rows[3][1]
    print(f"\nfeeds: {args.store:,}-article store / {args.store // 10:,}: {large / small:.2f}×")


if __name__ == "__main__":
    main()
