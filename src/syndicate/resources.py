"""Package data as folders: the templates, static files and migrations shipped in the wheel.

Found with ``importlib.resources``, so nothing depends on the repository's layout: the same
call finds ``templates/email`` in a checkout (the editable install maps it) and in a wheel.
"""

from __future__ import annotations

import importlib.util
from importlib.resources import files
from pathlib import Path

from syndicate.errors import SyndicateError


class MissingPackageData(SyndicateError, RuntimeError):
    """A data folder the package should ship is not there (a broken install)."""


def package_dir(package: str, *parts: str) -> Path:
    """The folder ``parts`` inside ``package`` as a real path (installs are unzipped).

    Found without importing ``package`` itself (only its parents): the feeds job reads the
    web front's stylesheet without loading the web front."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    base = Path(locations[0]) if locations else Path(str(files(package)))
    found = base.joinpath(*parts)
    if not found.is_dir():
        where = "/".join((package.replace(".", "/"), *parts))
        raise MissingPackageData(f"{where}: not installed; reinstall syndicate")
    return found


def email_templates() -> Path:
    """The default digest templates (``templates/email`` of the source tree)."""
    return package_dir("syndicate.templates", "email")


def page_templates() -> Path:
    """The default article and front page templates (``templates/pages``)."""
    return package_dir("syndicate.templates", "pages")
