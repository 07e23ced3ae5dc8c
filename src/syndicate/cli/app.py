"""The click group, its context (settings, store, clock) and shared helpers."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from syndicate.config import Settings
    from syndicate.pipeline import Progress
    from syndicate.store import Store
    from syndicate.store.status_reads import StatusReads


class Context:
    def __init__(self, config: str | None, now: str | None) -> None:
        self.config_path = config
        self._now = now
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from syndicate.config import ConfigError, find_config, load_settings

            if find_config(self.config_path) is None:
                raise click.ClickException(no_config_message())
            from syndicate.delivery.registry import check_sender_name

            try:
                self._settings = load_settings(self.config_path)
                check_sender_name(self._settings.delivery.backend)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
            for notice in self._settings.digest.notices:
                err(f"notice: {notice}")
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

    @contextmanager
    def status_reads(self) -> Iterator[StatusReads]:
        """`syndicate status`'s reads: over a read-only sqlite3 connection when the store is a
        SQLite file at the head revision (no SQLAlchemy to import), else over a Store's."""
        from syndicate.store.status_reads import read_only

        with read_only(self.settings.database_url) as fast:
            if fast is not None:
                yield fast
                return
        with self.store() as store, store.status_reads() as reads:
            yield reads


pass_ctx = click.make_pass_decorator(Context)


def no_config_message() -> str:
    from syndicate.config import CONFIG_ENV, DEFAULT_CONFIG

    here = Path.cwd() / DEFAULT_CONFIG
    return (
        f"no settings file: looked for --config, ${CONFIG_ENV} and {here}; "
        "make a site with `syndicate init DIR`, or pass --config PATH"
    )


def err(message: str) -> None:
    click.echo(message, err=True)


def echo_json(data: object) -> None:
    """``--json`` output: one document, keys in the order given."""
    import json

    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


class Group(click.Group):
    """Every OSError a command meets on the paths it was given is one line naming the path."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            from syndicate.fileio import describe_os_error

            raise click.ClickException(describe_os_error(exc)) from None


@click.group(
    cls=Group, help="Gather articles, publish RSS/Atom/JSON feeds and mail a weekly digest."
)
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


PROGRESS_EVERY = 10.0  # seconds between progress lines when stderr is not a terminal


@contextmanager
def progress_bar(
    label: str, clock: Callable[[], float] = time.monotonic
) -> Iterator[Progress | None]:
    """A rich progress bar (done/total, rate, time left) on a terminal; otherwise a line on
    stderr every PROGRESS_EVERY seconds, for the logs of cron or systemd."""
    if not sys.stderr.isatty():
        yield ProgressLog(label, clock, err)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}/s"),
        TimeRemainingColumn(),
    )
    with RichProgress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=None, rate="-")

        def advance(done: int, total: int) -> None:
            speed = bar.tasks[task].speed
            bar.update(task, completed=done, total=total, rate=f"{speed:,.0f}" if speed else "-")

        yield advance


class ProgressLog:
    """``label: done/total (pct), rate/s, about N s left`` once every ``every`` seconds."""

    def __init__(
        self,
        label: str,
        clock: Callable[[], float],
        write: Callable[[str], None],
        every: float = PROGRESS_EVERY,
    ) -> None:
        self.label, self.clock, self.write, self.every = label, clock, write, every
        self.start = self.last = clock()

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if now - self.last < self.every:
            return
        self.last = now
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        share = f" ({100 * done / total:.0f}%)" if total else ""
        left = f", about {(total - done) / rate:.0f} s left" if rate and done < total else ""
        self.write(f"{self.label}: {done:,}/{total:,}{share}, {rate:,.0f}/s{left}")
