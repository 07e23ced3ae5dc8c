"""docs/cli.md: every command's --help, generated from click (a test keeps the file in step).

Regenerate with ``python -m syndicate.cli.reference > docs/cli.md``.
"""

from __future__ import annotations

from collections.abc import Iterator

import click

from syndicate.cli import main

WIDTH = 100


def _walk(command: click.Command, path: list[str]) -> Iterator[tuple[list[str], click.Command]]:
    if command.hidden:
        return
    yield path, command
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from _walk(command.commands[name], [*path, name])


def cli_reference() -> str:
    lines = [
        "# Command reference",
        "",
        "Generated from the commands themselves (`python -m syndicate.cli.reference`); a test",
        "fails when this file is stale. `python -m syndicate` takes the same commands.",
        "",
    ]
    for path, command in _walk(main, ["syndicate"]):
        ctx = click.Context(
            command, info_name=" ".join(path), max_content_width=WIDTH, terminal_width=WIDTH
        )
        lines += [f"## `{' '.join(path)}`", "", "```", command.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(cli_reference(), end="")
