"""Package namespaces whose names are imported when first used (PEP 562).

A package ``__init__`` re-exports names of its modules for convenience; importing them all
eagerly would make every command pay for every library (premailer, httpx, feedgen …) even
when it uses none. Such a package imports its names under ``if TYPE_CHECKING:`` (what mypy
and readers see, listed in ``__all__`` as before) and sets ``__getattr__ = LazyNames(__name__,
__file__)``: on the first use of a name, the module that block imports it from is imported.
The block is the one list; tests/test_startup_imports.py checks ``__all__`` against it.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path


class LazyNames:
    def __init__(self, package: str, init_file: str) -> None:
        self.package, self.init_file = package, init_file
        self._where: dict[str, str] | None = None

    @property
    def where(self) -> dict[str, str]:
        """name -> the module the package's ``if TYPE_CHECKING:`` block imports it from."""
        if self._where is None:
            self._where = type_checking_imports(Path(self.init_file).read_text(encoding="utf-8"))
        return self._where

    def __call__(self, name: str) -> object:
        module = self.where.get(name)
        if module is None:
            raise AttributeError(f"module {self.package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[self.package], name, value)  # the next lookup is plain
        return value


def type_checking_imports(source: str) -> dict[str, str]:
    """name -> module of every ``from module import name`` under a top-level
    ``if TYPE_CHECKING:`` of this source."""
    found: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for item in node.body:
                if isinstance(item, ast.ImportFrom) and item.module and not item.level:
                    found.update((a.asname or a.name, item.module) for a in item.names)
    return found
