"""The command line: click commands that call pipeline jobs.

Heavy libraries (SQLAlchemy, feedgen, premailer, rich) are imported inside the commands so
that ``syndicate --help`` stays fast.
"""

import atexit
import gc
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

# As the process exits, what the command made is frozen, so the collections of the
# interpreter's shutdown skip it: they walked every object of every module imported, 0.14-0.17 s
# at the end of a send that had imported the whole stack, 0.02 s so. The exit functions
# (logging's, multiprocessing's) still run, and objects are still freed as the modules are
# cleared; only the search for cycles among them is skipped.
atexit.register(gc.freeze)
