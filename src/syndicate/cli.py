"""The command line: click commands that call pipeline jobs.

Heavy libraries (SQLAlchemy, feedgen, premailer, rich) are imported inside the commands so
that ``syndicate --help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from syndicate.config import Settings
    from syndicate.pipeline import Progress
    from syndicate.store import Store


class Context:
    def __init__(self, config: str | None, now: str | None) -> None:
        self.config_path = config
        self._now = now
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from syndicate.config import ConfigError, load_settings

            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return self._settings

    def now(self) -> datetime:
        if self._now is None:
            return datetime.now(UTC)
        try:
            moment = datetime.fromisoformat(self._now)
        except ValueError:
            raise click.BadParameter(
                f"not an ISO date-time: {self._now!r}", param_hint="--now"
            ) from None
        if moment.tzinfo is None:
            raise click.BadParameter("needs a UTC offset, e.g. +00:00", param_hint="--now")
        return moment

    @contextmanager
    def store(self) -> Iterator[Store]:
        from syndicate.store import Store, StoreError

        try:
            store = Store(self.settings.database_url)
        except StoreError as exc:
            raise click.ClickException(f"storage.url: {exc}") from None
        try:
            yield store
        finally:
            store.close()


pass_ctx = click.make_pass_decorator(Context)


def _err(message: str) -> None:
    click.echo(message, err=True)


@click.group(help="Gather articles, publish RSS/Atom/JSON feeds and mail a weekly digest.")
@click.option(
    "--config",
    "config",
    envvar="SYNDICATE_CONFIG",
    type=click.Path(dir_okay=False),
    help="Settings file [default: $SYNDICATE_CONFIG or ./config/syndicate.toml].",
)
@click.option("--now", hidden=True, envvar="SYNDICATE_NOW", help="Pretend it is this time.")
@click.version_option(package_name="syndicate")
@click.pass_context
def main(ctx: click.Context, config: str | None, now: str | None) -> None:
    ctx.obj = Context(config, now)


# --- init ------------------------------------------------------------------------------


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Create a new site in DIRECTORY: config, templates and an empty articles folder."""
    from syndicate.sitekit import SiteExists, create_site

    try:
        created = create_site(directory)
    except SiteExists as exc:
        raise click.ClickException(str(exc)) from None
    for path in created:
        click.echo(f"created {path}")
    click.echo(
        f"next: put articles in {directory / 'articles'} and run "
        f"`syndicate --config {directory / 'config' / 'syndicate.toml'} run --once`"
    )


# --- pipeline jobs ---------------------------------------------------------------------


@contextmanager
def _progress(label: str) -> Iterator[Progress | None]:
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress as RichProgress

    with RichProgress(transient=True) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _gather(obj: Context) -> bool:
    from syndicate.pipeline import gather as gather_job

    with obj.store() as store, _progress("gathering") as progress:
        report = gather_job(obj.settings, store, now=obj.now(), on_error=_err, progress=progress)
    click.echo(f"gather: {report.summary()}")
    return report.failed == 0 and not report.errors


@main.command()
@pass_ctx
def gather(obj: Context) -> None:
    """Read every source into the store; exit 1 when a file failed (the rest are kept)."""
    if not _gather(obj):
        sys.exit(1)


def _feeds(obj: Context) -> None:
    from syndicate.pipeline import build_all_feeds

    with obj.store() as store:
        report = build_all_feeds(obj.settings, store)
    click.echo(
        f"feeds: {len(report.written)} written, {len(report.unchanged)} unchanged "
        f"in {report.output_dir}"
    )
    click.echo(f"  open {report.output_dir / 'index.html'}")


@main.command()
@pass_ctx
def feeds(obj: Context) -> None:
    """Build the RSS, Atom and JSON feeds (site and per category) and index.html."""
    _feeds(obj)


@main.group()
def digest() -> None:
    """The weekly digest."""


def _preview(obj: Context, week: str | None) -> None:
    from syndicate.pipeline import EditionError, current_week, preview_edition

    now = obj.now()
    week = week or current_week(obj.settings, now)
    with obj.store() as store:
        try:
            report = preview_edition(obj.settings, store, week, now=now)
        except EditionError as exc:
            raise click.ClickException(str(exc)) from None
    if report is None:
        click.echo(f"digest {week}: no new articles, nothing to preview")
        return
    click.echo(f"digest {week}: {len(report.edition.articles)} articles (preview, nothing sent)")
    for path in (report.html, report.text, report.eml):
        click.echo(f"  {path}")


@digest.command()
@click.option("--week", help="ISO week, e.g. 2026-W47 [default: this week].")
@pass_ctx
def preview(obj: Context, week: str | None) -> None:
    """Write digest.html, digest.txt and digest.eml into the outbox folder."""
    _preview(obj, week)


@main.command()
@click.option("--once", is_flag=True, help="Gather, build feeds and preview the digest, then exit.")
@pass_ctx
def run(obj: Context, once: bool) -> None:
    """Run the pipeline: with --once, gather → feeds → digest preview."""
    if not once:
        raise click.UsageError("the long-running service is not built yet; use --once")
    ok = _gather(obj)
    _feeds(obj)
    _preview(obj, None)
    if not ok:
        sys.exit(1)


# --- config and status -----------------------------------------------------------------


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


@main.command()
@pass_ctx
def status(obj: Context) -> None:
    """Articles by category, the last gather and the editions."""
    with obj.store() as store:
        categories = store.categories()
        last = store.last_gather()
        editions = store.editions()
        total = store.article_count()
    click.echo(f"articles: {total}")
    for name, count in categories:
        click.echo(f"  {count:6d}  {name}")
    click.echo(f"last gather: {last.isoformat() if last else 'never'}")
    click.echo(f"editions: {len(editions)}")
    for week, created, count in editions[:10]:
        click.echo(f"  {week}  {count} articles  prepared {created.isoformat()}")
