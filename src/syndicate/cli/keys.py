"""``syndicate keygen``: a fresh random key for SYNDICATE_SECRET_KEY."""

from __future__ import annotations

import click

from syndicate.cli.app import main


@main.command()
def keygen() -> None:
    """Print a fresh random key for SYNDICATE_SECRET_KEY (32 bytes, base64url).

    To rotate: move the old key to SYNDICATE_SECRET_KEY_PREVIOUS (links already mailed keep
    working) and put the new one in SYNDICATE_SECRET_KEY.
    """
    from syndicate.config.values import new_key

    click.echo(new_key())
