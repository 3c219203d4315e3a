"""The storage adapters: nothing is visible before commit, nothing is left after abort."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from critdesk.adapters.storage import LocalStorage, MemoryStorage, Storage, new_key


@pytest.fixture(params=["local", "memory"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "attachments")
    return MemoryStorage()


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_committed_bytes_read_back_in_full(storage: Storage) -> None:
    key = new_key()
    writer = storage.open_write(key)
    writer.write(b"hello ")
    writer.write(memoryview(b"world"))
    writer.commit()
    writer.abort()  # after commit: nothing to undo
    with storage.open_read(key) as stream:
        assert stream.read() == b"hello world"
    assert storage.size(key) == 11


def test_an_aborted_write_leaves_nothing(storage: Storage) -> None:
    key = new_key()
    writer = storage.open_write(key)
    writer.write(b"partial")
    writer.abort()
    writer.abort()
    with pytest.raises((FileNotFoundError, KeyError)):
        storage.open_read(key)


def test_delete_removes_the_bytes_and_tolerates_absence(storage: Storage) -> None:
    key = new_key()
    writer = storage.open_write(key)
    writer.write(b"x")
    writer.commit()
    storage.delete(key)
    storage.delete(key)
    with pytest.raises((FileNotFoundError, KeyError)):
        storage.open_read(key)


def test_a_key_is_written_once(storage: Storage) -> None:
    key = new_key()
    writer = storage.open_write(key)
    writer.write(b"x")
    writer.commit()
    with pytest.raises(FileExistsError):
        storage.open_write(key)


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "ab/../../x", "AB/cd", "a b", ""])
def test_keys_that_could_leave_the_root_are_refused(storage: Storage, key: str) -> None:
    with pytest.raises(ValueError):
        storage.open_write(key)


def test_local_writes_are_invisible_until_committed(tmp_path: Path) -> None:
    root = tmp_path / "attachments"
    storage = LocalStorage(root)
    key = new_key()
    writer = storage.open_write(key)
    writer.write(b"abc")
    assert files_under(root) == [key + ".part"]
    writer.commit()
    assert files_under(root) == [key]
    mode = stat.S_IMODE((root / key).stat().st_mode)
    assert mode == 0o600  # customers' files are readable by the service account only


def test_local_delete_also_removes_an_unfinished_part(tmp_path: Path) -> None:
    root = tmp_path / "attachments"
    storage = LocalStorage(root)
    key = new_key()
    storage.open_write(key).write(b"abc")
    storage.delete(key)
    assert files_under(root) == []
