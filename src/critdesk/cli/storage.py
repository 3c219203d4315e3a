"""``critdesk storage``: the keys of the encrypted attachments, rotation and verification."""

from __future__ import annotations

import click

from critdesk.adapters.storage import EncryptedStorage, storage_from_settings
from critdesk.audit import service as audit
from critdesk.cli.context import now, settings, unit_of_work
from critdesk.privacy import keys, rotation


@click.group()
def storage() -> None:
    """Encrypted attachments: keys, rotation, verification."""


def _storage() -> EncryptedStorage:
    try:
        return storage_from_settings(settings())
    except keys.KeyConfigError as error:
        raise click.ClickException(str(error)) from None


@storage.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every stored file not under the current key (the first one configured).

    Each file is replaced atomically; an interrupted run can simply be run again. Restart
    every server and worker with the new keys first, so that new uploads use the new key too.
    """
    store = _storage()
    report = rotation.rotate(store)
    counts = report.as_dict()
    with unit_of_work() as db:
        audit.record(
            db=db,
            at=now(),
            actor_id=None,
            action="storage.key_rotated",
            object_type="storage",
            object_id=report.current_key,
            data=counts,
        )
    click.echo(
        f"{report.scanned} files: {report.resealed} re-encrypted under {report.current_key}, "
        f"{report.sealed} encrypted (were plaintext), {report.already_current} already current, "
        f"{report.vanished} deleted meanwhile, {report.busy} busy, {len(report.failed)} failed"
    )
    for key, reason in report.failed:
        click.echo(f"failed: {key}: {reason}", err=True)
    if report.failed or report.busy:
        raise click.ClickException("some files were not rotated; run the command again")


@storage.command("verify")
@click.option("--quick", is_flag=True, help="Read only each file's header (which key).")
def verify(quick: bool) -> None:
    """Check every stored file: its key is configured and every chunk authenticates."""
    store = _storage()
    report = rotation.verify(store, headers_only=quick)
    current = store.keyring.current_id
    for key_id, count in sorted(report.by_key.items()):
        note = " (current)" if key_id == current else ""
        click.echo(f"{key_id}{note}: {count} files")
    for key, reason in report.failed:
        click.echo(f"failed: {key}: {reason}", err=True)
    click.echo(f"{report.checked} files checked, {len(report.failed)} failed")
    if report.failed:
        raise click.ClickException("some stored files cannot be read")


@storage.command("new-key")
def new_key() -> None:
    """Make a new current key. With the key file, it is added at its top; with
    CRITDESK_STORAGE_KEYS, a new entry is printed to put first in the variable."""
    config = settings()
    if config.storage_keys is not None:
        click.echo(keys.new_entry())
        click.echo(
            "Put this entry first in CRITDESK_STORAGE_KEYS (keep the old ones after it), restart "
            "the servers and workers, then run `critdesk storage rotate-key`.",
            err=True,
        )
        return
    key_id = keys.add_key_to_file(config)
    click.echo(
        f"added the key {key_id} to {keys.key_file(config)}; restart the servers and workers, "
        "then run `critdesk storage rotate-key`"
    )


@storage.command("remove-key")
@click.argument("key_id")
def remove_key(key_id: str) -> None:
    """Remove an old key once no stored file is sealed under it."""
    store = _storage()
    if key_id not in store.keyring.ids:
        raise click.ClickException(f"{key_id} is not a configured key")
    if key_id == store.keyring.current_id:
        raise click.ClickException(f"{key_id} is the current key; make a new key first")
    remaining = rotation.files_sealed_under(store, key_id)
    if remaining:
        raise click.ClickException(
            f"{remaining} files are still sealed under {key_id}; run rotate-key first"
        )
    config = settings()
    if config.storage_keys is not None:
        click.echo(f"no file uses {key_id}: remove its entry from CRITDESK_STORAGE_KEYS")
        return
    try:
        keys.remove_key_from_file(config, key_id)
    except keys.KeyConfigError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"removed {key_id} from {keys.key_file(config)}")
