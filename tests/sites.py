"""Sites for tests that run the real commands: ``syndicate init``'s site with the examples."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from syndicate.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples" / "articles"


def examples_site(root: Path) -> Path:
    """A new site at ``root`` (``syndicate init``) whose articles are examples/articles."""
    result = CliRunner().invoke(main, ["init", str(root)])
    assert result.exit_code == 0, result.output
    shutil.rmtree(root / "articles")
    shutil.copytree(EXAMPLES, root / "articles")
    return root
