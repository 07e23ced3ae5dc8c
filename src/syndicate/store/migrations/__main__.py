"""``python -m syndicate.store.migrations MESSAGE``: write the next revision (see __init__)."""

from __future__ import annotations

import sys

from syndicate.store.migrate import new_revision


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].strip():
        print('usage: python -m syndicate.store.migrations "what the revision does"')
        return 2
    print(new_revision(argv[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
