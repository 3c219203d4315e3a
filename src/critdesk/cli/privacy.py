"""``critdesk privacy``: export or erase one contact's personal data on request."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from critdesk.adapters.storage import LocalStorage, attachments_root
from critdesk.cli.context import now, settings, unit_of_work
from critdesk.privacy import retention, service


@click.group()
def privacy() -> None:
    """Personal data of one contact: export, erase."""


@privacy.command("export")
@click.option("--email", required=True, help="The contact's e-mail address.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (mode 0600) instead of standard output.",
)
def export(email: str, out: Path | None) -> None:
    """Everything the desk holds about one person, as JSON (the export is audited)."""
    with unit_of_work() as db:
        exported = service.export_contact(db=db, email=email, now=now())
    text = json.dumps(exported, indent=2, ensure_ascii=False, default=str) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    # Personal data: readable by the operator's account only, even if the file existed.
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(text)
    click.echo(f"wrote {out}", err=True)


@privacy.command("erase")
@click.option("--email", required=True, help="The contact's e-mail address.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase(email: str, yes: bool) -> None:
    """Anonymise the person, scrub them from their organisation's cases, revoke their
    access and delete the files they uploaded. The cases stay. Cannot be undone."""
    with unit_of_work() as db:
        plan = service.describe_contact(db=db, email=email)
    click.echo(
        f"user {plan['user_id']} ({plan['role']}, {plan['organisation'] or 'the vendor'}): "
        f"{plan['cases_reported']} cases reported, {plan['timeline_entries']} timeline entries, "
        f"{plan['answers']} answers, {plan['files']} files, {plan['phone_calls']} phone calls, "
        f"{plan['notifications']} notifications"
    )
    if not yes:
        click.confirm("Erase this person's personal data? This cannot be undone", abort=True)
    config = settings()
    with unit_of_work() as db:
        summary = service.erase_contact(
            db=db, email=email, now=now(), region=config.phone_default_region
        )
    # The removals are committed: now their bytes can go (the retention job would also do it).
    files, purged = LocalStorage(attachments_root(config)), 0
    while True:
        with unit_of_work() as db:
            batch = retention.purge_removed(db=db, storage=files, now=now())
        purged += batch
        if batch < retention.PURGE_BATCH:
            break
    click.echo(
        "erased: "
        + ", ".join(f"{key} {value}" for key, value in summary.items())
        + f"; {purged} stored files deleted"
    )
