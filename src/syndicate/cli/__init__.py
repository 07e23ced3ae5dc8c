"""The command line: click commands that call pipeline jobs.

Heavy libraries (SQLAlchemy, feedgen, premailer, rich) are imported inside the commands so
that ``syndicate --help`` stays fast.
"""

import os

# pydantic looks for plugins as the settings models are built: a scan of every installed
# package's entry points (~20 ms of each command). syndicate uses none; an operator's own
# PYDANTIC_DISABLE_PLUGINS wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from syndicate.cli import (  # noqa: F401  (they register commands)
    announce,
    bounces,
    database,
    digest,
    keys,
    service,
    site,
    status,
    subscribers,
)
from syndicate.cli.app import main

__all__ = ["main"]
