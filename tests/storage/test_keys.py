"""Storage keys from the environment or the key file; key material never shows."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from critdesk.config import Settings
from critdesk.privacy import keys
from critdesk.privacy.encryption import UnknownKey

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.urlsafe_b64encode(bytes(range(200, 232))).decode()


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", **overrides)  # type: ignore[arg-type]


def test_the_first_entry_is_current_and_others_still_open_files() -> None:
    ring = keys.parse_keys(f"new:{KEY_B}, old:{KEY_A}")
    assert ring.current_id == "new" and ring.ids == ["new", "old"]
    assert ring.get("old") == bytes(range(32))
    assert ring.current == bytes(range(200, 232))
    with pytest.raises(UnknownKey):
        ring.get("gone")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "holds no key"),
        ("k1", "expected id:base64key"),
        ("bad id:" + KEY_A, "expected id:base64key"),
        ("k1:not base64!!", "not base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "must be 32 bytes"),
        (f"k1:{KEY_A},k1:{KEY_B}", "twice"),
    ],
)
def test_bad_key_settings_are_refused_without_showing_the_key(text: str, complaint: str) -> None:
    with pytest.raises(keys.KeyConfigError, match=complaint) as refused:
        keys.parse_keys(text)
    assert KEY_A not in str(refused.value) and KEY_B not in str(refused.value)


def test_key_material_is_not_in_the_repr() -> None:
    ring = keys.parse_keys(f"k1:{KEY_A}")
    assert "k1" in repr(ring) and KEY_A not in repr(ring) and "\\x00" not in repr(ring)


def test_the_environment_wins_over_the_key_file(tmp_path: Path) -> None:
    config = settings_for(tmp_path, storage_keys=SecretStr(f"prod1:{KEY_A}"))
    assert keys.keyring_from_settings(config).ids == ["prod1"]
    assert not keys.key_file(config).exists()


def test_without_keys_a_private_key_file_is_made_once_and_reused(tmp_path: Path) -> None:
    config = settings_for(tmp_path)
    first = keys.keyring_from_settings(config)
    path = keys.key_file(config)
    assert path == tmp_path / "data" / "keys" / "storage.keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    second = keys.keyring_from_settings(config)
    assert first.entries == second.entries and len(first.entries) == 1


def test_a_new_key_goes_first_and_an_unused_old_one_can_be_removed(tmp_path: Path) -> None:
    config = settings_for(tmp_path, storage_key_file=tmp_path / "elsewhere" / "k.keys")
    old = keys.keyring_from_settings(config).current_id
    new = keys.add_key_to_file(config)
    ring = keys.keyring_from_settings(config)
    assert ring.ids == [new, old]
    with pytest.raises(keys.KeyConfigError, match="current"):
        keys.remove_key_from_file(config, new)
    keys.remove_key_from_file(config, old)
    assert keys.keyring_from_settings(config).ids == [new]
    assert stat.S_IMODE(keys.key_file(config).stat().st_mode) == 0o600


def test_new_entries_are_valid_and_distinct() -> None:
    entries = {keys.new_entry() for _ in range(20)}
    assert len(entries) == 20
    for entry in entries:
        key_id, key = keys.parse_entry(entry)
        assert len(key) == 32 and key_id.startswith("k")
