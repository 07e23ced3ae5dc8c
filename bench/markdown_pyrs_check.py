"""Would markdown-it-pyrs (the Rust port) give our Markdown the same HTML, and how much faster?

    .venv/bin/pip install markdown-it-pyrs && .venv/bin/python bench/markdown_pyrs_check.py

Not a dependency (issue 14, item 5 asked to consider it): this compares our
``content.markdown_to_html`` with the same steps done by markdown-it-pyrs (CommonMark +
tables, ``<h1>`` as ``<h2>``, then the same sanitizer) on the examples, the Markdown bodies
in the tests, a few edge cases and generated bench bodies, and times both.
"""

from __future__ import annotations

import glob
import random
import re
import time
from pathlib import Path

import frontmatter

from bench_pipeline import paragraph
from syndicate import content

REPO = Path(__file__).resolve().parents[1]
EDGE = {
    "raw h1": "<h1>Raw</h1>\n\ntext",
    "entities": "&amp; &copy; &#x27; &nbsp;",
    "nested": "- a\n  - b\n    1. c\n\n> quote\n> > deeper",
    "code": "```python\nx = '<b>'\n```\n\n    indented\n",
    "table align": "|a|b|c|\n|:-|:-:|-:|\n|1|2|3|\n",
    "links": '[x](http://e.org "t") <http://auto.org> ![i](/p.png)',
    "setext": "Title\n=====\n\nSub\n---",
    "hard break": "line  \nnext\\\nthird",
    "html inline": "a <span onclick=x>b</span> <script>alert(1)</script>",
    "emphasis": "***a*** _b_ __c__ *a*b* **",
    "unicode": "Ünïcödé — “quotes” 😀 \u200b",
    "lazy": "> a\nb\n\n1) x\n2) y",
}


def corpus() -> dict[str, str]:
    texts = {}
    for path in sorted(glob.glob(str(REPO / "examples" / "articles" / "*.md"))):
        texts[path] = frontmatter.loads(Path(path).read_text(encoding="utf-8")).content
    for path in sorted(glob.glob(str(REPO / "tests" / "*.py"))):
        source = Path(path).read_text(encoding="utf-8")
        for i, found in enumerate(re.finditer(r'"---\\n(.*?)"', source)):
            body = found.group(1).encode().decode("unicode_escape", errors="ignore")
            texts[f"{path}#{i}"] = body.split("---\n", 1)[-1]
    texts.update(EDGE)
    rng = random.Random(3)
    for i in range(300):
        texts[f"bench {i}"] = "\n\n".join(paragraph(rng) for _ in range(rng.randint(3, 6)))
    return texts


def main() -> None:
    try:
        import markdown_it_pyrs
    except ImportError:
        raise SystemExit("markdown-it-pyrs is not installed (pip install it)") from None
    rust = markdown_it_pyrs.MarkdownIt("commonmark").enable("table")
    h1 = re.compile(r"<(/?)h1>")

    def candidate(text: str) -> str:
        raw = rust.render(content.strip_control(text))
        return content.sanitize_html(h1.sub(r"<\1h2>", raw))

    texts = corpus()
    differ = [
        name for name, text in texts.items() if content.markdown_to_html(text) != candidate(text)
    ]
    print(f"{len(texts)} texts, {len(differ)} differ: {differ}")
    bodies = [text for name, text in texts.items() if name.startswith("bench")] * 30
    for label, convert in (("markdown-it-py", content.markdown_to_html), ("pyrs", candidate)):
        start = time.perf_counter()
        for body in bodies:
            convert(body)
        print(f"{label}: {time.perf_counter() - start:.2f} s for {len(bodies):,} bodies")


if __name__ == "__main__":
    main()
