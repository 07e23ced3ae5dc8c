"""The operator's docs stay true: the command reference is generated, the templates guide
names every variable the templates get, and the README links every guide."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from syndicate.cli.reference import cli_reference
from syndicate.digest.render import Headline, HeadlineGroup, SiteView, _context, reader_context
from syndicate.models import Edition
from syndicate.placeholders import PLACEHOLDER

REPO = Path(__file__).resolve().parents[1]


def test_docs_cli_md_is_the_generated_reference() -> None:
    committed = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == cli_reference(), "run: python -m syndicate.cli.reference > docs/cli.md"


def test_the_templates_guide_names_every_variable_and_placeholder() -> None:
    guide = (REPO / "docs" / "templates.md").read_text(encoding="utf-8")
    edition = Edition(
        key="weekly:2026-W47",
        cadence="weekly",
        period="2026-W47",
        created_at=datetime(2026, 11, 23, tzinfo=UTC),
        articles=(),
    )
    site = SiteView(title="T", url="https://t.example.net/", timezone=ZoneInfo("UTC"))
    context = _context(edition, site, [], [], "subject") | reader_context(edition, site, [])
    for key, value in context.items():
        names = [f"{key}.{k}" for k in value] if isinstance(value, dict) else [key]
        for name in names:
            assert f"`{name}`" in guide, name
    for field in dataclasses.fields(Headline):
        assert f"`h.{field.name}`" in guide, field.name
    for field in dataclasses.fields(HeadlineGroup):
        assert f"`g.{field.name}`" in guide, field.name
    templates = REPO / "templates" / "email"
    used = {
        m for f in templates.iterdir() if f.is_file() for m in PLACEHOLDER.findall(f.read_text())
    }
    assert used and all(f"`%%{name}%%`" in guide for name in used)


def test_the_readme_links_every_guide_and_the_changelog() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\((docs/[\w.-]+\.md|CHANGELOG\.md|LICENSE)\)", readme))
    guides = {f"docs/{p.name}" for p in (REPO / "docs").glob("*.md")}
    wanted = guides | {"CHANGELOG.md"}
    assert wanted <= linked, sorted(wanted - linked)
