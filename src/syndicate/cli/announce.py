"""`syndicate announce FILE.md`: a one-off message to the list (issue 10)."""

from __future__ import annotations

from pathlib import Path

import click

from syndicate.cli.app import Context, main, pass_ctx, progress_bar
from syndicate.cli.digest import record_send, sender_for, settings_checked


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--categories",
    default="",
    help="Only subscribers of these categories (comma-separated; those who take every "
    "category too) [default: every active subscriber].",
)
@click.option("--dry-run", is_flag=True, help="Say how many it would reach; send nothing.")
@pass_ctx
def announce(obj: Context, file: Path, categories: str, dry_run: bool) -> None:
    """Send FILE (Markdown with front matter: subject, preheader) to the list, once.

    It goes through the ledger like the digest (run it again to resume a stopped send:
    nobody gets it twice) and appears in the archive."""
    from syndicate.audience import parse_categories
    from syndicate.pipeline.announce import AnnounceError
    from syndicate.pipeline.announce import announce as send_announcement
    from syndicate.pipeline.send import SendError

    chosen = parse_categories(categories)
    with obj.store() as store:
        try:
            if dry_run:
                planned = send_announcement(obj.settings, store, None, file, chosen, clock=obj.now)
                click.echo(f"{planned.item.key}: would send to {planned.recipients} subscribers")
                click.echo(f"  subject: {planned.item.subject}")
                return
            settings_checked(obj)
            started, sender = obj.now(), sender_for(obj)
            try:
                with progress_bar("announcing") as progress:
                    done = send_announcement(
                        obj.settings, store, sender, file, chosen, clock=obj.now,
                        on_event=lambda line: click.echo(line, err=True), progress=progress,
                    )  # fmt: skip
            finally:
                sender.close()
        except (AnnounceError, SendError) as exc:
            raise click.ClickException(str(exc)) from None
        assert done.send is not None
        record_send(obj, store, "announce", started, done.send)
    click.echo(done.send.summary())
    if done.send.paused:
        raise SystemExit(2)
