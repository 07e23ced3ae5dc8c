"""The command line: click commands that call pipeline jobs.

Heavy libraries (SQLAlchemy, feedgen, premailer, rich) are imported inside the commands so
that ``syndicate --help`` stays fast.
"""

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
