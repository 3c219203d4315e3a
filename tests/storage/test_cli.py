"""``critdesk storage``: new key, rotation, verification and removal of the old key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from critdesk.adapters.storage import LocalStorage, new_key, storage_from_settings
from critdesk.audit.models import AuditEvent
from critdesk.cli.main import cli
from critdesk.privacy import keys

SECRET = b"token=ghp_16C7e42F292c6912E7710c838347Ae178B4a\n"


@pytest.fixture
def run(settings: Any, database_url: str) -> Any:
    env = {
        "CRITDESK_DATA_DIR": str(settings.data_dir),
        "CRITDESK_DATABASE_URL": database_url,
        "CRITDESK_STORAGE_KEYS": None,
    }

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["storage", *args], env=env, catch_exceptions=False)

    return invoke


def put(storage: Any, data: bytes) -> str:
    key = new_key()
    writer = storage.open_write(key)
    writer.write(data)
    writer.commit()
    return key


def read(settings: Any, key: str) -> bytes:
    with storage_from_settings(settings).open_read(key) as stream:
        return bytes(stream.read())


def test_a_new_key_then_rotation_then_the_old_key_is_removed(
    run: Any, settings: Any, database: Any
) -> None:
    sealed = put(storage_from_settings(settings), SECRET * 3)
    legacy = put(LocalStorage(settings.data_dir / "attachments"), SECRET)
    old = keys.keyring_from_settings(settings).current_id

    quick = run("verify", "--quick")
    assert quick.exit_code == 0, quick.output
    assert f"{old} (current): 1 files" in quick.output and "(plaintext): 1 files" in quick.output

    added = run("new-key")
    assert added.exit_code == 0, added.output
    new = keys.keyring_from_settings(settings).current_id
    assert new != old and f"added the key {new}" in added.output

    refused = run("remove-key", old)
    assert refused.exit_code == 1 and "1 files are still sealed under" in refused.output
    assert run("remove-key", new).exit_code == 1

    rotated = run("rotate-key")
    assert rotated.exit_code == 0, rotated.output
    assert "2 files: 1 re-encrypted under" in rotated.output
    assert "1 encrypted (were plaintext)" in rotated.output
    with database.session(read_only=True) as db:
        audited = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "storage.key_rotated")
        ).all()
    assert [(e.object_id, e.data["resealed"], e.data["sealed_plaintext"]) for e in audited] == [
        (new, 1, 1)
    ]

    removed = run("remove-key", old)
    assert removed.exit_code == 0, removed.output
    assert keys.keyring_from_settings(settings).ids == [new]
    full = run("verify")
    assert full.exit_code == 0 and f"{new} (current): 2 files" in full.output
    assert read(settings, sealed) == SECRET * 3 and read(settings, legacy) == SECRET


def test_verify_fails_on_a_damaged_file(run: Any, settings: Any, database: Any) -> None:
    key = put(storage_from_settings(settings), SECRET * 10_000)
    path: Path = settings.data_dir / "attachments" / key
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    path.write_bytes(bytes(damaged))
    assert run("verify", "--quick").exit_code == 0  # the header is intact
    result = run("verify")
    assert result.exit_code == 1
    assert "failed authentication" in result.output and "1 failed" in result.output


def test_with_keys_in_the_environment_new_key_prints_an_entry(
    settings: Any, database_url: str
) -> None:
    env = {
        "CRITDESK_DATA_DIR": str(settings.data_dir),
        "CRITDESK_DATABASE_URL": database_url,
        "CRITDESK_STORAGE_KEYS": keys.new_entry(),
    }
    result = CliRunner().invoke(cli, ["storage", "new-key"], env=env)
    assert result.exit_code == 0
    _key_id, key = keys.parse_entry(result.stdout.strip())
    assert len(key) == 32
    assert not keys.key_file(settings).exists()
