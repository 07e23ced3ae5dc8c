"""The templates shipped with syndicate: ``email/`` (the digest). In the wheel this folder is
the package ``syndicate.templates`` (see ``package-dir`` in pyproject.toml); a site's own
``templates/`` folder overrides any of them."""
