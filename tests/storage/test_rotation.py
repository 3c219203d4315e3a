"""Key rotation: every file ends under the current key, atomically, resumably, idempotently;
after it the old key can go."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from critdesk.adapters.storage import REKEY_SUFFIX, EncryptedStorage, LocalStorage, new_key
from critdesk.privacy import rotation
from critdesk.privacy.encryption import MAGIC, UnknownKey
from critdesk.privacy.keys import KeyRing

OLD = ("old", bytes(range(32)))
NEW = ("new", bytes(range(50, 82)))
SECRET = b"api_key=AKIAIOSFODNN7EXAMPLE for nw-prod\n"


def store(root: Path, *entries: tuple[str, bytes]) -> EncryptedStorage:
    return EncryptedStorage(LocalStorage(root), KeyRing(tuple(entries)))


def put(storage: EncryptedStorage | LocalStorage, data: bytes) -> str:
    key = new_key()
    writer = storage.open_write(key)
    writer.write(data)
    writer.commit()
    return key


def read(storage: EncryptedStorage, key: str) -> bytes:
    with storage.open_read(key) as stream:
        return stream.read()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "attachments"


def test_rotation_reseals_old_files_and_plaintext_and_the_old_key_can_then_go(root: Path) -> None:
    before = store(root, OLD)
    contents = {put(before, SECRET * n): SECRET * n for n in (1, 2_000, 40_000)}
    legacy = put(LocalStorage(root), SECRET)  # stored before encryption was turned on
    contents[legacy] = SECRET

    after = store(root, NEW, OLD)
    report = rotation.rotate(after)
    assert (report.scanned, report.resealed, report.sealed, report.already_current) == (4, 3, 1, 0)
    assert report.failed == []

    only_new = store(root, NEW)
    assert rotation.verify(only_new).by_key == {"new": 4}
    for key, data in contents.items():
        assert read(only_new, key) == data
        on_disk = (root / key).read_bytes()
        assert on_disk.startswith(MAGIC) and b"AKIAIOSFODNN7EXAMPLE" not in on_disk
    assert [p for p in root.rglob("*") if p.name.endswith(REKEY_SUFFIX)] == []


def test_a_second_rotation_changes_nothing(root: Path) -> None:
    put(store(root, OLD), SECRET)
    after = store(root, NEW, OLD)
    rotation.rotate(after)
    files = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    again = rotation.rotate(after)
    assert (again.scanned, again.already_current, again.resealed) == (1, 1, 0)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == files


def test_an_interrupted_rotation_resumes_where_it_stopped(root: Path) -> None:
    before = store(root, OLD)
    keys = [put(before, SECRET + str(n).encode()) for n in range(5)]
    after = store(root, NEW, OLD)
    seen: list[str] = []

    def crash_after_two(key: str, outcome: str) -> None:
        seen.append(key)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotation.rotate(after, progress=crash_after_two)
    assert rotation.verify(after, headers_only=True).by_key == {"new": 2, "old": 3}
    resumed = rotation.rotate(after)
    assert (resumed.already_current, resumed.resealed) == (2, 3)
    assert [read(after, k) for k in keys] == [SECRET + str(n).encode() for n in range(5)]


def test_a_crash_mid_file_leaves_the_old_file_whole_and_a_stale_part_is_cleared(
    root: Path,
) -> None:
    key = put(store(root, OLD), SECRET * 1000)
    leftover = root / (key + REKEY_SUFFIX)
    leftover.write_bytes(b"half a re-encryption")
    after = store(root, NEW, OLD)
    busy = rotation.rotate(after)
    assert busy.busy == 1  # a fresh leftover may be another run's: left alone
    assert read(after, key) == SECRET * 1000
    stale = time.time() - 3600
    os.utime(leftover, (stale, stale))
    done = rotation.rotate(after)
    assert done.resealed == 1 and not leftover.exists()
    assert read(store(root, NEW), key) == SECRET * 1000


def test_a_file_deleted_during_rotation_is_not_brought_back(root: Path) -> None:
    key = put(store(root, OLD), SECRET)
    inner = LocalStorage(root)
    writer = inner.open_replace(key)
    writer.write(b"re-sealed bytes")
    inner.delete(key)  # retention or erasure, meanwhile
    with pytest.raises(FileNotFoundError):
        writer.commit()
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_readers_open_during_rotation_keep_reading_the_old_file(root: Path) -> None:
    data = os.urandom(500_000)
    key = put(store(root, OLD), data)
    after = store(root, NEW, OLD)
    with after.open_read(key) as stream:
        first = stream.read(1000)
        assert after.reseal(key) == "resealed"
        rest = stream.read()
    assert first + rest == data


def test_without_the_old_key_unrotated_files_are_reported_not_garbled(root: Path) -> None:
    key = put(store(root, OLD), SECRET)
    report = rotation.verify(store(root, NEW))
    assert report.by_key == {}
    assert report.failed[0][0] == key and "'old'" in report.failed[0][1]
    with pytest.raises(UnknownKey):
        read(store(root, NEW), key)


def test_files_sealed_under_counts_by_header(root: Path) -> None:
    put(store(root, OLD), SECRET)
    put(store(root, NEW, OLD), SECRET)
    put(LocalStorage(root), SECRET)
    both = store(root, NEW, OLD)
    assert rotation.files_sealed_under(both, "old") == 1
    assert rotation.verify(both, headers_only=True).by_key == {
        "new": 1,
        "old": 1,
        rotation.PLAINTEXT: 1,
    }
