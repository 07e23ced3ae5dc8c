"""`syndicate init`: lay out a new site folder."""

from __future__ import annotations

import shutil
from pathlib import Path

NEW_SITE_CONFIG = """\
# syndicate settings. Relative paths resolve against the site folder (this file's parent's
# parent). Any scalar key can be overridden from the environment as SYNDICATE_<SECTION>__<KEY>.
# Secrets come only from the environment. Reference: `syndicate config docs`.

[site]
title = "{title}"
url = "https://example.com/"                 # the public base URL; links are this plus the slug
description = "Latest articles"
language = "en"
timezone = "UTC"                             # dates without a time are midnight here
author = ""
postal_address = ""                          # printed in every digest's footer; fill it in

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
schedule = "mon 08:00"
timezone = "UTC"
max_items = 20
subject = "{{site}} — week {{week}}"

[email]
from_address = "newsletter@example.com"
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


class SiteExists(Exception):
    pass


def create_site(directory: Path, templates: Path | None = None) -> list[Path]:
    """Write config/syndicate.toml, templates/email/ and articles/ into ``directory``.

    Refuses to overwrite an existing config, so running it twice loses nothing.
    """
    from syndicate.digest.render import DEFAULT_TEMPLATE_DIR

    config = directory / "config" / "syndicate.toml"
    if config.exists():
        raise SiteExists(f"{config}: already exists; not overwriting a site")
    created: list[Path] = []
    config.parent.mkdir(parents=True, exist_ok=True)
    title = directory.resolve().name.replace('"', "").replace("\\", "") or "My site"
    config.write_text(NEW_SITE_CONFIG.format(title=title), encoding="utf-8")
    created.append(config)
    target = directory / "templates" / "email"
    shutil.copytree(templates or DEFAULT_TEMPLATE_DIR, target, dirs_exist_ok=True)
    created.append(target)
    articles = directory / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    created.append(articles)
    return created
