"""Site commands: init, gather, feeds, config."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from syndicate.cli.app import Context, err, main, pass_ctx, progress_bar

if TYPE_CHECKING:
    from syndicate.pipeline.gather_report import GatherReport
    from syndicate.sources.folder_scan import Scan
    from syndicate.store.sqlite_gather import GatherStore

# --- init ------------------------------------------------------------------------------


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", help="The site's name [default: the folder's name].")
@click.option("--url", help="The site's public URL, e.g. https://news.example.net/.")
@click.option("--from-address", help="The digest's From address.")
@click.option("--postal-address", help="The postal address for the digest's footer.")
@click.option("--timezone", help="The site's time zone, e.g. Europe/Vienna [default: UTC].")
def init(
    directory: Path,
    title: str | None,
    url: str | None,
    from_address: str | None,
    postal_address: str | None,
    timezone: str | None,
) -> None:
    """Create a new site in DIRECTORY: config, templates and an empty articles folder.

    On a terminal it asks for each value not given as a flag; otherwise the defaults are used
    (example.com addresses, which `digest send` refuses until they are changed).
    """
    from syndicate.sitekit import SiteAnswers, SiteError, create_site, default_title

    defaults = SiteAnswers(title=default_title(directory))
    asking = on_terminal()

    def answer(given: str | None, prompt: str, default: str, field: str | None = None) -> str:
        if given is not None or not asking:
            return default if given is None else given

        def check(value: str) -> str:  # a bad answer is asked again, with the reason
            problem = answer_problem(field, value) if field else ""
            if problem:
                raise click.BadParameter(problem)
            return value

        return str(click.prompt(prompt, default=default, value_proc=check))

    answers = SiteAnswers(
        title=answer(title, "Site title", defaults.title),
        url=answer(url, "Public URL", defaults.url, "url"),
        from_address=answer(from_address, "From address", defaults.from_address, "from"),
        postal_address=answer(postal_address, "Postal address", defaults.postal_address),
        timezone=answer(timezone, "Time zone", defaults.timezone, "timezone"),
    )
    try:
        created = create_site(directory, answers)
    except SiteError as exc:
        raise click.ClickException(str(exc)) from None
    for path in created:
        click.echo(f"created {path}")
    config = directory / "config" / "syndicate.toml"
    click.echo(
        f"next: put articles in {directory / 'articles'} and run `cd {directory}` and "
        "`syndicate run --once` there (or `syndicate --config "
        f"{config} run --once` from anywhere)"
    )


def answer_problem(field: str, value: str) -> str:
    """What is wrong with one answer to `init`'s questions, or ""."""
    from syndicate.audience import normalize_address
    from syndicate.config.values import check_timezone
    from syndicate.errors import InputError

    try:
        if field == "url" and not value.strip().startswith(("http://", "https://")):
            return "must be an absolute http(s) URL"
        if field == "from":
            normalize_address(value)
        if field == "timezone":
            check_timezone(value.strip())
    except InputError as exc:
        return str(exc)
    return ""


def on_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


# --- pipeline jobs ---------------------------------------------------------------------


def gather_step(obj: Context) -> bool:
    """A site whose sources are all folders, on a SQLite store at the head revision, is
    gathered through sqlite3 (no SQLAlchemy): first told unchanged without a parser
    (pipeline.gather_check), else gathered in full; any other through a Store."""
    from syndicate.pipeline.gather_check import folder_scans

    scans = folder_scans(obj.settings)
    with store_errors():
        report = None if scans is None else quick_gather(obj, scans)
    if report is None:
        with obj.store() as store:
            report = full_gather(obj, store, scans)
    click.echo(f"gather: {report.summary()}")
    return report.failed == 0 and not report.errors


@contextmanager
def store_errors() -> Iterator[None]:
    """A store read or written through sqlite3 that fails (locked past the busy timeout,
    unreadable) is one line, as when a Store is opened."""
    from syndicate.errors import StoreError

    try:
        yield
    except StoreError as exc:
        raise click.ClickException(f"storage.url: {exc}") from None


def quick_gather(obj: Context, scans: Mapping[str, Scan]) -> GatherReport | None:
    """The gather of these folders through sqlite3; None when the store is not a SQLite
    file at the head revision (a Store then creates, migrates or refuses it)."""
    from syndicate.pipeline.gather_check import unchanged_gather
    from syndicate.store.gather_writes import UnitOfWork
    from syndicate.store.sqlite_direct import writing
    from syndicate.store.sqlite_gather import SqliteGather

    url = obj.settings.database_url
    with writing(url) as sql:
        if sql is None:
            return None
        report = unchanged_gather(scans, UnitOfWork(sql), obj.now())
    return report if report is not None else full_gather(obj, SqliteGather(url), scans)


def full_gather(obj: Context, store: GatherStore, scans: Mapping[str, Scan] | None) -> GatherReport:
    from syndicate.pipeline import gather as gather_job

    with progress_bar("gathering") as progress:
        return gather_job(
            obj.settings, store, now=obj.now(), on_error=err, progress=progress, listings=scans
        )


@main.command()
@pass_ctx
def gather(obj: Context) -> None:
    """Read every source into the store; exit 1 when a file failed (the rest are kept)."""
    if not gather_step(obj):
        sys.exit(1)


def feeds_step(obj: Context) -> None:
    """On a SQLite store at the head revision, everything the build reads goes through
    sqlite3 (no SQLAlchemy), whether it finds nothing changed or builds."""
    from syndicate.pipeline import announce_changes, build_all_feeds
    from syndicate.pipeline.publish import unchanged_build
    from syndicate.store.build_reads import read_only

    settings, now = obj.settings, obj.now()
    with store_errors(), read_only(settings.database_url) as reads:
        if reads is not None:
            report = unchanged_build(settings, reads, now) or build_all_feeds(settings, reads, now)
    if reads is None:
        with obj.store() as store:
            report = build_all_feeds(settings, store, now)
    click.echo(
        f"feeds: {len(report.written)} written, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed in {report.output_dir}"
    )
    click.echo(f"  open {report.output_dir / 'index.html'}")
    hub = announce_changes(settings, report)
    if hub is not None:
        click.echo(f"hub: {hub.summary()}")
        for line in hub.errors:
            err(line)


@main.command()
@pass_ctx
def feeds(obj: Context) -> None:
    """Build the RSS, Atom and JSON feeds (site and per category) and index.html."""
    feeds_step(obj)


@main.command()
@pass_ctx
def publish(obj: Context) -> None:
    """Gather every source, then build the feeds, in one process: what cron runs after an
    edit. Exit 1 when a file failed (the feeds are built from the rest)."""
    ok = gather_step(obj)
    feeds_step(obj)
    if not ok:
        sys.exit(1)


# --- config --------------------------------------------------------------------------


@main.group("config")
def config_group() -> None:
    """Inspect settings."""


@config_group.command("show")
@pass_ctx
def config_show(obj: Context) -> None:
    """Print the effective settings (file + environment); secrets are redacted."""
    from syndicate.config import effective_settings

    settings = obj.settings
    click.echo(f"# from {settings.source_file}; site folder {settings.root}")
    click.echo(_toml(effective_settings(settings)))


@config_group.command("docs")
def config_docs() -> None:
    """Print the reference of every setting (docs/settings.md)."""
    from syndicate.config import settings_reference

    click.echo(settings_reference(), nl=False)


def _toml(data: dict[str, Any]) -> str:
    import json

    lines: list[str] = []
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in data.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
    for key, value in data.items():
        if key not in tables and key not in arrays:
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    for name, table in tables.items():
        lines += ["", f"[{name}]"]
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in table.items()]
    for name, items in arrays.items():
        for item in items:
            lines += ["", f"[[{name}]]"]
            lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in item.items()]
    return "\n".join(lines).strip()
