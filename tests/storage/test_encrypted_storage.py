"""The encrypting store: unreadable on disk, intact when read back, through every reader the
desk has (downloads, zip listings, log analysis), and old plaintext files still readable."""

from __future__ import annotations

import gzip
import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from critdesk.adapters.storage import (
    EncryptedStorage,
    LocalStorage,
    MemoryStorage,
    RawStorage,
    new_key,
)
from critdesk.attachment import archive
from critdesk.logs.analysis import Analyzer, Options
from critdesk.privacy.encryption import MAGIC, TamperedFile, UnknownKey
from critdesk.privacy.keys import KeyRing

K1 = ("k1", bytes(range(32)))
K2 = ("k2", bytes(range(100, 132)))
SECRET = b"jdbc:postgresql://db.northwind.internal/claims?user=svc&password=Hunter2"
LOG_LINE = (
    "2026-11-25 09:12:03,114 ERROR [exec-7] c.v.runtime.Pool - connection refused to "
    "db.northwind.internal:5432\n"
)


def ring(*entries: tuple[str, bytes]) -> KeyRing:
    return KeyRing(tuple(entries))


@pytest.fixture(params=["local", "memory"])
def inner(request: pytest.FixtureRequest, tmp_path: Path) -> RawStorage:
    if request.param == "local":
        return LocalStorage(tmp_path / "attachments")
    return MemoryStorage()


def raw_bytes(inner: RawStorage, key: str) -> bytes:
    with inner.open_read(key) as stream:
        return stream.read()


def put(storage: EncryptedStorage | RawStorage, data: bytes, step: int = 100_000) -> str:
    key = new_key()
    writer = storage.open_write(key)
    for start in range(0, len(data), step):
        writer.write(memoryview(data)[start : start + step])
    writer.commit()
    return key


def test_files_are_unreadable_on_disk_and_read_back_intact(inner: RawStorage) -> None:
    storage = EncryptedStorage(inner, ring(K1))
    data = (SECRET + b"\n") * 50_000  # 3.6 MB: many chunks
    key = put(storage, data)
    on_disk = raw_bytes(inner, key)
    assert on_disk.startswith(MAGIC)
    for needle in (SECRET, b"Hunter2", b"northwind", b"jdbc:postgresql"):
        assert needle not in on_disk
    with storage.open_read(key) as stream:
        assert stream.read() == data
    assert storage.size(key) == len(data)


@pytest.mark.parametrize("size", [0, 1, 64 * 1024, 64 * 1024 + 1, 3 * 64 * 1024])
def test_edge_sizes_round_trip(inner: RawStorage, size: int) -> None:
    storage = EncryptedStorage(inner, ring(K1))
    data = os.urandom(size)
    key = put(storage, data, step=4096)
    with storage.open_read(key) as stream:
        assert stream.read() == data
    assert storage.size(key) == size


def test_a_sealed_local_file_keeps_mode_0600(tmp_path: Path) -> None:
    storage = EncryptedStorage(LocalStorage(tmp_path / "attachments"), ring(K1))
    key = put(storage, b"x" * 10)
    assert stat.S_IMODE((tmp_path / "attachments" / key).stat().st_mode) == 0o600


def test_an_aborted_sealed_write_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / "attachments"
    storage = EncryptedStorage(LocalStorage(root), ring(K1))
    writer = storage.open_write(new_key())
    writer.write(b"partial" * 100_000)
    writer.abort()
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_plaintext_files_stored_before_encryption_stay_readable(inner: RawStorage) -> None:
    key = put(inner, SECRET)
    storage = EncryptedStorage(inner, ring(K1))
    with storage.open_read(key) as stream:
        assert stream.read() == SECRET
    assert storage.header_of(key) is None
    assert storage.verify(key) is None


def test_a_file_under_an_unconfigured_key_is_refused_by_name(inner: RawStorage) -> None:
    key = put(EncryptedStorage(inner, ring(K2)), SECRET)
    with pytest.raises(UnknownKey, match="'k2'"):
        EncryptedStorage(inner, ring(K1)).open_read(key)


def test_a_tampered_stored_file_raises_a_clear_error(inner: RawStorage) -> None:
    storage = EncryptedStorage(inner, ring(K1))
    key = put(storage, SECRET * 5000)
    damaged = bytearray(raw_bytes(inner, key))
    damaged[len(damaged) // 2] ^= 0x01
    inner.delete(key)
    put_at(inner, key, bytes(damaged))
    with pytest.raises(TamperedFile, match="failed authentication"), storage.open_read(key) as s:
        s.read()


def put_at(inner: RawStorage, key: str, data: bytes) -> None:
    writer = inner.open_write(key)
    writer.write(data)
    writer.commit()


# --- the desk's readers over sealed files ------------------------------------------------------


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive_file:
        for name, content in entries.items():
            archive_file.writestr(name, content)
    return buffer.getvalue()


def test_a_sealed_zip_is_listed_without_decrypting_it_to_disk(tmp_path: Path) -> None:
    root = tmp_path / "attachments"
    storage = EncryptedStorage(LocalStorage(root), ring(K1))
    entries = {
        "logs/runtime.log": os.urandom(300_000),  # random: stored nearly uncompressed
        "project/export.mpk": os.urandom(150_000),
        "README.txt": b"exported from nw-prod",
    }
    data = zip_of(entries)
    key = put(storage, data)
    with storage.open_read(key) as stream:
        listing = archive.list_zip(stream, len(data), archive.ArchiveLimits())
    assert [e["name"] for e in listing] == list(entries)
    assert [e["size"] for e in listing] == [len(v) for v in entries.values()]
    # Only the sealed file is there: nothing was decrypted next to it.
    assert [p.name for p in root.rglob("*") if p.is_file()] == [key.split("/")[-1]]


def test_a_sealed_zip_member_reads_back_through_zipfile() -> None:
    storage = EncryptedStorage(MemoryStorage(), ring(K1))
    content = os.urandom(200_000)
    key = put(storage, zip_of({"a.bin": content, "b.txt": b"hello"}))
    with storage.open_read(key) as stream, zipfile.ZipFile(stream) as opened:
        assert opened.read("a.bin") == content
        assert opened.read("b.txt") == b"hello"


def analyse(storage: EncryptedStorage, key: str, name: str) -> dict:
    analyzer = Analyzer(Options(year=2026))
    with storage.open_read(key) as stream:
        analyzer.add_file(stream, name)
    return analyzer.summary()


def test_a_sealed_log_is_analysed_as_its_plaintext() -> None:
    storage = EncryptedStorage(MemoryStorage(), ring(K1))
    data = (LOG_LINE * 20_000).encode()  # ~2.3 MB, many chunks
    key = put(storage, data)
    summary = analyse(storage, key, "runtime.log")
    assert summary["lines"] == 20_000
    assert summary["levels"] == {"error": 20_000}
    # The same log stored in plaintext (before encryption) gives the same analysis.
    plain_key = put(storage.inner, data)
    assert analyse(storage, plain_key, "runtime.log")["signatures"] == summary["signatures"]


def test_a_sealed_gzip_log_is_analysed() -> None:
    storage = EncryptedStorage(MemoryStorage(), ring(K1))
    key = put(storage, gzip.compress((LOG_LINE * 500).encode()))
    assert analyse(storage, key, "runtime.log.gz")["lines"] == 500
