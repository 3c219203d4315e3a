"""``critdesk tracker``: push bug reports to Jira or GitHub and pull their state back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager

import click

from critdesk.adapters.tracker import Tracker, TrackerError, configured, tracker_from_settings
from critdesk.bug import export
from critdesk.cli.context import now, settings, unit_of_work

CHOICES = click.Choice(["jira", "github", "console"])


@click.group()
def tracker() -> None:
    """External bug trackers (Jira Cloud, GitHub Issues)."""


@tracker.command("push")
@click.argument("key")
@click.option("--to", "to", type=CHOICES, help="Default: the one configured tracker.")
def push(key: str, to: str | None) -> None:
    """Create or update the issue for bug KEY (e.g. BUG-12) in a tracker."""
    with _tracker(_default(to)) as chosen, unit_of_work() as db:
        bug = export.bug_by_key(db=db, key=key)
        ref = export.export_bug(db=db, bug=bug, tracker=chosen, actor=None, now=now())
        verb = "created" if ref.created else "updated"
        click.echo(f"{bug.key}: {verb} {chosen.name} {ref.ref} {ref.url or ''}".rstrip())


@tracker.command("sync")
@click.argument("keys", nargs=-1)
@click.option("--to", "to", type=CHOICES, help="Default: every configured tracker.")
def sync(keys: tuple[str, ...], to: str | None) -> None:
    """Pull the state of every exported bug (or of KEYS) and apply what moved."""
    names = [to] if to else configured(settings()) or ["console"]
    failed = 0
    for name in names:
        with _tracker(name) as chosen:
            for result in export.sync_all_in_units(
                units=unit_of_work, tracker=chosen, now=now(), keys=keys
            ):
                failed += result.outcome == "failed"
                click.echo(
                    f"{result.key} {result.tracker} {result.ref}: {result.outcome}"
                    f" — {result.message}"
                )
    if failed:
        raise click.ClickException(f"{failed} bug(s) could not be synced")


def _default(to: str | None) -> str:
    if to:
        return to
    found = configured(settings())
    if len(found) > 1:
        raise click.UsageError(f"several trackers are configured ({', '.join(found)}): use --to")
    return found[0] if found else "console"


@contextmanager
def _tracker(name: str) -> Iterator[Tracker]:
    try:
        chosen = tracker_from_settings(settings(), name)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    try:
        with closing(chosen):
            yield chosen
    except TrackerError as error:
        raise click.ClickException(str(error)) from None
