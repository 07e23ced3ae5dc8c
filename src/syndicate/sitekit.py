"""`syndicate init`: lay out a new site folder."""

from __future__ import annotations

import json
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from syndicate.errors import InputError
from syndicate.fileio import describe_os_error

NEW_SITE_CONFIG = """\
# syndicate settings. Relative paths resolve against the site folder (this file's parent's
# parent). Any scalar key can be overridden from the environment as SYNDICATE_<SECTION>__<KEY>.
# Secrets come only from the environment. Reference: `syndicate config docs`.

[site]
title = {title}
url = {url}{url_pad}# the public base URL; links are this plus the slug
description = "Latest articles"
language = "en"
timezone = {timezone}{timezone_pad}# dates without a time are midnight here
author = ""
postal_address = {postal_address}  # printed in every digest's footer (anti-spam laws)

[storage]
url = "sqlite:///var/syndicate.db"

[[sources]]
name = "articles"
kind = "folder"
path = "articles"
category = "General"

[categories]
# Category = ["words", "that", "put an article in it"]

[feeds]
output_dir = "var/public"
items = 50
content = "full"
formats = ["rss", "atom", "json"]
per_category = true

[digest]
cadences = ["weekly"]
default_cadence = "weekly"
weekly = "mon 08:00"
timezone = {timezone}
max_items = 20
subject = "{{top_title}} + {{more}} more · {{site}}"

[email]
from_address = {from_address}
from_name = ""

[delivery]
backend = "outbox"                           # "outbox" (files), "smtp" or "sendgrid"
outbox_dir = "var/outbox"
# The SendGrid key comes from $SENDGRID_API_KEY, the SMTP password from
# $SYNDICATE_SMTP_PASSWORD, the token key from $SYNDICATE_SECRET_KEY: never from this file.

[schedule]                                   # for `syndicate run`
gather_every = "15m"

[web]                                        # the web front of `syndicate run`
base_url = ""                                # its public URL; empty = site.url
host = "127.0.0.1"
port = 8080

[webhooks]
sendgrid_public_key = ""                     # SendGrid's signed Event Webhook key; empty = off
"""


@dataclass(frozen=True)
class SiteAnswers:
    """What `syndicate init` asks (or takes from its flags) for the new site's config."""

    title: str
    url: str = "https://example.com/"
    from_address: str = "newsletter@example.com"
    postal_address: str = ""
    timezone: str = "UTC"


class SiteError(InputError):
    """The site cannot be made; one line naming the path or the answer at fault."""


class SiteExists(SiteError):
    pass


def default_title(directory: Path) -> str:
    return directory.resolve().name or "My site"


def site_config(answers: SiteAnswers) -> str:
    """The new site's config/syndicate.toml, checked as `syndicate` will read it."""
    from syndicate.config import Settings, describe_errors

    values = {
        "title": answers.title.strip() or "My site",
        "url": answers.url.strip(),
        "from_address": answers.from_address.strip(),
        "postal_address": answers.postal_address.strip(),
        "timezone": answers.timezone.strip(),
    }
    quoted = {key: json.dumps(value, ensure_ascii=False) for key, value in values.items()}
    text = NEW_SITE_CONFIG.format(
        **quoted,
        url_pad=" " * max(1, 45 - len("url = ") - len(quoted["url"])),
        timezone_pad=" " * max(1, 45 - len("timezone = ") - len(quoted["timezone"])),
    )
    try:
        Settings.model_validate(tomllib.loads(text))
    except ValidationError as exc:
        lines = describe_errors(exc, "init")
        for key, flag in _FLAGS.items():
            lines = [line.replace(f"init: {key}: ", f"--{flag}: ") for line in lines]
        raise SiteError("\n".join(dict.fromkeys(lines))) from None
    return text


_FLAGS = {
    "site.title": "title",
    "site.url": "url",
    "email.from_address": "from-address",
    "site.postal_address": "postal-address",
    "site.timezone": "timezone",
    "digest.timezone": "timezone",
}


def create_site(directory: Path, answers: SiteAnswers | None = None) -> list[Path]:
    """Write config/syndicate.toml, templates/email/ and articles/ into ``directory``.

    Refuses to overwrite an existing config, so running it twice loses nothing; a failure
    half-way removes what it made, so a second try starts clean.
    """
    from syndicate.resources import email_templates

    config = directory / "config" / "syndicate.toml"
    text = site_config(answers or SiteAnswers(title=default_title(directory)))
    made: list[Path] = []  # folders and files this call created, to undo on failure
    try:
        if config.exists():
            raise SiteExists(f"{config}: already exists; not overwriting a site")
        _make_dirs(config.parent, made)
        with config.open("x", encoding="utf-8") as handle:
            made.append(config)
            handle.write(text)
        target = directory / "templates" / "email"
        _make_dirs(target.parent, made)
        shutil.copytree(email_templates(), target, ignore=shutil.ignore_patterns("__pycache__"))
        made.append(target)
        articles = directory / "articles"
        _make_dirs(articles, made)
    except OSError as exc:
        _undo(made)
        raise SiteError(describe_os_error(exc, directory)) from None
    except SiteError:
        _undo(made)
        raise
    return [config, target, articles]


def _make_dirs(path: Path, made: list[Path]) -> None:
    missing: list[Path] = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        folder.mkdir()
        made.append(folder)
    if not path.is_dir():
        raise NotADirectoryError(20, "Not a directory", str(path))


def _undo(made: list[Path]) -> None:
    for path in reversed(made):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
